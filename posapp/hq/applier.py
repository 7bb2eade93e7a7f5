"""The ``Applier``: what one device's new events mean for HQ's members, sales and invites.

One applier takes one device's run of events (see ``projection.project``): it loads what the
run's checks will ask about in a few queries, checks each event against what HQ holds (a store
names only its own members, staff, sales and invites), gathers the rows to write, and at the
end settles every member it touched once. A refused event raises ``Refused`` before its first
write, so it leaves nothing behind without the cost of a savepoint per event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from posapp.domain import invite as invites
from posapp.domain.errors import InvalidInput
from posapp.domain.member_code import is_member_code
from posapp.domain.phone import parse_mobile
from posapp.hq.admin import NotFound
from posapp.hq.assignment import assign_guide
from posapp.hq.db import bulk_insert
from posapp.hq.feed import Pending, chunks
from posapp.hq.members import credit_sale, sale_credited, settle_members
from posapp.hq.models import (
    Assignment,
    Consent,
    Device,
    Erasure,
    ErasureAck,
    FollowUpDone,
    InviteRecord,
    Member,
    MemberAlias,
    MemberStore,
    Redemption,
    Sale,
    Staff,
    Store,
)
from posapp.hq.security import phone_fingerprint
from posapp.protocol.events import (
    ConsentChanged,
    ConsentChoice,
    ErasureApplied,
    EventPayload,
    FollowUpCompleted,
    InviteIssued,
    MemberEnrolled,
    ReassignmentRequested,
    SaleLinked,
    SaleRecorded,
)

STAFF_FIELDS = ("staff_id", "guide_id", "manager_id", "to_guide_id")  # must be the store's staff
# Why a sale naming a member by code stayed anonymous (HQ's event log, the event's reason).
ANONYMOUS_UNKNOWN_CODE = "credited anonymously: unknown member code"
ANONYMOUS_INVALID_CODE = "credited anonymously: invalid member code"


class Refused(Exception):
    """An event HQ stores but does not apply; the reason flows back to the store."""


@dataclass(frozen=True, slots=True)
class Named:
    """The member a member id from a store stands for."""

    member_id: str  # the canonical member: a device-made id may have been merged into another
    erased: bool  # an erased member's facts stay anonymous, and nothing new applies to them


@dataclass
class Lookups:
    """What HQ already holds that the run's checks ask about: loaded by ``prefetch`` in a few
    queries, filled in one query per miss, and kept current as the run adds to it."""

    # Member id a store sent → the member it may name (None: none it may name, or unknown).
    names: dict[str, Named | None] = field(default_factory=dict)
    # Purchase ids already recorded: a sale is recorded once, ever.
    purchases: set[str] = field(default_factory=set)
    # Phone → its member (a row still to be written, if new in this run): one member per phone.
    by_phone: dict[str, Member | dict[str, object]] = field(default_factory=dict)
    # Phone fingerprint → when members with that phone were erased: stale enrolments stay out.
    erased_phones: dict[str, list[datetime]] = field(default_factory=dict)
    # Member code → the member it names: a code names one member, ever.
    code_owners: dict[str, str | None] = field(default_factory=dict)
    # Staff id → its store: a store's facts name only its own staff.
    staff_stores: dict[str, str | None] = field(default_factory=dict)
    # Purchase id → its store: a store's facts name only its own sales.
    sale_stores: dict[str, str | None] = field(default_factory=dict)
    # Device-made member ids whose sales came before HQ knew the member: linked on enrolment.
    waiting_sales: set[str] = field(default_factory=set)
    # (store, follow-up id) already completed: a follow-up is completed once.
    follow_ups: set[tuple[str, str]] = field(default_factory=set)
    # Members known to be held by this store (its MemberStore row exists or is gathered).
    held: set[str] = field(default_factory=set)
    # Member code → sales (purchase id, store) that named it before HQ knew it: credited
    # when the run's enrolment with that code is applied.
    waiting_codes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # The store's number, as its invite tokens carry it.
    store_no: int | None = None
    # The run's enrolments' member ids, looked up in ``prefetch`` as a member or any store's
    # alias: whether HQ knows each (one query for the run, not two per event).
    hq_knows: dict[str, bool] = field(default_factory=dict)


@cache
def _staff_fields(kind: type[EventPayload]) -> tuple[str, ...]:
    """The fields of this event type that name staff (a missing attribute is slow to ask)."""
    return tuple(name for name in STAFF_FIELDS if name in kind.model_fields)


def _tables() -> dict[type, list[dict[str, object]]]:
    """Parents first: ``flush`` writes the tables in this order."""
    return {Member: [], MemberAlias: [], MemberStore: [], Consent: [], Sale: [], Assignment: []}


@dataclass
class Gathered:
    """What the run will write and announce, written by ``flush`` and announced by ``finish``."""

    # Rows to insert, one statement per table (Core/COPY: no ORM bookkeeping per row).
    rows: dict[type, list[dict[str, object]]] = field(default_factory=_tables)
    # Purchase id → its row in ``rows``: a walk-in's enrolment later in the run still gives
    # that sale its member before it is written.
    unwritten_sales: dict[str, dict[str, object]] = field(default_factory=dict)
    # Members whose facts changed: recomputed and announced once, at the end.
    touched: set[str] = field(default_factory=set)
    # Announced before the members: merges, rejections.
    announce_first: list[Pending] = field(default_factory=list)
    # Announced after the members: credited sales, which name a member the store must know.
    announce_last: list[Pending] = field(default_factory=list)


@dataclass
class Applier:
    """Applies one device's new events; collects which members to recompute and announce."""

    session: Session
    device: Device
    now: datetime
    master_key: bytes
    lookups: Lookups = field(default_factory=Lookups)
    gathered: Gathered = field(default_factory=Gathered)
    handlers: dict[str, Callable[[Any], str | None]] = field(init=False)

    def __post_init__(self) -> None:
        # Event type → its handler, bound per applier rather than at class level so that a
        # handler replaced on the class (a test's injected fault) is the one called.
        self.handlers = {
            SaleRecorded.type: self._sale,
            MemberEnrolled.type: self._enrolled,
            ConsentChanged.type: self._consent,
            SaleLinked.type: self._linked,
            ErasureApplied.type: self._erasure_applied,
            InviteIssued.type: self._invite,
            FollowUpCompleted.type: self._follow_up,
            ReassignmentRequested.type: self._reassign,
        }

    def flush(self) -> None:
        """Write the rows gathered so far, one statement per table, parents first."""
        self.session.flush()
        for table, rows in self.gathered.rows.items():
            bulk_insert(self.session, table.__table__, rows)  # Core/COPY: no ORM bookkeeping
            rows.clear()
        self.gathered.unwritten_sales.clear()

    def prefetch(self, payloads: list[EventPayload]) -> None:
        """Load the batch's member aliases and known purchase ids in a few queries, not per event."""
        local_ids = {p.member_id for p in payloads if getattr(p, "member_id", None)}
        for part in chunks(sorted(local_ids)):
            self._resolve(part)
        purchases = [p.purchase_id for p in payloads if isinstance(p, SaleRecorded)]
        for part in chunks(purchases):
            self.lookups.purchases.update(
                self.session.scalars(select(Sale.purchase_id).where(Sale.purchase_id.in_(part)))
            )
        enrolments = [p for p in payloads if isinstance(p, MemberEnrolled)]
        unresolved = sorted({p.member_id for p in enrolments} - {
            i for i, named in self.lookups.names.items() if named is not None})  # fmt: skip
        self.lookups.hq_knows.update(dict.fromkeys(unresolved, False))
        for part in chunks(unresolved):
            for known in (
                *self.session.scalars(select(Member.id).where(Member.id.in_(part))),
                *self.session.scalars(
                    select(MemberAlias.local_id).where(MemberAlias.local_id.in_(part))
                ),
            ):
                self.lookups.hq_knows[known] = True
        for part in chunks([p.phone_e164 for p in enrolments]):
            for member in self.session.scalars(select(Member).where(Member.phone_e164.in_(part))):
                self.lookups.by_phone[member.phone_e164 or ""] = member
        prints = {phone_fingerprint(self.master_key, p.phone_e164) for p in enrolments}
        for part in chunks(sorted(prints)):
            for row in self.session.execute(
                select(Erasure.phone_hash, Erasure.erased_at).where(Erasure.phone_hash.in_(part))
            ):
                self.lookups.erased_phones.setdefault(row.phone_hash, []).append(row.erased_at)
        codes = sorted({p.member_code for p in enrolments})
        self.lookups.code_owners.update(dict.fromkeys(codes))
        for part in chunks(codes):
            for code, owner in self.session.execute(
                select(MemberAlias.member_code, MemberAlias.member_id).where(
                    MemberAlias.member_code.in_(part)
                )
            ):
                self.lookups.code_owners[code] = owner
            for code, owner in self.session.execute(
                select(Member.member_code, Member.id).where(Member.member_code.in_(part))
            ):
                self.lookups.code_owners[code] = owner
        for part in chunks(codes):
            for row in self.session.execute(
                select(Sale.member_code_ref, Sale.purchase_id, Sale.store_id).where(
                    Sale.member_code_ref.in_(part)
                )
            ):
                self.lookups.waiting_codes.setdefault(row.member_code_ref, []).append(
                    (row.purchase_id, row.store_id)
                )
        staff = {getattr(p, name) for p in payloads for name in _staff_fields(type(p))} - {None, ""}
        self.lookups.staff_stores.update(dict.fromkeys(staff))
        for part in chunks(sorted(str(s) for s in staff)):
            for staff_id, store_id in self.session.execute(
                select(Staff.id, Staff.store_id).where(Staff.id.in_(part))
            ):
                self.lookups.staff_stores[staff_id] = store_id
        for part in chunks([p.member_id for p in enrolments]):
            # The store is compared here, not in SQL: given both, SQLite (no statistics) walks
            # the store's index, i.e. every sale of the store, instead of member_local_id's.
            for row in self.session.execute(
                select(Sale.member_local_id, Sale.store_id).where(Sale.member_local_id.in_(part))
            ):
                if row.store_id == self.store_id:
                    self.lookups.waiting_sales.add(row.member_local_id)

    @property
    def store_id(self) -> str:
        return self.device.store_id

    @property
    def store_no(self) -> int:
        if self.lookups.store_no is None:
            store = self.session.get(Store, self.store_id)
            assert store is not None
            self.lookups.store_no = store.store_no
        return self.lookups.store_no

    def _check_staff(self, *named: tuple[str, str | None]) -> None:
        """Every staff or guide id in a store's fact must be staff of that store.

        Staff never move between stores (a move is a new staff id at the other store), so
        a staff id's store is the same at the fact's time as now.
        """
        for what, staff_id in named:
            if not staff_id:
                continue
            if staff_id not in self.lookups.staff_stores:
                staff = self.session.get(Staff, staff_id)
                self.lookups.staff_stores[staff_id] = staff.store_id if staff is not None else None
            if self.lookups.staff_stores[staff_id] != self.store_id:
                raise Refused(f"{what} is not staff of this store")

    def _sale_store(self, purchase_id: str) -> str | None:
        """The store a sale HQ knows belongs to (None: HQ has not heard of it)."""
        if purchase_id in self.gathered.unwritten_sales:
            return self.store_id
        if purchase_id not in self.lookups.sale_stores:
            self.lookups.sale_stores[purchase_id] = self.session.scalar(
                select(Sale.store_id).where(Sale.purchase_id == purchase_id)
            )
        return self.lookups.sale_stores[purchase_id]

    def _check_own_sale(self, purchase_id: str | None) -> None:
        if purchase_id and self._sale_store(purchase_id) not in (None, self.store_id):
            raise Refused("the sale named belongs to another store")

    def _code_owner(self, code: str) -> str | None:
        """The member a member code already names, if any (codes name one member, ever)."""
        if code not in self.lookups.code_owners:
            self.lookups.code_owners[code] = self.session.scalar(
                select(Member.id).where(Member.member_code == code)
            ) or self.session.scalar(
                select(MemberAlias.member_id).where(MemberAlias.member_code == code)
            )
        return self.lookups.code_owners[code]

    def _foreign_member(self, member_id: str) -> bool:
        """A member id HQ knows that this store may not name (another store's member)."""
        if self.canonical(member_id) is not None:
            return False
        if member_id in self.lookups.hq_knows:
            return self.lookups.hq_knows[member_id]
        return (
            self.session.get(Member, member_id) is not None
            or self.session.get(MemberAlias, member_id) is not None
        )

    def apply(self, payload: EventPayload) -> str | None:
        """Apply one event; a note for HQ's event log when it applied with a caveat."""
        handler = self.handlers.get(payload.type)
        if handler is None:  # a type known to the protocol but not acted on here yet
            raise Refused(f"event type {payload.type} is not handled by this HQ")
        return handler(payload)

    def canonical(self, local_id: str) -> Named | None:
        """The member a member id this store sent names, if it may name one HQ knows."""
        if local_id not in self.lookups.names:
            self._resolve([local_id])
        return self.lookups.names[local_id]

    def _resolve(self, ids: list[str]) -> None:
        """A store may name its own device-made ids, or canonical members it holds; nothing else.

        That is what keeps store B from touching store A's member by learning its id.
        """
        self.lookups.names.update(dict.fromkeys(ids))
        for row in self.session.execute(
            select(MemberAlias.local_id, Member.id, Member.erased_at)
            .join(Member, MemberAlias.member_id == Member.id)
            .where(MemberAlias.local_id.in_(ids), MemberAlias.store_id == self.store_id)
        ):
            self.lookups.names[row.local_id] = Named(row.id, row.erased_at is not None)
        unresolved = [i for i in ids if self.lookups.names[i] is None]
        if unresolved:
            for row in self.session.execute(
                select(Member.id, Member.erased_at)
                .join(MemberStore, MemberStore.member_id == Member.id)
                .where(Member.id.in_(unresolved), MemberStore.store_id == self.store_id)
            ):
                self.lookups.names[row.id] = Named(row.id, row.erased_at is not None)

    def _sale(self, p: SaleRecorded) -> str | None:
        self._check_staff(("staff_id", p.staff_id), ("guide_id", p.guide_id))
        member_id = None
        note = None
        if p.member_code_ref:
            member_id, note = self._code_reference(p.member_code_ref)
        elif p.member_id:
            known = self.canonical(p.member_id)
            if known and known.erased:
                member_id = None  # an erased member's sale stays, anonymous
            elif known:
                member_id = known.member_id
            elif self._foreign_member(p.member_id):
                raise Refused("the sale names a member of another store")
        if p.purchase_id in self.lookups.purchases:
            raise Refused("a sale with this purchase_id is already recorded")
        waiting = p.member_id if member_id is None and p.member_id else None
        if waiting:
            self.lookups.waiting_sales.add(waiting)
        self.lookups.purchases.add(p.purchase_id)
        row: dict[str, object] = {
            "purchase_id": p.purchase_id,
            "store_id": self.store_id,
            "device_id": self.device.id,
            "receipt_no": p.receipt_no,
            "amount_fen": p.amount_fen,
            "currency": p.currency,
            "staff_id": p.staff_id,
            "guide_id": p.guide_id,
            "member_id": member_id,
            "member_local_id": waiting,
            "occurred_at": p.occurred_at.replace(tzinfo=None),
            # A valid code HQ does not know yet waits for the member's enrolment to arrive.
            "member_code_ref": p.member_code_ref if note == ANONYMOUS_UNKNOWN_CODE else None,
        }
        self.gathered.rows[Sale].append(row)
        self.gathered.unwritten_sales[p.purchase_id] = row
        if member_id:
            self.gathered.touched.add(member_id)
        if member_id and p.member_code_ref:
            # Another store's member, scanned offline: this store now holds them (the member
            # comes down its feed), then hears whose the sale is.
            self._hold(member_id)
            self.gathered.announce_last.append(
                Pending(self.store_id, "sale.member", p.purchase_id, {"member_id": member_id})
            )
        return note

    def _code_reference(self, code: str) -> tuple[str | None, str | None]:
        """The member a sale's member code reference credits, or None and the reason why not.

        An erased member's code was scrubbed at HQ, so it reads as unknown, as it should:
        HQ no longer knows whose it was.
        """
        if not is_member_code(code):
            return None, ANONYMOUS_INVALID_CODE
        owner = self._code_owner(code)
        if owner is None:
            return None, ANONYMOUS_UNKNOWN_CODE
        self.flush()  # the member may have been written earlier in this run
        member = self.session.get(Member, owner)
        if member is None or member.erased_at is not None:
            return None, ANONYMOUS_UNKNOWN_CODE
        return member.id, None

    def _enrolled(self, p: MemberEnrolled) -> None:
        try:
            if parse_mobile(p.phone_e164) != p.phone_e164:
                raise Refused("phone is not in E.164 form")
        except InvalidInput as exc:
            raise Refused(f"phone refused: {exc.rule}") from exc
        self._check_staff(("staff_id", p.staff_id), ("guide_id", p.guide_id))
        known = self.canonical(p.member_id)
        if known and known.erased:
            raise Refused("this member was erased; the enrolment is not applied again")
        if known is None and self._foreign_member(p.member_id):
            raise Refused("this member id is another store's member")
        enrolled_at = p.enrolled_at.replace(tzinfo=None)
        erased = self.lookups.erased_phones.get(
            phone_fingerprint(self.master_key, p.phone_e164), []
        )
        if any(at >= enrolled_at for at in erased):
            raise Refused("stale enrolment of a member erased after it was made")
        target = known.member_id if known else self._phone_owner(p.phone_e164) or p.member_id
        owner = self._code_owner(p.member_code)
        if owner is not None and owner != target:
            raise Refused("this member code already names another member")
        self._check_own_sale(p.purchase_id)
        # All checks done: from here on only writes.
        if known:
            member_id = known.member_id
        else:
            member_id = self._canonical_for(p, enrolled_at)
            self.lookups.names[p.member_id] = Named(member_id, erased=False)
            self.gathered.rows[MemberAlias].append(
                {"local_id": p.member_id, "member_id": member_id, "store_id": self.store_id,
                 "member_code": p.member_code if owner is None else ""}
            )  # fmt: skip
            self.lookups.code_owners[p.member_code] = member_id
            if member_id != p.member_id:
                self.gathered.announce_first.append(
                    Pending(
                        self.store_id,
                        "member.merged",
                        p.member_id,
                        {"from": p.member_id, "into": member_id},
                    )
                )
        self._hold(member_id)
        for choice in p.consents:
            self._record_consent(member_id, choice, p.enrolled_at, p.staff_id)
        # Sales this store recorded before HQ knew the member now find their owner.
        if p.member_id in self.lookups.waiting_sales:
            self.flush()
            self.session.execute(
                update(Sale)
                .where(
                    Sale.member_local_id == p.member_id,
                    Sale.member_id.is_(None),
                    Sale.store_id == self.store_id,
                )
                .values(member_id=member_id, member_local_id=None)
            )
        waiting_by_code = self.lookups.waiting_codes.pop(p.member_code, [])
        if waiting_by_code:
            self._credit_waiting(member_id, p.member_code, waiting_by_code)
        if p.purchase_id:
            # A walk-in who joined right after paying: that sale is usually in this very
            # batch, not written yet, and is given its member before it is.
            unwritten = self.gathered.unwritten_sales.get(p.purchase_id)
            if unwritten is not None:
                unwritten["member_id"] = member_id
            else:
                self.flush()
                self.session.execute(
                    update(Sale)
                    .where(Sale.purchase_id == p.purchase_id, Sale.store_id == self.store_id)
                    .values(member_id=member_id)
                )
        self.gathered.touched.add(member_id)

    def _credit_waiting(self, member_id: str, code: str, sales: list[tuple[str, str]]) -> None:
        """Sales other stores recorded with this member's code before HQ knew it: now theirs.

        Each selling store holds the member from now on and hears whose its sale is.
        """
        self.flush()
        self.session.execute(
            update(Sale)
            .where(Sale.member_code_ref == code, Sale.member_id.is_(None))
            .values(member_id=member_id, member_code_ref=None)
        )
        for store_id in sorted({store for _, store in sales}):
            if self.session.get(MemberStore, (member_id, store_id)) is None:
                self.gathered.rows[MemberStore].append(
                    {"member_id": member_id, "store_id": store_id}
                )
            if store_id == self.store_id:
                self.lookups.held.add(member_id)
        self.gathered.announce_last += [
            Pending(store, "sale.member", purchase_id, {"member_id": member_id})
            for purchase_id, store in sales
        ]

    def _phone_owner(self, phone: str) -> str | None:
        existing = self.lookups.by_phone.get(phone)
        if isinstance(existing, Member):
            return existing.id
        return str(existing["id"]) if existing is not None else None

    def _canonical_for(self, p: MemberEnrolled, enrolled_at: datetime) -> str:
        """The member this phone already is at HQ (filling gaps in what HQ knows), or a new one.

        A guide is set only through an assignment: a new member's first guide, or a merged
        member's when they had none, is recorded as one (a first assignment, not a transfer).
        """
        existing = self.lookups.by_phone.get(p.phone_e164)
        if isinstance(existing, Member):
            existing.name = existing.name or p.name
            existing.birthday = existing.birthday or p.birthday
            if existing.guide_id is None and p.guide_id:
                existing.guide_id = p.guide_id
                self._first_assignment(existing.id, p)
            return existing.id
        if existing is not None:  # created earlier in this same batch
            return str(existing["id"])
        row: dict[str, object] = {
            "id": p.member_id, "member_code": p.member_code, "phone_e164": p.phone_e164,
            "name": p.name, "birthday": p.birthday, "rung": "member", "guide_id": p.guide_id,
            "home_store_id": self.store_id, "enrolled_at": enrolled_at, "visit_count": 0,
            "lifetime_spend_fen": 0, "referrals": 0, "updated_at": self.now,
        }  # fmt: skip
        self.gathered.rows[Member].append(row)
        self.lookups.by_phone[p.phone_e164] = row
        self.lookups.held.add(p.member_id)
        self.gathered.rows[MemberStore].append(
            {"member_id": p.member_id, "store_id": self.store_id}
        )
        if p.guide_id:
            self._first_assignment(p.member_id, p)
        return p.member_id

    def _first_assignment(self, member_id: str, p: MemberEnrolled) -> None:
        self.gathered.rows[Assignment].append(
            {"member_id": member_id, "from_guide_id": None, "to_guide_id": p.guide_id,
             "source": "store", "requested_by": (p.staff_id or p.guide_id or "")[:64],
             "store_id": self.store_id, "assigned_at": p.enrolled_at.replace(tzinfo=None)}
        )  # fmt: skip

    def _hold(self, member_id: str) -> None:
        """Make sure this store receives the member's changes from now on."""
        if member_id in self.lookups.held:
            return
        self.lookups.held.add(member_id)
        if self.session.get(MemberStore, (member_id, self.store_id)) is None:
            self.gathered.rows[MemberStore].append(
                {"member_id": member_id, "store_id": self.store_id}
            )

    def _record_consent(
        self, member_id: str, choice: ConsentChoice, at: datetime, staff_id: str | None
    ) -> None:
        """A counter's consent is the customer's decision at that counter, kept as evidence
        with its store, staff and notice (the member's consent history shows who recorded it)."""
        self.gathered.rows[Consent].append(
            {
                "member_id": member_id,
                "purpose": choice.purpose,
                "granted": choice.granted,
                "notice_id": choice.notice.notice_id,
                "notice_version": choice.notice.version,
                "notice_language": choice.notice.language,
                "notice_hash": choice.notice.text_hash,
                "source": "store",
                "store_id": self.store_id,
                "staff_id": staff_id or None,
                "recorded_at": at.replace(tzinfo=None),
            }
        )

    def _consent(self, p: ConsentChanged) -> None:
        known = self.canonical(p.member_id)
        if known is None:
            raise Refused("consent for a member HQ does not know")
        if known.erased:
            raise Refused("this member was erased")
        self._check_staff(("staff_id", p.staff_id))
        self._record_consent(known.member_id, p.choice, p.changed_at, p.staff_id)
        self.gathered.touched.add(known.member_id)

    def _linked(self, p: SaleLinked) -> None:
        known = self.canonical(p.member_id)
        if known is None or known.erased:
            raise Refused("the sale's member is unknown or erased")
        self.flush()  # the sale may have come earlier in this batch
        sale = self.session.get(Sale, p.purchase_id)
        if sale is None or sale.store_id != self.store_id:
            raise Refused("no such sale from this store")
        sale.member_id = known.member_id
        self.gathered.touched.add(known.member_id)

    def _invite(self, p: InviteIssued) -> None:
        """Only a store's own invite: its number and key in the token, its staff, sale, member."""
        try:
            invites.verify(p.token, invites.store_key(self.master_key, self.store_id),
                           today=p.issued_at.date(), store_no=self.store_no)  # fmt: skip
        except InvalidInput as exc:
            if exc.rule not in ("expired", "bad_layout"):  # this store's, genuine: dates aside
                raise Refused(f"the invite is not this store's: {exc.rule}") from exc
        if self.session.get(InviteRecord, p.token) is not None:
            raise Refused("this invite was already reported")
        self._check_staff(("staff_id", p.staff_id))
        self._check_own_sale(p.purchase_id)
        if p.member_id and self._foreign_member(p.member_id):
            raise Refused("the invite names a member of another store")
        referrer = invites.peek(p.token).referrer_code
        if referrer and not self._holds_code(referrer):
            raise Refused("the referral names a member this store does not hold")
        self.flush()  # its sale may have come earlier in this batch
        self.session.add(
            InviteRecord(
                token=p.token,
                store_id=self.store_id,
                device_id=self.device.id,
                channel=p.channel,
                staff_id=p.staff_id,
                member_local_id=p.member_id,
                purchase_id=p.purchase_id,
                issued_at=p.issued_at.replace(tzinfo=None),
            )
        )
        self.session.flush()
        redeemed = self.session.get(Redemption, p.token)
        # The customer may have scanned before this store synced: credit the sale now.
        if redeemed is not None and credit_sale(
            self.session, token=p.token, member_id=redeemed.member_id
        ):
            self.gathered.touched.add(redeemed.member_id)
            self.gathered.announce_last += sale_credited(self.session, token=p.token)

    def _follow_up(self, p: FollowUpCompleted) -> None:
        """Kept for reports; an erased member's completion stays, as anonymous as a sale."""
        known = self.canonical(p.member_id)
        if known is None:
            raise Refused("follow-up for a member HQ does not know")
        self._check_staff(("staff_id", p.staff_id))
        key = (self.store_id, p.follow_up_id)
        if key in self.lookups.follow_ups or self.session.get(FollowUpDone, key) is not None:
            raise Refused("this follow-up was already completed at this store")
        self.lookups.follow_ups.add(key)
        self.session.add(
            FollowUpDone(
                store_id=self.store_id, follow_up_id=p.follow_up_id, device_id=self.device.id,
                member_id=known.member_id, staff_id=p.staff_id, kind=p.kind, anchor_on=p.anchor_on,
                due_on=p.due_on, channel=p.channel, outcome=p.outcome,
                done_at=p.completed_at.replace(tzinfo=None),
            )
        )  # fmt: skip

    def _reassign(self, p: ReassignmentRequested) -> None:
        """A store manager's request: applied as HQ's own assignment, or refused with the reason
        (WeCom's transfer limit, a guide of another store), which flows back to the store."""
        known = self.canonical(p.member_id)
        if known is None or known.erased:
            raise Refused("reassignment of a member HQ does not know, or erased")
        manager = self.session.get(Staff, p.manager_id)
        if manager is None or manager.role != "manager" or manager.store_id != self.store_id:
            raise Refused("only a manager of this store may ask for a reassignment")
        self.flush()  # the member may have joined earlier in this batch
        member = self.session.get(Member, known.member_id)
        current = self.session.get(Staff, member.guide_id) if member and member.guide_id else None
        if (
            member is not None
            and member.guide_id is not None
            and (current is None or current.store_id != self.store_id)
        ):
            # Holding a customer (a phone enrolled here too) is not owning them: a store moves
            # only its own guides' customers, or customers without a guide; HQ moves the rest.
            raise Refused("this member's guide belongs to another store; only HQ may move them")
        try:
            done = assign_guide(
                self.session, member_id=known.member_id, guide_id=p.to_guide_id, now=self.now,
                requested_by=p.manager_id, source="store", store_id=self.store_id, announce=False,
            )  # fmt: skip
        except InvalidInput as exc:
            raise Refused(exc.message) from exc
        except NotFound as exc:
            raise Refused("reassignment of a member HQ does not know") from exc
        if done.changed:
            self.gathered.touched.add(known.member_id)

    def _holds_code(self, code: str) -> bool:
        """Whether the member a code names is one this store may name."""
        owner = self._code_owner(code)
        return owner is not None and self.canonical(owner) is not None

    def _erasure_applied(self, p: ErasureApplied) -> None:
        if self.session.get(Erasure, p.member_id) is None:
            raise Refused("no erasure for this member")
        if self.session.get(MemberStore, (p.member_id, self.store_id)) is None:
            raise Refused("this store does not hold the erased member")
        if self.session.get(ErasureAck, (p.member_id, self.store_id)) is None:
            self.session.add(
                ErasureAck(member_id=p.member_id, store_id=self.store_id, applied_at=self.now)
            )

    def finish(self) -> None:
        """Recompute the touched members from the facts, then announce them and the rest."""
        self.flush()
        settle_members(
            self.session,
            self.gathered.touched,
            now=self.now,
            before=self.gathered.announce_first,
            after=self.gathered.announce_last,
        )
