"""HQ's use of the WeCom adapter, in one object on ``app.state.wecom`` (``None`` while WeCom
is not configured): what the callback route, the join page, the admin and the background
worker call. Every method that may reach WeCom runs outside HQ's transactions and never
raises a WeCom failure into its caller: a WeCom that is down, slow or answering garbage
leaves sync, redeem and the join page as they were, and the work is retried later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from posapp.hq.console.audit import Who
from posapp.hq.db import HqDatabase
from posapp.hq.feed import emit, member_changes, staff_change
from posapp.hq.models import Assignment, Member, Staff
from posapp.hq.wecom.callbacks import (
    accept_callback,
    forget_processed,
    process_callbacks,
    verify_url,
)
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.contact_ways import (
    ContactQr,
    Swept,
    contact_way_for_invite,
    guide_departed,
    guide_userid,
    set_guide_userid,
    sweep_contact_ways,
)
from posapp.hq.wecom.errors import WeComError
from posapp.hq.wecom.gateway import SdkGateway, WeComGateway
from posapp.hq.wecom.links import attach_member
from posapp.hq.wecom.models import WeComGuide, WeComLink, WeComTransfer
from posapp.hq.wecom.transfers import Outcome, moves_for_members, poll_transfers, transfer_customers
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
KEEP_PROCESSED = timedelta(days=30)


def announce(session: Session, member_ids: Iterable[str], *, now: datetime | None = None) -> None:
    """The members' new data (their WeCom contact with it) to every store that holds them,
    in the caller's sequenced write."""
    emit(session, member_changes(session, member_ids), now=now or utcnow())


def attach_redeemer(session: Session, invite_token: str, member_id: str) -> None:
    """After a redemption, in its write: a customer who added the guide before joining is
    now this member (and the stores hear of it). Pure bookkeeping, WeCom on or off."""
    if attach_member(session, invite_token, member_id):
        announce(session, [member_id])


@dataclass(frozen=True, slots=True)
class Periodic:
    """What one hourly round did, for the log."""

    transfers: list[Outcome]
    swept: Swept | None
    forgotten: int


