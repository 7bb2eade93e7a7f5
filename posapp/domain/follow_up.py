"""A guide's follow-ups: which tasks a customer's history calls for, and when they are due.

Pure and deterministic. Open tasks are *computed* from the facts (enrolment, purchases,
birthday, consent, erasure, tasks already done), never stored: a new sale, a withdrawn
consent or an erasure changes the facts, and the tasks follow at the next read with no
bookkeeping to keep in step. Only completions are recorded, keyed by ``(kind, anchor_on)``:
the fact a task grew from (the enrolment day, the purchase day, the birthday's date).
Rules are data (HQ's ``follow_up`` rule set); these are defaults.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from posapp.domain.ladder import MAX_RULE_DAYS


class Kind(StrEnum):
    THANK_YOU = "thank_you"
    CARE_CHECK = "care_check"
    REPURCHASE = "repurchase"
    BIRTHDAY = "birthday"
    WIN_BACK = "win_back"


class ContactChannel(StrEnum):
    """How the guide reached the customer."""

    WECOM = "wecom"
    PHONE = "phone"
    IN_STORE = "in_store"


class Outcome(StrEnum):
    """What came of it: a fixed set of codes, never free text (free text invites personal data)."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VISIT_PLANNED = "visit_planned"
    NOT_INTERESTED = "not_interested"


@dataclass(frozen=True, slots=True)
class FollowUpRules:
    """When each kind of task falls due; HQ sends its own, these are defaults.

    ``repurchase_default_days`` stands for a category's default interval: sales carry no
    product category yet, so one store-wide default applies to customers with fewer than
    two purchase days. ``expire_after_days``: a task not done that long after it fell due is
    dropped (a thank-you a month late does more harm than good).
    """

    thank_you_after_days: int = 1
    care_check_after_days: int = 7
    repurchase_default_days: int = 60
    repurchase_min_days: int = 14
    repurchase_max_days: int = 365
    birthday_lead_days: int = 0
    win_back_after_days: int = 120
    expire_after_days: int = 14

    def __post_init__(self) -> None:
        # Rules arrive as JSON: a wrong type must fail here, at HQ's admin, not on every till.
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"follow-up rule {name} must be a whole number")
            if value < 0:
                raise ValueError(f"follow-up rule {name} must not be negative")
            if value > MAX_RULE_DAYS:
                raise ValueError(f"follow-up rule {name} must be at most {MAX_RULE_DAYS} days")
        if self.repurchase_min_days > self.repurchase_max_days:
            raise ValueError("follow-up rule repurchase_min_days exceeds repurchase_max_days")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollowUpRules:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know of one customer."""

    enrolled_on: date
    purchase_days: tuple[date, ...] = ()
    birthday: date | None = None
    guide_contact: bool = False
    erased: bool = False
    # The customer removed the guide in WeCom that day (and has not added them again): the
    # guide's win-back is due at once, not after months of silence.
    removed_guide_on: date | None = None
    done: frozenset[tuple[str, date]] = frozenset()  # (kind, anchor_on) already completed


@dataclass(frozen=True, slots=True, order=True)
class Task:
    """One open task: ``anchor_on`` is the fact it grew from, ``due_on`` when to act."""

    due_on: date
    kind: Kind
    anchor_on: date

    def is_due(self, today: date) -> bool:
        return self.due_on <= today

    def is_overdue(self, today: date) -> bool:
        return self.due_on < today


def typical_interval(purchase_days: tuple[date, ...], rules: FollowUpRules) -> int:
    """The customer's own rhythm: the median gap between purchase days, within the rules' bounds;
    the default when there are fewer than two purchase days."""
    days = sorted(set(purchase_days))
    if len(days) < 2:
        return rules.repurchase_default_days
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    median = round(statistics.median(gaps))
    return min(max(median, rules.repurchase_min_days), rules.repurchase_max_days)


def _birthday_in(birthday: date, year: int) -> date:
    try:
        return birthday.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def _shift(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def tasks_for(facts: Facts, rules: FollowUpRules, today: date) -> list[Task]:
    """The customer's open tasks (due, overdue or coming), soonest first; at most one per kind.

    None at all without ``guide_contact`` consent or after erasure. A task done (its
    ``(kind, anchor_on)`` in ``facts.done``) or expired is not returned.
    """
    if facts.erased or not facts.guide_contact:
        return []
    candidates: list[tuple[Kind, date, int]] = [
        (Kind.THANK_YOU, facts.enrolled_on, rules.thank_you_after_days)
    ]
    last_visit = max(facts.purchase_days, default=None)
    if last_visit is not None:
        candidates.append((Kind.CARE_CHECK, last_visit, rules.care_check_after_days))
        candidates.append(
            (Kind.REPURCHASE, last_visit, typical_interval(facts.purchase_days, rules))
        )
    if facts.removed_guide_on is not None:
        candidates.append((Kind.WIN_BACK, facts.removed_guide_on, 0))
    lapsed_since = max(last_visit or facts.enrolled_on, facts.enrolled_on)
    candidates.append((Kind.WIN_BACK, lapsed_since, rules.win_back_after_days))
    if facts.birthday is not None:
        # The first birthday whose task has not expired yet: this year's, or next year's.
        earliest = _shift(today, -rules.expire_after_days) or today
        for year in (earliest.year, earliest.year + 1):
            if year > date.max.year:
                break
            occurrence = _birthday_in(facts.birthday, year)
            due = _shift(occurrence, -rules.birthday_lead_days)
            if due is not None and due >= earliest:
                candidates.append((Kind.BIRTHDAY, occurrence, -rules.birthday_lead_days))
                break
    tasks = []
    for kind, anchor, offset in candidates:
        due = _shift(anchor, offset)
        if due is None or (kind.value, anchor) in facts.done:
            continue
        expired = _shift(due, rules.expire_after_days)
        if expired is not None and expired < today:
            continue
        tasks.append(Task(due, kind, anchor))
    soonest: dict[Kind, Task] = {}
    for task in sorted(tasks):
        soonest.setdefault(task.kind, task)
    return sorted(soonest.values())


def task_id(member_id: str, kind: str, anchor_on: date) -> str:
    """A stable id for a computed task: the same facts give the same id on every read, and the
    id alone says which member, kind and fact it is (so completing it needs nothing else)."""
    return f"{member_id}:{kind}:{anchor_on.isoformat()}"


def parse_task_id(text: str) -> tuple[str, Kind, date]:
    """``(member_id, kind, anchor_on)`` of a task id; ``ValueError`` for anything else."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or len(text) > 96:
        raise ValueError("not a follow-up id")
    member_id, kind, anchor = parts
    return member_id, Kind(kind), date.fromisoformat(anchor)
