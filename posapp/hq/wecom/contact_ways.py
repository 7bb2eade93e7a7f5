"""WeCom contact ways ("contact me" QR codes) HQ makes: one per guide-contact invite, and a
permanent one per guide for the printed card and the store standee.

WeCom keeps at most 500,000 API-made contact ways per corp and never shows them in its
admin console (add_contact_way, path 92228): each one made here is recorded before it is
shown and deleted once the customer has added the guide or the invite expired, and
``sweep_contact_ways`` deletes any WeCom still holds that HQ has no live record of.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posapp.domain.invite import INVITE_DAYS, TOKEN_LENGTH
from posapp.hq.models import Staff
from posapp.hq.wecom.errors import WeComError, WeComRefused
from posapp.hq.wecom.gateway import ContactWay, WeComGateway
from posapp.hq.wecom.models import WeComContactWay, WeComGuide
from posapp.hq.wecom.tokens import Sessions
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
STATE_LIMIT = 30  # characters of a contact way's state (add_contact_way, path 92228)
assert TOKEN_LENGTH <= STATE_LIMIT  # the invite token is the state as it is
ORPHAN_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ContactQr:
    """The guide's contact QR for the page, or why there is none (``rule``); the page then
    shows what it showed before WeCom: nothing breaks."""

    qr_code: str | None
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an added customer came from, read from the contact way's state."""

    token: str | None
    staff_id: str | None
    store_id: str | None


def guide_code(staff_no: int) -> str:
    """The permanent way's state: short, and never 30 characters, so never an invite token."""
    return f"G{staff_no}"


def guide_userid(session: Session, staff_id: str) -> str | None:
    guide = session.get(WeComGuide, staff_id)
    return guide.userid if guide is not None and guide.departed_at is None else None


