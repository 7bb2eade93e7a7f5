"""A guide's customers and follow-ups at the counter, and a manager's reassignment request.

Design: open tasks are computed on read from the facts in the counter database
(:func:`posapp.domain.follow_up.tasks_for`); only completions are rows (``follow_up``).
So every change of the facts, whichever path brings it (a sale, an enrolment, a consent
withdrawn here or at HQ, an erasure, HQ moving a customer to another guide), shows in the
next read with nothing to keep in step and no service to remember to call. The cost is a
few indexed queries over one guide's customers per read: milliseconds for thousands.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.follow_up import (
    ContactChannel,
    Facts,
    FollowUpRules,
    Kind,
    Outcome,
    Task,
    parse_task_id,
    task_id,
    tasks_for,
)
from posapp.domain.local_day import local_day
from posapp.domain.phone import DEFAULT_REGION, mask_phone
from posapp.domain.roles import Permission, may_guide
from posapp.protocol.events import FollowUpCompleted, ReassignmentRequested
from posapp.services.common import require_staff
from posapp.services.staff import require
from posapp.services.wecom_contacts import WeComContact, wecom_contacts
from posapp.store.local_days import store_today, store_zone
from posapp.store.lookup import Ledger, Lookup
from posapp.store.models import FollowUp, Member, Staff
from posapp.store.outbox import append_event
from posapp.timefmt import from_text as _dt
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
DEFAULT_RULES = FollowUpRules()

# A guide's customers: assigned to them by HQ, or enrolled by them and not assigned to anyone.
_GUIDES = (
    "m.erased_at IS NULL AND (m.guide_id = :who OR (m.guide_id IS NULL AND m.enrolled_by = :who))"
)
_ONE = "m.erased_at IS NULL AND m.id = :who"


@lru_cache(maxsize=8)
def _parse_rules(body: str) -> FollowUpRules:
    try:
        return FollowUpRules.from_dict(json.loads(body))
    except (ValueError, TypeError):
        log.warning("HQ's follow-up rules are invalid here; using the defaults")
        return DEFAULT_RULES


def follow_up_rules(lookup: Lookup) -> FollowUpRules:
    """HQ's follow-up rules, or the defaults until HQ has sent its own."""
    body = lookup.rule_set("follow_up")
    return _parse_rules(body) if body else DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class FollowUpTask:
    """One open task of one customer, as a list or a table row shows it."""

    id: str
    member_id: str
    kind: Kind
    anchor_on: date
    due_on: date
    overdue: bool


@dataclass(frozen=True, slots=True)
class RungStep:
    """One change of a customer's rung, HQ's record: on the store's local day ``on``."""

    on: date
    from_rung: str
    to_rung: str
    reason: str  # a domain.ladder.MoveReason, or a newer HQ's word


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One line of a guide's "My customers" table; the phone is already masked."""

    member_id: str
    member_code: str
    name: str | None
    phone_masked: str
    rung: str
    last_visit_at: datetime | None
    lifetime_spend_fen: int
    visit_count: int
    repurchases: int  # visits after the first
    referrals: int
    guide_contact: bool  # without it there are no tasks, and the UI should say why
    due: tuple[FollowUpTask, ...]  # due today or overdue, oldest first
    upcoming: tuple[FollowUpTask, ...]  # open but not due yet, soonest first
    wecom: WeComContact | None = None  # the guide's WeCom contact (HQ's word), or not yet
    rung_history: tuple[RungStep, ...] = ()  # oldest first, as HQ recorded it

    @property
    def overdue_count(self) -> int:
        return sum(1 for t in self.due if t.overdue)

    @property
    def next_due_on(self) -> date | None:
        first = self.due or self.upcoming
        return first[0].due_on if first else None


@dataclass(frozen=True, slots=True)
class DueFollowUp:
    """A task due now, with the customer it concerns (masked phone)."""

    task: FollowUpTask
    member_code: str
    name: str | None
    phone_masked: str
    rung: str


