"""Customers follow their guide's reassignment into WeCom (在职继承 / 离职继承).

``transfer_customers`` sends the moves, at most 100 customers a call, and records each
customer's answer; WeCom completes a move after 24 h unless the customer refuses, so
``poll_transfers`` asks ``transfer_result`` and records the outcome (and moves the link).
A departed guide's customers go through the resigned variant. HQ's two-transfers-in-
90-days rule is enforced before (posapp.hq.assignment); WeCom's own refusal (40128) is
recorded as ``transfer_limit`` all the same.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from posapp.hq.wecom import links
from posapp.hq.wecom.errors import RULES, WeComError, WeComRefused
from posapp.hq.wecom.gateway import TRANSFER_BATCH, WeComGateway
from posapp.hq.wecom.models import WeComGuide, WeComLink, WeComTransfer
from posapp.hq.wecom.tokens import Sessions
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
# transfer_result's status (path 94088) and what HQ records.
RESULTS = {1: "accepted", 2: "waiting", 3: "refused", 4: "limit", 5: "none"}
SENDING = "sending"  # claimed by the one caller asking WeCom now
RECLAIM_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Move:
    external_userid: str
    handover_userid: str
    takeover_userid: str
    member_id: str | None = None
    assignment_id: int | None = None
    resigned: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """One customer's transfer as HQ recorded it; ``rule`` names WeCom's refusal."""

    external_userid: str
    member_id: str | None
    status: str
    rule: str | None = None


def moves_for_members(
    session: Session,
    changes: Iterable[tuple[str, str]],
    *,
    assignment_ids: dict[str, int] | None = None,
) -> list[Move]:
    """The WeCom moves of HQ reassignments ``(member_id, new guide's staff_id)``: one per
    member who is a contact of a guide with a WeCom account, when the new guide has one."""
    moves = []
    for member_id, to_staff_id in changes:
        taker = session.get(WeComGuide, to_staff_id)
        if taker is None or taker.departed_at is not None:
            continue
        for link in session.scalars(
            select(WeComLink).where(WeComLink.member_id == member_id, WeComLink.ended_at.is_(None))
        ):
            if link.userid == taker.userid:
                continue
            giver = session.scalar(
                select(WeComGuide).where(WeComGuide.userid == link.userid).limit(1)
            )
            moves.append(
                Move(link.external_userid, link.userid, taker.userid, member_id,
                     (assignment_ids or {}).get(member_id),
                     resigned=giver is not None and giver.departed_at is not None)
            )  # fmt: skip
    return moves


def transfer_customers(
    sessions: Sessions, gateway: WeComGateway, moves: Sequence[Move], *, now: datetime | None = None
) -> list[Outcome]:
    """Ask WeCom to move these customers; every one gets a recorded outcome, none raises.

    A bulk reassignment (every customer of a guide who leaves) is one call of this: at
    most 100 customers a WeCom call, one transaction per call's answers."""
    moment = now or utcnow()
    with sessions() as session:
        rows = [
            WeComTransfer(
                external_userid=m.external_userid, handover_userid=m.handover_userid,
                takeover_userid=m.takeover_userid, member_id=m.member_id,
                assignment_id=m.assignment_id, resigned=m.resigned, status=SENDING,
                requested_at=moment, checked_at=moment,
            )
            for m in moves
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        pending = [_Pending.of(row) for row in rows]
    _send(sessions, gateway, pending, moment)
    return [p.outcome() for p in pending]


@dataclass
class _Pending:
    """A transfer row's fields, kept between transactions while WeCom is asked."""

    id: int
    external_userid: str
    handover_userid: str
    takeover_userid: str
    member_id: str | None
    resigned: bool
    status: str
    errcode: int | None = None

    @classmethod
    def of(cls, row: WeComTransfer) -> _Pending:
        return cls(row.id, row.external_userid, row.handover_userid, row.takeover_userid,
                   row.member_id, row.resigned, row.status, row.errcode)  # fmt: skip

    def outcome(self) -> Outcome:
        rule = RULES.get(self.errcode or 0, "refused") if self.status == "rejected" else None
        return Outcome(self.external_userid, self.member_id, self.status, rule)


def _groups(items: Iterable[_Pending]) -> dict[tuple[str, str, bool], list[_Pending]]:
    groups: dict[tuple[str, str, bool], list[_Pending]] = defaultdict(list)
    for item in items:
        groups[(item.handover_userid, item.takeover_userid, item.resigned)].append(item)
    return groups


def _send(sessions: Sessions, gateway: WeComGateway, items: list[_Pending], now: datetime) -> None:
    for (handover, takeover, resigned), group in _groups(items).items():
        for start in range(0, len(group), TRANSFER_BATCH):
            batch = group[start : start + TRANSFER_BATCH]
            try:
                answers = gateway.transfer_customers(
                    handover, takeover, [p.external_userid for p in batch], resigned=resigned
                )
            except WeComRefused as exc:
                codes = {p.external_userid: exc.code for p in batch}
            except WeComError as exc:
                log.warning("WeCom transfer of %d customers not sent: %s", len(batch), exc)
                _unsent(sessions, batch)  # poll_transfers sends them again
                continue
            else:
                codes = {a.external_userid: a.errcode for a in answers}
            unanswered = [p for p in batch if codes.get(p.external_userid) is None]
            if unanswered:
                _unsent(sessions, unanswered)
            with sessions() as session:
                for item in batch:
                    code = codes.get(item.external_userid)
                    if code is None:
                        continue
                    item.errcode, item.status = code, "waiting" if code == 0 else "rejected"
                    session.execute(
                        update(WeComTransfer).where(WeComTransfer.id == item.id)
                        .values(status=item.status, errcode=code, checked_at=now)
                    )  # fmt: skip


def _unsent(sessions: Sessions, batch: list[_Pending]) -> None:
    for item in batch:
        item.status = "unsent"
    with sessions() as session:
        session.execute(
            update(WeComTransfer)
            .where(WeComTransfer.id.in_([p.id for p in batch]), WeComTransfer.status == SENDING)
            .values(status="unsent")
        )


def _claim_unsent(sessions: Sessions, now: datetime) -> list[_Pending]:
    """The unsent transfers this caller sends (two HQ workers never send one twice: WeCom
    would refuse the second as already in progress); a claim left by a crash is retaken."""
    with sessions() as session:
        session.execute(
            update(WeComTransfer)
            .where(WeComTransfer.status == SENDING, WeComTransfer.checked_at < now - RECLAIM_AFTER)
            .values(status="unsent")
        )
        ids = list(
            session.scalars(
                update(WeComTransfer)
                .where(WeComTransfer.status == "unsent")
                .values(status=SENDING, checked_at=now)
                .returning(WeComTransfer.id)
            )
        )
        rows = session.scalars(
            select(WeComTransfer).where(WeComTransfer.id.in_(ids)).order_by(WeComTransfer.id)
        )
        return [_Pending.of(r) for r in rows] if ids else []


def poll_transfers(
    sessions: Sessions, gateway: WeComGateway, *, now: datetime | None = None
) -> list[Outcome]:
    """Send what could not be sent, then record what WeCom says of the waiting transfers;
    the outcomes that changed. An accepted transfer moves the customer's link. Run it
    periodically (hourly: WeCom completes a transfer 24 h after it was asked)."""
    moment = now or utcnow()
    unsent = _claim_unsent(sessions, moment)
    _send(sessions, gateway, unsent, moment)
    changed = [p.outcome() for p in unsent if p.status != "unsent"]
    with sessions() as session:
        waiting = [_Pending.of(r) for r in session.scalars(
            select(WeComTransfer).where(WeComTransfer.status == "waiting"))]  # fmt: skip
    for (handover, takeover, resigned), group in _groups(waiting).items():
        try:
            states = gateway.transfer_results(handover, takeover, resigned=resigned)
        except WeComError as exc:
            log.warning("WeCom transfer results not read: %s", exc)
            continue
        by_customer = {s.external_userid: s for s in states}
        with sessions() as session:
            for item in group:
                state = by_customer.get(item.external_userid)
                if state is None:
                    continue
                row = session.get(WeComTransfer, item.id)
                if row is None:
                    continue
                row.checked_at = moment
                status = RESULTS.get(state.status, "none")
                if status == row.status:
                    continue
                row.status = item.status = status
                if status == "accepted":
                    row.takeover_at = (
                        datetime.fromtimestamp(state.takeover_time, UTC).replace(tzinfo=None)
                        if state.takeover_time
                        else moment
                    )
                    _move_link(session, row, moment)
                changed.append(item.outcome())
    return changed


def _move_link(session: Session, row: WeComTransfer, now: datetime) -> None:
    old = links.open_link(session, row.external_userid, row.handover_userid)
    if old is not None:
        links.end_link(session, old, links.TRANSFERRED, now)
        session.flush()
    if links.open_link(session, row.external_userid, row.takeover_userid) is None:
        taker = session.scalar(
            select(WeComGuide).where(WeComGuide.userid == row.takeover_userid).limit(1)
        )
        session.add(
            WeComLink(
                external_userid=row.external_userid,
                external_hash=links.external_hash(row.external_userid),
                userid=row.takeover_userid,
                staff_id=taker.staff_id if taker is not None else None,
                member_id=row.member_id or (old.member_id if old is not None else None),
                store_id=old.store_id if old is not None else None,
                invite_token=None,
                state=None,
                since=row.takeover_at or now,
                welcomed=True,
            )
        )