class WeComService:
    def __init__(
        self,
        database: HqDatabase,
        settings: WeComSettings,
        gateway: WeComGateway | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings
        self.gateway: WeComGateway = gateway or SdkGateway(settings, database.transaction)
        self.clock = clock

    @classmethod
    def configured(
        cls, database: HqDatabase, settings: WeComSettings | None = None
    ) -> WeComService | None:
        """The service when the environment configures WeCom (``POSAPP_HQ_WECOM_CORP_ID``
        and the secret), else ``None``: nothing at HQ then calls WeCom."""
        settings = settings or WeComSettings()
        return cls(database, settings) if settings.enabled else None

    # --- the callback ----------------------------------------------------------------------

    def verify(self, query: Mapping[str, str]) -> str:
        """The URL check's answer; ``BadSignature`` if the GET was not WeCom's."""
        return verify_url(self.settings, query.get("msg_signature", ""),
                          query.get("timestamp", ""), query.get("nonce", ""),
                          query.get("echostr", ""))  # fmt: skip

    def accept(self, query: Mapping[str, str], body: bytes) -> bool:
        """Store the event (True) or recognise a retry (False); ``BadSignature`` if forged."""
        with self.database.transaction() as session:
            return accept_callback(session, self.settings, query, body, now=self.clock())

    def process(self, limit: int = 200) -> int:
        """Work up to ``limit`` stored callbacks (how many it took); each event's member
        changes go down with it."""
        return process_callbacks(self.database.write, self.gateway, self.settings,
                                 now=self.clock(), limit=limit, on_members=announce)  # fmt: skip

    # --- the join page ---------------------------------------------------------------------

    def invite_qr(
        self, token: str, staff_id: str | None, store_id: str, expires_at: datetime
    ) -> str | None:
        """The guide's contact QR (an image URL) for this invite, or ``None``: no guide, no
        WeCom userid, or WeCom refused or is unreachable (the page is then as before)."""
        if staff_id is None:
            return None
        with self.database.read() as session:
            userid = guide_userid(session, staff_id)
        if userid is None:
            return None
        try:
            qr: ContactQr = contact_way_for_invite(
                self.database.transaction, self.gateway, token, userid, staff_id=staff_id,
                store_id=store_id, expires_at=expires_at, now=self.clock(),
            )  # fmt: skip
        except (WeComError, ValueError) as exc:
            log.warning("no WeCom contact QR for an invite: %s", type(exc).__name__)
            return None
        if qr.qr_code is None:
            log.info("no WeCom contact QR for an invite (%s)", qr.rule)
        return qr.qr_code

    # --- admin -----------------------------------------------------------------------------

    def set_userid(self, staff_id: str, userid: str, *, who: Who | None = None) -> ContactQr:
        """The guide's WeCom account (kept whatever WeCom says) and their card's QR; ``who``
        asked, on the audit log in the same transaction (the staff id, not the userid);
        ``None`` only for HQ's own setup (the demo)."""

        def then(session: Session, staff: Staff) -> None:
            self._tell_store(session, staff)
            if who is not None:
                who.record(session, action="staff.wecom_userid", now=self.clock(),
                           target=staff.id, store_id=staff.store_id)  # fmt: skip

        return set_guide_userid(self.database.write, self.gateway, staff_id, userid,
                                now=self.clock(), then=then)  # fmt: skip

    def _tell_store(self, session: Session, staff: Staff) -> None:
        """The guide's counters show whether customers can add them in WeCom."""
        emit(session, [staff_change(session, staff)], now=self.clock())

    def departed(self, staff_id: str, *, who: Who) -> str | None:
        """Mark the guide departed; their WeCom userid, or ``None`` if they had none (then
        nothing changed, and nothing is recorded)."""
        with self.database.write() as session:  # sequenced: the store's counters hear of it
            guide = session.get(WeComGuide, staff_id)
            if guide is None:
                return None
            guide_departed(session, staff_id, now=self.clock())
            staff = session.get(Staff, staff_id)
            if staff is not None:
                session.flush()
                self._tell_store(session, staff)
            who.record(session, action="staff.wecom_departed", now=self.clock(), target=staff_id,
                       store_id=staff.store_id if staff is not None else None)  # fmt: skip
            return guide.userid

    # --- reassignments ---------------------------------------------------------------------

    def follow_assignments(self) -> list[Outcome]:
        """Every member reassigned at HQ since they became a guide's WeCom contact, and not
        yet asked to move, goes to the new guide in WeCom (one bulk call, ≤ 100 a request).

        Read from the database, not from a message: a reassignment made by the API, the CLI
        or a store's request is followed, and one missed by a crash is followed next time.
        """
        latest = (
            select(Assignment.member_id, func.max(Assignment.assigned_at).label("at"))
            .group_by(Assignment.member_id)
            .subquery()
        )
        asked = exists().where(
            WeComTransfer.member_id == WeComLink.member_id,
            WeComTransfer.requested_at >= latest.c.at,
        )
        with self.database.read() as session:
            reassigned = session.execute(
                select(WeComLink.member_id, Member.guide_id)
                .join(Member, Member.id == WeComLink.member_id)
                .join(latest, latest.c.member_id == WeComLink.member_id)
                .where(
                    WeComLink.ended_at.is_(None),
                    Member.guide_id.is_not(None),
                    Member.erased_at.is_(None),
                    or_(WeComLink.staff_id.is_(None), WeComLink.staff_id != Member.guide_id),
                    latest.c.at > WeComLink.since,
                    ~asked,
                )
            ).all()
            moves = moves_for_members(session, [(r.member_id, r.guide_id) for r in reassigned])
        if not moves:
            return []
        return transfer_customers(self.database.transaction, self.gateway, moves,
                                  now=self.clock())  # fmt: skip

    # --- hourly ----------------------------------------------------------------------------

    def hourly(self) -> Periodic:
        """Transfers' outcomes (an accepted one moves the link: the stores hear of it),
        contact ways no longer needed deleted, old processed callbacks forgotten."""
        now = self.clock()
        outcomes = poll_transfers(self.database.transaction, self.gateway, now=now)
        moved = [o.member_id for o in outcomes if o.status == "accepted" and o.member_id]
        if moved:
            with self.database.write() as session:
                announce(session, moved, now=now)
        swept = None
        try:
            swept = sweep_contact_ways(self.database.transaction, self.gateway, now=now)
        except WeComError as exc:
            log.warning("WeCom contact ways not swept: %s", exc)
        with self.database.transaction() as session:
            forgotten = forget_processed(session, now - KEEP_PROCESSED)
        return Periodic(outcomes, swept, forgotten)