@dataclass(frozen=True, slots=True)
class CompletedFollowUp:
    follow_up_id: str
    member_id: str
    kind: Kind
    due_on: date
    done_at: datetime
    staff_id: str | None
    channel: ContactChannel
    outcome: Outcome
    created: bool  # False: it was already done (a double submit); nothing was written


@dataclass(frozen=True, slots=True)
class ReassignmentRequest:
    member_id: str
    from_guide_id: str | None
    to_guide_id: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class _Customer:
    id: str
    member_code: str
    phone_e164: str | None
    name: str | None
    rung: str
    visit_count: int
    lifetime_spend_fen: int
    last_visit_at: datetime | None
    referrals: int
    facts: Facts


def _customers(lookup: Lookup, where: str, who: str) -> list[_Customer]:
    """Members matching ``where`` with the facts their follow-ups are computed from: four
    statements for the whole set, never one per member."""
    params = {"who": who}
    members = lookup.query(
        "SELECT m.id, m.member_code, m.phone_e164, m.name, m.rung, m.visit_count,"
        " m.lifetime_spend_fen, m.last_visit_at, m.referrals, m.birthday, m.enrolled_at,"
        f" m.wecom_removed_at FROM member m WHERE {where}",
        params,
    )
    if not members:
        return []
    consent: dict[str, bool] = {}
    for member_id, granted in lookup.query(
        "SELECT c.member_id, c.granted FROM consent_record c JOIN member m ON m.id = c.member_id"
        f" WHERE {where} AND c.purpose = 'guide_contact' ORDER BY c.id",
        params,
    ):
        consent[member_id] = bool(granted)  # the latest decision wins
    zone = store_zone(lookup)  # a purchase's day, an enrolment's: the store's calendar days
    days: dict[str, set[date]] = defaultdict(set)
    for member_id, at in lookup.query(
        "SELECT p.member_id, p.occurred_at FROM purchase p JOIN member m ON m.id = p.member_id"
        f" WHERE {where}",
        params,
    ):
        days[member_id].add(local_day(datetime.fromisoformat(at), zone))
    done: dict[str, set[tuple[str, date]]] = defaultdict(set)
    for member_id, kind, anchor, due in lookup.query(
        "SELECT f.member_id, f.kind, f.anchor_on, f.due_on FROM follow_up f"
        f" JOIN member m ON m.id = f.member_id WHERE {where} AND f.done_at IS NOT NULL",
        params,
    ):
        done[member_id].add((kind, date.fromisoformat(anchor or due)))
    found = []
    for row in members:
        member_id, last_visit, enrolled = row[0], _dt(row[7]), _dt(row[10])
        bought = days.get(member_id, set())
        if last_visit is not None:
            bought.add(local_day(last_visit, zone))  # HQ's last visit may be at another store
        facts = Facts(
            enrolled_on=local_day(enrolled, zone) if enrolled else date.min,
            purchase_days=tuple(sorted(bought)),
            birthday=date.fromisoformat(row[9]) if row[9] else None,
            guide_contact=consent.get(member_id, False),
            done=frozenset(done.get(member_id, ())),
            removed_guide_on=local_day(removed, zone) if (removed := _dt(row[11])) else None,
        )
        found.append(
            _Customer(member_id, row[1], row[2], row[3], row[4], row[5], row[6], last_visit,
                      row[8], facts)
        )  # fmt: skip
    return found


def _rung_histories(lookup: Lookup, where: str, who: str) -> dict[str, tuple[RungStep, ...]]:
    """The rung changes HQ sent for the members matching ``where``: one statement."""
    zone = store_zone(lookup)
    found: dict[str, list[RungStep]] = defaultdict(list)
    for member_id, at, from_rung, to_rung, reason in lookup.query(
        "SELECT r.member_id, r.at, r.from_rung, r.to_rung, r.reason FROM rung_change r"
        f" JOIN member m ON m.id = r.member_id WHERE {where} ORDER BY r.member_id, r.at, r.id",
        {"who": who},
    ):
        on = local_day(datetime.fromisoformat(at), zone)
        found[member_id].append(RungStep(on, from_rung, to_rung, reason))
    return {member_id: tuple(steps) for member_id, steps in found.items()}