def contact_way_for_invite(
    sessions: Sessions,
    gateway: WeComGateway,
    invite_token: str,
    guide_userid: str,
    *,
    staff_id: str | None = None,
    store_id: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> ContactQr:
    """The guide's WeCom QR for this invite (``state`` = the token), made once and cached.

    WeCom is called between short transactions, never inside one: a slow WeCom must not
    hold HQ's writer (on SQLite, the one writer every counter's sync waits for).
    """
    moment = now or utcnow()
    if len(invite_token) > STATE_LIMIT:
        raise ValueError("an invite token longer than a contact way's state")
    with sessions() as session:
        cached = session.get(WeComContactWay, invite_token)
        if cached is not None and cached.userid == guide_userid:
            if cached.deleted_at is None:
                return ContactQr(cached.qr_code)
            if cached.added_at is not None:
                return ContactQr(None, "already_added")
        stale = cached.config_id if cached is not None and cached.deleted_at is None else None
    way = _make_way(gateway, guide_userid, invite_token, "posapp invite")
    if isinstance(way, ContactQr):
        return way
    if stale is not None:  # made for a guide whose userid has changed since
        _delete_way(gateway, stale)
    try:
        with sessions() as session:
            old = session.get(WeComContactWay, invite_token)
            if old is not None and (old.config_id == stale or old.deleted_at is not None):
                session.delete(old)
                session.flush()
            session.add(
                WeComContactWay(
                    token=invite_token, config_id=way.config_id, qr_code=way.qr_code,
                    userid=guide_userid, staff_id=staff_id, store_id=store_id, created_at=moment,
                    expires_at=expires_at or moment + timedelta(days=INVITE_DAYS),
                )
            )  # fmt: skip
    except IntegrityError:  # another request made one for this invite at the same moment
        _delete_way(gateway, way.config_id)
        with sessions() as session:
            other = session.get(WeComContactWay, invite_token)
            return ContactQr(other.qr_code if other is not None else None)
    return ContactQr(way.qr_code)


def _make_way(
    gateway: WeComGateway, userid: str, state: str, remark: str
) -> ContactWay | ContactQr:
    """The new contact way, or the ``ContactQr`` saying why WeCom made none."""
    try:
        return gateway.add_contact_way(userid, state, remark=remark)
    except WeComRefused as exc:
        return ContactQr(None, exc.rule)
    except WeComError:
        return ContactQr(None, "unavailable")


def _delete_way(gateway: WeComGateway, config_id: str) -> bool:
    """True once WeCom no longer holds it (deleted now, or refused: it knows no such way)."""
    try:
        gateway.del_contact_way(config_id)
    except WeComRefused as exc:
        log.info("WeCom refused to delete contact way (%s): taken as gone", exc.rule)
    except WeComError:
        return False
    return True


def release_contact_way(
    sessions: Sessions,
    gateway: WeComGateway,
    invite_token: str,
    *,
    added: bool,
    now: datetime | None = None,
) -> bool:
    """The invite's contact way is done with (the customer added the guide, or it expired)."""
    moment = now or utcnow()
    with sessions() as session:
        way = session.get(WeComContactWay, invite_token)
        if way is None or way.deleted_at is not None:
            return False
        if added and way.added_at is None:
            way.added_at = moment
        config_id = way.config_id
    if not _delete_way(gateway, config_id):
        return False  # the sweep deletes it later
    with sessions() as session:
        session.execute(
            update(WeComContactWay)
            .where(WeComContactWay.token == invite_token)
            .values(deleted_at=moment)
        )
    return True


@dataclass(frozen=True, slots=True)
class Swept:
    deleted: int
    orphans: int
    left: int  # WeCom unreachable: tried again at the next sweep


def sweep_contact_ways(
    sessions: Sessions, gateway: WeComGateway, *, now: datetime | None = None
) -> Swept:
    """Delete every contact way whose invite expired or was used, and any WeCom holds that
    HQ made (within the window) but has no live record of (a commit that never happened).
    Run it periodically (hourly is plenty)."""
    moment = now or utcnow()
    with sessions() as session:
        done = list(
            session.scalars(
                select(WeComContactWay.config_id).where(
                    WeComContactWay.deleted_at.is_(None),
                    (WeComContactWay.expires_at < moment) | WeComContactWay.added_at.is_not(None),
                )
            )
        )
    gone = [config_id for config_id in done if _delete_way(gateway, config_id)]
    if gone:
        with sessions() as session:
            session.execute(
                update(WeComContactWay)
                .where(WeComContactWay.config_id.in_(gone))
                .values(deleted_at=moment)
            )
    left = len(done) - len(gone)
    try:
        made = gateway.list_contact_ways(
            int((moment - ORPHAN_WINDOW).timestamp()), int(moment.timestamp())
        )
    except WeComError:
        return Swept(len(gone), 0, left + 1)
    with sessions() as session:
        live = select(WeComContactWay.config_id).where(WeComContactWay.deleted_at.is_(None))
        cards = select(WeComGuide.config_id).where(WeComGuide.config_id.is_not(None))
        known = set(session.scalars(live)) | set(session.scalars(cards))
    orphans = 0
    for config_id in made:
        if config_id not in known:
            if _delete_way(gateway, config_id):
                orphans += 1
            else:
                left += 1
    return Swept(len(gone), orphans, left)


def set_guide_userid(
    sessions: Sessions,
    gateway: WeComGateway,
    staff_id: str,
    userid: str,
    *,
    now: datetime | None = None,
    then: Callable[[Session, Staff], None] | None = None,
) -> ContactQr:
    """Give a guide a WeCom userid (admin CLI/API); the permanent contact way follows it.
    ``then`` runs in the transaction that keeps the userid (telling the guide's store).

    The userid is kept whatever WeCom says; a card WeCom could not make is made by the
    next call (or ``ensure_guide_way``)."""
    moment = now or utcnow()
    with sessions() as session:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise LookupError(f"no staff {staff_id}")
        guide = session.get(WeComGuide, staff_id)
        if guide is None:
            guide = WeComGuide(staff_id=staff_id, guide_code=guide_code(staff.staff_no),
                               userid=userid, updated_at=moment)  # fmt: skip
            session.add(guide)
        guide.userid, guide.departed_at, guide.updated_at = userid, None, moment
        if then is not None:
            session.flush()
            then(session, staff)
    return ensure_guide_way(sessions, gateway, staff_id, now=moment)


def ensure_guide_way(
    sessions: Sessions, gateway: WeComGateway, staff_id: str, *, now: datetime | None = None
) -> ContactQr:
    """The guide's permanent QR, made again when the userid changed (or the last try failed)."""
    moment = now or utcnow()
    with sessions() as session:
        guide = session.get(WeComGuide, staff_id)
        if guide is None:
            return ContactQr(None, "no_userid")
        if guide.config_id is not None and guide.way_userid == guide.userid:
            return ContactQr(guide.qr_code)
        old, userid, code = guide.config_id, guide.userid, guide.guide_code
    if old is not None:
        if not _delete_way(gateway, old):
            return ContactQr(None, "unavailable")
        with sessions() as session:
            session.execute(
                update(WeComGuide).where(WeComGuide.staff_id == staff_id)
                .values(config_id=None, qr_code=None, way_userid=None)
            )  # fmt: skip
    way = _make_way(gateway, userid, code, "posapp guide card")
    if isinstance(way, ContactQr):
        return way
    with sessions() as session:
        session.execute(
            update(WeComGuide).where(WeComGuide.staff_id == staff_id)
            .values(config_id=way.config_id, qr_code=way.qr_code, way_userid=userid,
                    updated_at=moment)
        )  # fmt: skip
    return ContactQr(way.qr_code)


def guide_departed(session: Session, staff_id: str, *, now: datetime | None = None) -> None:
    """The guide left: their customers go through the resigned transfer from now on."""
    guide = session.get(WeComGuide, staff_id)
    if guide is not None:
        guide.departed_at = now or utcnow()


def state_origin(session: Session, state: str, userid: str) -> Origin:
    """The invite (a token HQ put in a contact way), the guide's card, or only the guide."""
    if state:
        way = session.get(WeComContactWay, state)
        if way is not None:
            return Origin(way.token, way.staff_id, way.store_id)
        guide = session.scalar(select(WeComGuide).where(WeComGuide.guide_code == state))
        if guide is not None:
            return Origin(None, guide.staff_id, _store_of(session, guide.staff_id))
    guide = session.scalar(select(WeComGuide).where(WeComGuide.userid == userid).limit(1))
    if guide is not None:
        return Origin(None, guide.staff_id, _store_of(session, guide.staff_id))
    return Origin(None, None, None)


def _store_of(session: Session, staff_id: str) -> str | None:
    staff = session.get(Staff, staff_id)
    return staff.store_id if staff is not None else None