def _view(member_id: str, task: Task, today: date) -> FollowUpTask:
    return FollowUpTask(
        task_id(member_id, task.kind, task.anchor_on),
        member_id,
        task.kind,
        task.anchor_on,
        task.due_on,
        task.is_overdue(today),
    )


def my_customers(
    lookup: Lookup, guide_id: str, today: date, *, region: str = DEFAULT_REGION
) -> list[CustomerRow]:
    """The guide's customers with their open follow-ups: most urgent first, then most recent visit."""
    rules = follow_up_rules(lookup)
    rows = []
    customers = _customers(lookup, _GUIDES, guide_id)
    contacts = wecom_contacts(lookup, [c.id for c in customers])
    histories = _rung_histories(lookup, _GUIDES, guide_id) if customers else {}
    for c in customers:
        tasks = [_view(c.id, t, today) for t in tasks_for(c.facts, rules, today)]
        rows.append(
            CustomerRow(
                member_id=c.id,
                member_code=c.member_code,
                name=c.name,
                phone_masked=mask_phone(c.phone_e164, region) if c.phone_e164 else "",
                rung=c.rung,
                last_visit_at=c.last_visit_at,
                lifetime_spend_fen=c.lifetime_spend_fen,
                visit_count=c.visit_count,
                repurchases=max(c.visit_count - 1, 0),
                referrals=c.referrals,
                guide_contact=c.facts.guide_contact,
                due=tuple(t for t in tasks if t.due_on <= today),
                upcoming=tuple(t for t in tasks if t.due_on > today),
                wecom=contacts.get(c.id),
                rung_history=histories.get(c.id, ()),
            )
        )
    rows.sort(
        key=lambda r: (
            r.next_due_on or date.max,
            -(r.last_visit_at or datetime.min).timestamp() if r.last_visit_at else 0.0,
            r.member_id,
        )
    )
    return rows


def due_follow_ups(
    lookup: Lookup, guide_id: str, today: date, *, region: str = DEFAULT_REGION
) -> list[DueFollowUp]:
    """Every task of the guide's customers that is due today or overdue, oldest first."""
    due = [
        DueFollowUp(task, row.member_code, row.name, row.phone_masked, row.rung)
        for row in my_customers(lookup, guide_id, today, region=region)
        for task in row.due
    ]
    due.sort(key=lambda d: (d.task.due_on, d.task.kind.value, d.task.member_id))
    return due


def open_follow_ups(lookup: Lookup, member_id: str, today: date) -> list[FollowUpTask]:
    """One customer's open tasks (due or coming), e.g. for their card."""
    rules = follow_up_rules(lookup)
    return [
        _view(c.id, t, today)
        for c in _customers(lookup, _ONE, member_id)
        for t in tasks_for(c.facts, rules, today)
    ]


def complete_follow_up(
    session: Session,
    follow_up_id: str,
    staff_id: str | None,
    channel: str,
    outcome: str,
    now: datetime | None = None,
) -> CompletedFollowUp:
    """Record that a follow-up was done (how, and what came of it) and report it to HQ.

    The task must be open now: a task the customer's new purchase replaced, or one their
    withdrawn consent cancelled, is refused. Completing the same task twice writes once.
    """
    now = now or utcnow()
    try:
        member_id, kind, anchor_on = parse_task_id(follow_up_id)
    except ValueError as exc:
        raise InvalidInput("follow_up", "unknown", "No such follow-up.") from exc
    try:
        how, result = ContactChannel(channel), Outcome(outcome)
    except ValueError as exc:
        raise InvalidInput(
            "follow_up", "bad_choice", "Choose how the customer was contacted and the outcome."
        ) from exc
    require_staff(session, staff_id)
    earlier = session.get(FollowUp, follow_up_id)
    if earlier is not None and earlier.done_at is not None:
        return CompletedFollowUp(
            follow_up_id, member_id, kind, earlier.due_on, earlier.done_at, earlier.guide_id,
            ContactChannel(earlier.channel or how), Outcome(earlier.outcome or result), False,
        )  # fmt: skip
    ledger = Ledger.within(session)
    task = next(
        (t for t in open_follow_ups(ledger, member_id, store_today(ledger, now))
         if t.id == follow_up_id),
        None,
    )  # fmt: skip
    if task is None:
        raise InvalidInput(
            "follow_up",
            "not_open",
            "This follow-up is no longer open (a new purchase, a withdrawn consent, or expired).",
        )
    session.add(
        FollowUp(
            id=follow_up_id, member_id=member_id, guide_id=staff_id, kind=kind.value,
            anchor_on=anchor_on, due_on=task.due_on, done_at=now, channel=how.value,
            outcome=result.value,
        )
    )  # fmt: skip
    session.flush()
    append_event(
        ledger,
        FollowUpCompleted(
            follow_up_id=follow_up_id, member_id=member_id, kind=kind.value, anchor_on=anchor_on,
            due_on=task.due_on, staff_id=staff_id, channel=how.value, outcome=result.value,
            completed_at=now,
        ),  # type: ignore[arg-type]
        now=now,
    )  # fmt: skip
    return CompletedFollowUp(
        follow_up_id, member_id, kind, task.due_on, now, staff_id, how, result, True
    )


def completed_follow_ups(lookup: Lookup, member_id: str) -> list[CompletedFollowUp]:
    """A customer's follow-up history, newest first (who, how, what came of it)."""
    rows = lookup.query(
        "SELECT id, kind, due_on, done_at, guide_id, channel, outcome FROM follow_up"
        " WHERE member_id = ? AND done_at IS NOT NULL ORDER BY done_at DESC",
        (member_id,),
    )
    return [
        CompletedFollowUp(r[0], member_id, Kind(r[1]), date.fromisoformat(r[2]),
                          datetime.fromisoformat(r[3]), r[4], ContactChannel(r[5]), Outcome(r[6]),
                          False)
        for r in rows
    ]  # fmt: skip


def request_reassignment(
    session: Session,
    member_id: str,
    to_guide_id: str,
    manager_id: str,
    now: datetime | None = None,
) -> ReassignmentRequest:
    """A manager asks HQ to move a customer to another guide. HQ owns assignments (and the
    WeCom limit of two transfers in 90 days): nothing changes here until HQ's answer arrives
    with the member's data; a refusal arrives as a rejected event with HQ's reason."""
    now = now or utcnow()
    require(session, manager_id, Permission.REASSIGN_CUSTOMER, subject_id=member_id, now=now)
    member = session.execute(
        select(Member.guide_id).where(Member.id == member_id, Member.erased_at.is_(None))
    ).one_or_none()
    if member is None:
        raise InvalidInput("member", "unknown", "No such member at this store.")
    role = session.scalar(select(Staff.role).where(Staff.id == to_guide_id, Staff.active.is_(True)))
    if not may_guide(role):
        raise InvalidInput("guide", "unknown", "Choose a guide of this store.")
    if member.guide_id == to_guide_id:
        raise InvalidInput("guide", "same", "This customer already has this guide.")
    append_event(
        Ledger.within(session),
        ReassignmentRequested(
            member_id=member_id, to_guide_id=to_guide_id, manager_id=manager_id, requested_at=now
        ),
        now=now,
    )
    return ReassignmentRequest(member_id, member.guide_id, to_guide_id, now)
