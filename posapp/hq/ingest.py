"""Push appends a device's events to HQ's log exactly once, in seq order; projection applies them.

Facts never conflict: HQ stores every event under ``UNIQUE(event_id)`` and
``UNIQUE(device_id, seq)`` and answers ``acked_through``. A replay is acknowledged again; a
gap stops the batch and names the expected seq; a replayed event id with a different
payload is flagged and never applied. The projector then takes received events in HQ's
order and derives members, sales and the feed from them; an invalid or refused event is
marked rejected (it must never wedge the queue) and its reason flows down to the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posapp.domain import invite as invites
from posapp.domain.consent import Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.ladder import CustomerStanding, LadderRules, assess
from posapp.domain.phone import parse_mobile
from posapp.hq.admin import NotFound
from posapp.hq.assignment import assign_guide
from posapp.hq.db import bulk_insert, insert_values
from posapp.hq.feed import Pending, chunks, emit, member_changes
from posapp.hq.models import (
    Assignment,
    Consent,
    Device,
    Erasure,
    ErasureAck,
    Event,
    EventConflict,
    FollowUpDone,
    InviteRecord,
    Member,
    MemberAlias,
    MemberStore,
    Redemption,
    RuleSet,
    Sale,
    Staff,
    Store,
)
from posapp.hq.security import phone_fingerprint
from posapp.protocol.events import (
    EVENT_TYPES,
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
from posapp.protocol.sync import EventEnvelope, PushResponse, Rejection

RECEIVED, APPLIED, REJECTED, FLAGGED = "received", "applied", "rejected", "flagged"
STAFF_FIELDS = ("staff_id", "guide_id", "manager_id", "to_guide_id")  # must be the store's staff


class Refused(Exception):
    """An event HQ stores but does not apply; the reason flows back to the store."""


def canonical_json(payload: dict[str, object]) -> str:
    """Sorted keys, no spaces, UTF-8 as it is: the same payload always hashes alike."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # beyond orjson (huge integers): stored as sent
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def ladder_rules(session: Session) -> LadderRules:
    body = session.scalar(select(RuleSet.body).where(RuleSet.kind == "ladder"))
    return LadderRules.from_dict(json.loads(body)) if body else LadderRules()


@dataclass
class Applier:
    """Applies one device's new events; collects which members to recompute and announce.

    Every handler makes all its checks (raising ``Refused``) before its first write, so a
    refused event leaves nothing behind without the cost of a savepoint per event.
    """

    session: Session
    device: Device
    now: datetime
    master_key: bytes
    touched: set[str] = field(default_factory=set)
    pending: list[Pending] = field(default_factory=list)
    sale_links: list[Pending] = field(default_factory=list)  # announced after the members
    aliases: dict[str, tuple[str, bool] | None] = field(default_factory=dict)
    sales_seen: set[str] = field(default_factory=set)
    by_phone: dict[str, Member | dict[str, object]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    rows: dict[type, list[dict[str, object]]] = field(
        default_factory=lambda: {
            Member: [],
            MemberAlias: [],
            MemberStore: [],
            Consent: [],
            Sale: [],
            Assignment: [],
        }
    )
    erased_phones: dict[str, list[datetime]] = field(default_factory=dict)
    code_owners: dict[str, str | None] = field(default_factory=dict)  # member code → member
    staff_stores: dict[str, str | None] = field(default_factory=dict)  # staff id → its store
    sale_stores: dict[str, str | None] = field(default_factory=dict)  # purchase id → its store
    _store_no: int | None = None
    waiting_sales: set[str] = field(default_factory=set)
    follow_ups_seen: set[tuple[str, str]] = field(default_factory=set)
    unwritten_sales: dict[str, dict[str, object]] = field(default_factory=dict)

    def flush(self) -> None:
        """Write the rows gathered so far, one statement per table, parents first."""
        self.session.flush()
        for table, rows in self.rows.items():
            bulk_insert(self.session, table.__table__, rows)  # Core/COPY: no ORM bookkeeping
            rows.clear()
        self.unwritten_sales.clear()

    def prefetch(self, payloads: list[EventPayload]) -> None:
        """Load the batch's member aliases and known purchase ids in a few queries, not per event."""
        local_ids = {p.member_id for p in payloads if getattr(p, "member_id", None)}
        for part in chunks(sorted(local_ids)):
            self._resolve(part)
        purchases = [p.purchase_id for p in payloads if isinstance(p, SaleRecorded)]
        for part in chunks(purchases):
            self.sales_seen.update(
                self.session.scalars(select(Sale.purchase_id).where(Sale.purchase_id.in_(part)))
            )
        enrolments = [p for p in payloads if isinstance(p, MemberEnrolled)]
        for part in chunks([p.phone_e164 for p in enrolments]):
            for member in self.session.scalars(select(Member).where(Member.phone_e164.in_(part))):
                self.by_phone[member.phone_e164 or ""] = member
        prints = {phone_fingerprint(self.master_key, p.phone_e164) for p in enrolments}
        for part in chunks(sorted(prints)):
            for row in self.session.execute(
                select(Erasure.phone_hash, Erasure.erased_at).where(Erasure.phone_hash.in_(part))
            ):
                self.erased_phones.setdefault(row.phone_hash, []).append(row.erased_at)
        codes = sorted({p.member_code for p in enrolments})
        self.code_owners.update(dict.fromkeys(codes))
        for part in chunks(codes):
            for code, owner in self.session.execute(
                select(MemberAlias.member_code, MemberAlias.member_id).where(
                    MemberAlias.member_code.in_(part)
                )
            ):
                self.code_owners[code] = owner
            for code, owner in self.session.execute(
                select(Member.member_code, Member.id).where(Member.member_code.in_(part))
            ):
                self.code_owners[code] = owner
        staff = {getattr(p, name, None) for p in payloads for name in STAFF_FIELDS} - {None, ""}
        self.staff_stores.update(dict.fromkeys(staff))
        for part in chunks(sorted(str(s) for s in staff)):
            for staff_id, store_id in self.session.execute(
                select(Staff.id, Staff.store_id).where(Staff.id.in_(part))
            ):
                self.staff_stores[staff_id] = store_id
        for part in chunks([p.member_id for p in enrolments]):
            # The store is compared here, not in SQL: given both, SQLite (no statistics) walks
            # the store's index, i.e. every sale of the store, instead of member_local_id's.
            for row in self.session.execute(
                select(Sale.member_local_id, Sale.store_id).where(Sale.member_local_id.in_(part))
            ):
                if row.store_id == self.store_id:
                    self.waiting_sales.add(row.member_local_id)

    @property
    def store_id(self) -> str:
        return self.device.store_id

    @property
    def store_no(self) -> int:
        if self._store_no is None:
            store = self.session.get(Store, self.store_id)
            assert store is not None
            self._store_no = store.store_no
        return self._store_no

    def _check_staff(self, *named: tuple[str, str | None]) -> None:
        """Every staff or guide id in a store's fact must be staff of that store.

        Staff never move between stores (a move is a new staff id at the other store), so
        a staff id's store is the same at the fact's time as now.
        """
        for what, staff_id in named:
            if not staff_id:
                continue
            if staff_id not in self.staff_stores:
                staff = self.session.get(Staff, staff_id)
                self.staff_stores[staff_id] = staff.store_id if staff is not None else None
            if self.staff_stores[staff_id] != self.store_id:
                raise Refused(f"{what} is not staff of this store")

    def _sale_store(self, purchase_id: str) -> str | None:
        """The store a sale HQ knows belongs to (None: HQ has not heard of it)."""
        if purchase_id in self.unwritten_sales:
            return self.store_id
        if purchase_id not in self.sale_stores:
            self.sale_stores[purchase_id] = self.session.scalar(
                select(Sale.store_id).where(Sale.purchase_id == purchase_id)
            )
        return self.sale_stores[purchase_id]

    def _check_own_sale(self, purchase_id: str | None) -> None:
        if purchase_id and self._sale_store(purchase_id) not in (None, self.store_id):
            raise Refused("the sale named belongs to another store")

    def _code_owner(self, code: str) -> str | None:
        """The member a member code already names, if any (codes name one member, ever)."""
        if code not in self.code_owners:
            self.code_owners[code] = self.session.scalar(
                select(Member.id).where(Member.member_code == code)
            ) or self.session.scalar(
                select(MemberAlias.member_id).where(MemberAlias.member_code == code)
            )
        return self.code_owners[code]

    def _foreign_member(self, member_id: str) -> bool:
        """A member id HQ knows that this store may not name (another store's member)."""
        if self.canonical(member_id) is not None:
            return False
        return (
            self.session.get(Member, member_id) is not None
            or self.session.get(MemberAlias, member_id) is not None
        )

    def apply(self, payload: EventPayload) -> None:
        if isinstance(payload, SaleRecorded):
            self._sale(payload)
            return
        if isinstance(payload, MemberEnrolled):
            self._enrolled(payload)
        elif isinstance(payload, ConsentChanged):
            self._consent(payload)
        elif isinstance(payload, SaleLinked):
            self._linked(payload)
        elif isinstance(payload, ErasureApplied):
            self._erasure_applied(payload)
        elif isinstance(payload, InviteIssued):
            self._invite(payload)
        elif isinstance(payload, FollowUpCompleted):
            self._follow_up(payload)
        elif isinstance(payload, ReassignmentRequested):
            self._reassign(payload)
        else:  # a type known to the protocol but not acted on here yet
            raise Refused(f"event type {payload.type} is not handled by this HQ")

    def canonical(self, local_id: str) -> tuple[str, bool] | None:
        """``(canonical member id, erased)`` for a member id this store may name, if HQ knows it."""
        if local_id not in self.aliases:
            self._resolve([local_id])
        return self.aliases[local_id]

    def _resolve(self, ids: list[str]) -> None:
        """A store may name its own device-made ids, or canonical members it holds; nothing else.

        That is what keeps store B from touching store A's member by learning its id.
        """
        self.aliases.update(dict.fromkeys(ids))
        for row in self.session.execute(
            select(MemberAlias.local_id, Member.id, Member.erased_at)
            .join(Member, MemberAlias.member_id == Member.id)
            .where(MemberAlias.local_id.in_(ids), MemberAlias.store_id == self.store_id)
        ):
            self.aliases[row.local_id] = (row.id, row.erased_at is not None)
        unresolved = [i for i in ids if self.aliases[i] is None]
        if unresolved:
            for row in self.session.execute(
                select(Member.id, Member.erased_at)
                .join(MemberStore, MemberStore.member_id == Member.id)
                .where(Member.id.in_(unresolved), MemberStore.store_id == self.store_id)
            ):
                self.aliases[row.id] = (row.id, row.erased_at is not None)

    def _sale(self, p: SaleRecorded) -> None:
        self._check_staff(("staff_id", p.staff_id), ("guide_id", p.guide_id))
        member_id = None
        if p.member_id:
            known = self.canonical(p.member_id)
            if known and known[1]:
                member_id = None  # an erased member's sale stays, anonymous
            elif known:
                member_id = known[0]
            elif self._foreign_member(p.member_id):
                raise Refused("the sale names a member of another store")
        if p.purchase_id in self.sales_seen:
            raise Refused("a sale with this purchase_id is already recorded")
        waiting = p.member_id if member_id is None and p.member_id else None
        if waiting:
            self.waiting_sales.add(waiting)
        self.sales_seen.add(p.purchase_id)
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
        }
        self.rows[Sale].append(row)
        self.unwritten_sales[p.purchase_id] = row
        if member_id:
            self.touched.add(member_id)

    def _enrolled(self, p: MemberEnrolled) -> None:
        try:
            if parse_mobile(p.phone_e164) != p.phone_e164:
                raise Refused("phone is not in E.164 form")
        except InvalidInput as exc:
            raise Refused(f"phone refused: {exc.rule}") from exc
        self._check_staff(("staff_id", p.staff_id), ("guide_id", p.guide_id))
        known = self.canonical(p.member_id)
        if known and known[1]:
            raise Refused("this member was erased; the enrolment is not applied again")
        if known is None and self._foreign_member(p.member_id):
            raise Refused("this member id is another store's member")
        enrolled_at = p.enrolled_at.replace(tzinfo=None)
        erased = self.erased_phones.get(phone_fingerprint(self.master_key, p.phone_e164), [])
        if any(at >= enrolled_at for at in erased):
            raise Refused("stale enrolment of a member erased after it was made")
        target = known[0] if known else self._phone_owner(p.phone_e164) or p.member_id
        owner = self._code_owner(p.member_code)
        if owner is not None and owner != target:
            raise Refused("this member code already names another member")
        self._check_own_sale(p.purchase_id)
        # All checks done: from here on only writes.
        if known:
            member_id = known[0]
        else:
            member_id = self._canonical_for(p, enrolled_at)
            self.aliases[p.member_id] = (member_id, False)
            self.rows[MemberAlias].append(
                {"local_id": p.member_id, "member_id": member_id, "store_id": self.store_id,
                 "member_code": p.member_code if owner is None else ""}
            )  # fmt: skip
            self.code_owners[p.member_code] = member_id
            if member_id != p.member_id:
                self.pending.append(
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
        if p.member_id in self.waiting_sales:
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
        if p.purchase_id:
            # A walk-in who joined right after paying: that sale is usually in this very
            # batch, not written yet, and is given its member before it is.
            unwritten = self.unwritten_sales.get(p.purchase_id)
            if unwritten is not None:
                unwritten["member_id"] = member_id
            else:
                self.flush()
                self.session.execute(
                    update(Sale)
                    .where(Sale.purchase_id == p.purchase_id, Sale.store_id == self.store_id)
                    .values(member_id=member_id)
                )
        self.touched.add(member_id)

    def _phone_owner(self, phone: str) -> str | None:
        existing = self.by_phone.get(phone)
        if isinstance(existing, Member):
            return existing.id
        return str(existing["id"]) if existing is not None else None

    def _canonical_for(self, p: MemberEnrolled, enrolled_at: datetime) -> str:
        """The member this phone already is at HQ (filling gaps in what HQ knows), or a new one.

        A guide is set only through an assignment: a new member's first guide, or a merged
        member's when they had none, is recorded as one (a first assignment, not a transfer).
        """
        existing = self.by_phone.get(p.phone_e164)
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
        self.rows[Member].append(row)
        self.by_phone[p.phone_e164] = row
        self.held.add(p.member_id)
        self.rows[MemberStore].append({"member_id": p.member_id, "store_id": self.store_id})
        if p.guide_id:
            self._first_assignment(p.member_id, p)
        return p.member_id

    def _first_assignment(self, member_id: str, p: MemberEnrolled) -> None:
        self.rows[Assignment].append(
            {"member_id": member_id, "from_guide_id": None, "to_guide_id": p.guide_id,
             "source": "store", "requested_by": (p.staff_id or p.guide_id or "")[:64],
             "store_id": self.store_id, "assigned_at": p.enrolled_at.replace(tzinfo=None)}
        )  # fmt: skip

    def _hold(self, member_id: str) -> None:
        """Make sure this store receives the member's changes from now on."""
        if member_id in self.held:
            return
        self.held.add(member_id)
        if self.session.get(MemberStore, (member_id, self.store_id)) is None:
            self.rows[MemberStore].append({"member_id": member_id, "store_id": self.store_id})

    def _record_consent(
        self, member_id: str, choice: ConsentChoice, at: datetime, staff_id: str | None
    ) -> None:
        """A counter's consent is the customer's decision at that counter, kept as evidence
        with its store, staff and notice (the member's consent history shows who recorded it)."""
        self.rows[Consent].append(
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
        if known[1]:
            raise Refused("this member was erased")
        self._check_staff(("staff_id", p.staff_id))
        self._record_consent(known[0], p.choice, p.changed_at, p.staff_id)
        self.touched.add(known[0])

    def _linked(self, p: SaleLinked) -> None:
        known = self.canonical(p.member_id)
        if known is None or known[1]:
            raise Refused("the sale's member is unknown or erased")
        self.flush()  # the sale may have come earlier in this batch
        sale = self.session.get(Sale, p.purchase_id)
        if sale is None or sale.store_id != self.store_id:
            raise Refused("no such sale from this store")
        sale.member_id = known[0]
        self.touched.add(known[0])

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
            self.touched.add(redeemed.member_id)
            self.sale_links += sale_credited(self.session, token=p.token)

    def _follow_up(self, p: FollowUpCompleted) -> None:
        """Kept for reports; an erased member's completion stays, as anonymous as a sale."""
        known = self.canonical(p.member_id)
        if known is None:
            raise Refused("follow-up for a member HQ does not know")
        self._check_staff(("staff_id", p.staff_id))
        key = (self.store_id, p.follow_up_id)
        if key in self.follow_ups_seen or self.session.get(FollowUpDone, key) is not None:
            raise Refused("this follow-up was already completed at this store")
        self.follow_ups_seen.add(key)
        self.session.add(
            FollowUpDone(
                store_id=self.store_id, follow_up_id=p.follow_up_id, device_id=self.device.id,
                member_id=known[0], staff_id=p.staff_id, kind=p.kind, anchor_on=p.anchor_on,
                due_on=p.due_on, channel=p.channel, outcome=p.outcome,
                done_at=p.completed_at.replace(tzinfo=None),
            )
        )  # fmt: skip

    def _reassign(self, p: ReassignmentRequested) -> None:
        """A store manager's request: applied as HQ's own assignment, or refused with the reason
        (WeCom's transfer limit, a guide of another store), which flows back to the store."""
        known = self.canonical(p.member_id)
        if known is None or known[1]:
            raise Refused("reassignment of a member HQ does not know, or erased")
        manager = self.session.get(Staff, p.manager_id)
        if manager is None or manager.role != "manager" or manager.store_id != self.store_id:
            raise Refused("only a manager of this store may ask for a reassignment")
        self.flush()  # the member may have joined earlier in this batch
        member = self.session.get(Member, known[0])
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
                self.session, member_id=known[0], guide_id=p.to_guide_id, now=self.now,
                requested_by=p.manager_id, source="store", store_id=self.store_id, announce=False,
            )  # fmt: skip
        except InvalidInput as exc:
            raise Refused(exc.message) from exc
        except NotFound as exc:
            raise Refused("reassignment of a member HQ does not know") from exc
        if done.changed:
            self.touched.add(known[0])

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
        recompute_members(self.session, self.touched, now=self.now)
        self.session.flush()
        emit(
            self.session,
            self.pending + member_changes(self.session, sorted(self.touched)) + self.sale_links,
            now=self.now,
        )


def recompute_members(session: Session, member_ids: set[str], *, now: datetime) -> None:
    """Visits, spend, last visit and rung, derived again from all of each member's sales."""
    if not member_ids:
        return
    session.flush()
    rules = ladder_rules(session)
    since = now - timedelta(days=rules.longest_window_days)
    for part in chunks(sorted(member_ids)):
        totals = {
            r.member_id: r
            for r in session.execute(
                select(
                    Sale.member_id,
                    func.count().label("visits"),
                    func.coalesce(func.sum(Sale.amount_fen), 0).label("spend"),
                    func.max(Sale.occurred_at).label("last"),
                )
                .where(Sale.member_id.in_(part))
                .group_by(Sale.member_id)
            )
        }
        days: dict[str, list[datetime]] = {m: [] for m in part}
        for r in session.execute(
            select(Sale.member_id, Sale.occurred_at).where(
                Sale.member_id.in_(part), Sale.occurred_at >= since
            )
        ):
            days[r.member_id].append(r.occurred_at)
        membership: dict[str, bool] = {}
        for r in session.execute(
            select(Consent.member_id, Consent.granted)
            .where(Consent.member_id.in_(part), Consent.purpose == Purpose.MEMBERSHIP.value)
            .order_by(Consent.id)
        ):
            membership[r.member_id] = r.granted
        for member in session.scalars(select(Member).where(Member.id.in_(part))):
            total = totals.get(member.id)
            member.visit_count = total.visits if total else 0
            member.lifetime_spend_fen = int(total.spend) if total else 0
            member.last_visit_at = total.last if total else None
            recent = tuple(d.date() for d in days[member.id])
            if not recent and member.last_visit_at:
                recent = (member.last_visit_at.date(),)
            standing = CustomerStanding(
                is_member=membership.get(member.id, False),
                purchase_days=recent,
                lifetime_spend_fen=member.lifetime_spend_fen,
                referrals=member.referrals,
                has_guide=member.guide_id is not None,
            )
            member.rung = assess(standing, rules, now.date()).rung.value
            member.updated_at = now


@dataclass(frozen=True, slots=True)
class Prepared:
    """An event checked before the write lock is taken: parsing costs no one else's time."""

    envelope: EventEnvelope
    text: str  # canonical JSON of the payload, as stored
    digest: str


def prepare(events: list[EventEnvelope]) -> list[Prepared]:
    """Canonical text and hash of each payload, outside any transaction."""
    prepared = []
    for e in sorted(events, key=lambda e: e.seq):
        text = canonical_json(e.payload)
        prepared.append(Prepared(e, text, hashlib.sha256(text.encode()).hexdigest()))
    return prepared


def push(session: Session, *, device: Device, batch: list[Prepared], now: datetime) -> PushResponse:
    """Append a prepared batch to HQ's event log and acknowledge it; nothing is derived here.

    The acknowledgement means the facts are durable at HQ, exactly once and in seq order.
    What HQ makes of them (members, sales, the feed) is the projector's work, behind the
    acknowledgement: a counter emptying a week's backlog waits only for the log.
    """
    session.refresh(device, with_for_update=True)
    expected = device.last_seq + 1
    flagged: list[Rejection] = []

    replays = [p for p in batch if p.envelope.seq < expected]
    if replays:
        stored = {
            row.seq: row
            for row in session.execute(
                select(Event.seq, Event.event_id, Event.payload_hash).where(
                    Event.device_id == device.id, Event.seq.in_([p.envelope.seq for p in replays])
                )
            )
        }
        for p in replays:
            e, row = p.envelope, stored.get(p.envelope.seq)
            if row is None or row.event_id != e.event_id or row.payload_hash != p.digest:
                flagged.append(Rejection(event_id=e.event_id, seq=e.seq, reason="replay differs"))
                _flag(session, e, p.digest, now)

    gap_at: int | None = None
    fresh: list[Prepared] = []
    for p in batch:
        if p.envelope.seq < expected:
            continue
        if p.envelope.seq > expected:
            gap_at = expected
            break
        fresh.append(p)
        expected += 1
    try:
        with session.begin_nested():  # event ids are UUIDv7: a clash is a faulty device
            insert_values(session, Event.__table__, LOG_COLUMNS,
                          [_logged(p, device, now) for p in fresh])  # fmt: skip
    except IntegrityError:
        flagged += _append_with_clashes(session, device, fresh, now)
    device.last_seq = expected - 1
    device.last_seen_at = now
    return PushResponse(
        acked_through=device.last_seq,
        expected_seq=gap_at,
        flagged=flagged,
        hq_time=now.replace(tzinfo=UTC),  # RFC 3339 date-time: with its zone
    )


LOG_COLUMNS = ["event_id", "device_id", "seq", "store_id", "type", "occurred_at", "received_at",
               "schema_version", "payload", "payload_hash", "status", "reason"]  # fmt: skip


def _logged(p: Prepared, device: Device, now: datetime, *, event_id: str | None = None,
            status: str = RECEIVED, reason: str | None = None) -> tuple[object, ...]:  # fmt: skip
    e = p.envelope
    return (event_id or e.event_id, device.id, e.seq, device.store_id, e.type,
            e.occurred_at.replace(tzinfo=None), now, e.schema_version, p.text, p.digest, status,
            reason)  # fmt: skip


def _append_with_clashes(
    session: Session, device: Device, fresh: list[Prepared], now: datetime
) -> list[Rejection]:
    """The careful path: an event id already in the log (or twice in the batch) is stored
    under a derived id, flagged, and never applied; the rest go in as usual."""
    used: set[str] = set()
    for part in chunks([p.envelope.event_id for p in fresh]):
        used.update(session.scalars(select(Event.event_id).where(Event.event_id.in_(part))))
    flagged, rows = [], []
    for p in fresh:
        e = p.envelope
        if e.event_id in used:
            reason = "event_id already used at another seq"
            flagged.append(Rejection(event_id=e.event_id, seq=e.seq, reason=reason))
            _flag(session, e, p.digest, now)
            derived = f"{e.event_id}#{device.id[:8]}-{e.seq}"[:64]
            rows.append(_logged(p, device, now, event_id=derived, status=FLAGGED, reason=reason))
        else:
            rows.append(_logged(p, device, now))
        used.add(e.event_id)
    insert_values(session, Event.__table__, LOG_COLUMNS, rows)
    return flagged


def project(session: Session, *, now: datetime, master_key: bytes, limit: int = 2000) -> int:
    """Apply up to ``limit`` received events, device by device, oldest first.

    Runs in a serialised write transaction. The device whose event has waited longest goes
    first, with all its waiting events in seq order, then the next such device, until the
    limit: one ``Applier`` per device, so each touched member is recomputed and announced
    once per run, however the devices' pushes interleaved in the log. (Order across devices
    is arrival order at best anyway; a device can only name what HQ already sent it.) A
    refused or invalid event is marked rejected and its reason goes down to its store.
    """
    taken = 0
    while taken < limit:
        head = session.scalar(
            select(Event.device_id).where(Event.status == RECEIVED).order_by(Event.id).limit(1)
        )
        if head is None:
            break
        run = session.execute(
            select(Event.id, Event.device_id, Event.event_id, Event.seq, Event.type,
                   Event.schema_version, Event.payload, Event.received_at)
            .where(Event.status == RECEIVED, Event.device_id == head)
            .order_by(Event.id)
            .limit(limit - taken)
        ).all()  # fmt: skip
        outcomes = _apply_run(session, run, now=now, master_key=master_key)
        applied = [o["row_id"] for o in outcomes if o["new_status"] == APPLIED]
        for part in chunks(applied):  # the usual case, in a statement per 500
            session.execute(update(Event).where(Event.id.in_(part)).values(status=APPLIED))
        others = [o for o in outcomes if o["new_status"] != APPLIED]
        if others:
            session.connection().execute(
                update(Event.__table__)
                .where(Event.__table__.c.id == bindparam("row_id"))
                .values(status=bindparam("new_status"), reason=bindparam("new_reason")),
                others,
            )
        taken += len(run)
    return taken


def _apply_run(session: Session, run: list[Any], *, now: datetime, master_key: bytes
               ) -> list[dict[str, object]]:  # fmt: skip
    device = session.get(Device, run[0].device_id)
    assert device is not None
    applier = Applier(session, device, now, master_key)
    models = [_validate(row.type, row.schema_version, row.payload) for row in run]
    applier.prefetch([m for m, _ in models if m is not None])
    outcomes = []
    for row, (model, problem) in zip(run, models, strict=True):
        status, reason = APPLIED, problem
        if model is None:
            status = REJECTED
        elif device.revoked_at is not None and row.received_at > device.revoked_at:
            # Cannot be pushed (a revoked credential gets 401); said here so it never applies.
            status, reason = REJECTED, "pushed after the device was revoked"
        else:
            try:
                applier.apply(model)
            except Refused as exc:
                status, reason = REJECTED, str(exc)
        if status == REJECTED:
            applier.pending.append(
                Pending(device.store_id, "event.rejected", row.event_id,
                        {"event_id": row.event_id, "device_id": device.id, "seq": row.seq,
                         "reason": reason})
            )  # fmt: skip
        outcomes.append({"row_id": row.id, "new_status": status, "new_reason": reason})
    applier.finish()
    return outcomes


def unprojected_through(session: Session, device_id: str | None = None) -> int | None:
    """The newest received-but-not-applied event (of one device, or of anyone), if any.

    For a device it is enough to look at its newest event: events are applied in HQ's
    order, which keeps each device's seq order, so if that one is done all of it is.
    """
    if device_id is None:
        return session.scalar(select(func.max(Event.id)).where(Event.status == RECEIVED))
    newest = session.execute(
        select(Event.id, Event.status)
        .where(Event.device_id == device_id, Event.status != FLAGGED)  # flagged: never applied
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    return newest.id if newest is not None and newest.status == RECEIVED else None


def oldest_unprojected(session: Session, *, through: int | None = None) -> Event | None:
    query = select(Event).where(Event.status == RECEIVED)
    if through is not None:
        query = query.where(Event.id <= through)
    return session.scalars(query.order_by(Event.id).limit(1)).first()


def backlog(session: Session) -> int:
    """Events acknowledged to their counters but not applied yet."""
    return session.scalar(select(func.count()).where(Event.status == RECEIVED)) or 0


def backlog_status(session: Session, *, now: datetime) -> dict[str, object]:
    """What an operator watches: how much HQ has acknowledged but not applied, and how late."""
    count, devices, oldest = session.execute(
        select(func.count(), func.count(func.distinct(Event.device_id)), func.min(Event.received_at))
        .where(Event.status == RECEIVED)
    ).one()  # fmt: skip
    return {
        "events_waiting": count or 0,
        "devices_waiting": devices or 0,
        "oldest_waiting_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    }


def _validate(
    kind: str, schema_version: int, payload: str
) -> tuple[EventPayload | None, str | None]:
    model = EVENT_TYPES.get(kind)
    if model is None:
        return None, f"unknown event type {kind[:32]!r}"
    if schema_version != 1:
        return None, f"unknown schema_version {schema_version}"
    try:
        return model.model_validate_json(payload), None
    except ValidationError as exc:
        return None, _brief(exc)


def _flag(session: Session, e: EventEnvelope, digest: str, now: datetime) -> None:
    seen = session.scalar(
        select(EventConflict.id).where(
            EventConflict.event_id == e.event_id, EventConflict.payload_hash == digest
        )
    )
    if seen is None:
        session.add(
            EventConflict(
                event_id=e.event_id,
                device_id=e.device_id,
                seq=e.seq,
                payload_hash=digest,
                received_at=now,
            )
        )


def _brief(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid payload: {where}: {first.get('msg', '')}"[:256]


def sale_credited(session: Session, *, token: str) -> list[Pending]:
    """The change that tells the sale's store whose it now is (after the member's own change,
    so the counter knows the member when it links the sale)."""
    record = session.get(InviteRecord, token)
    if record is None or record.purchase_id is None:
        return []
    sale = session.get(Sale, record.purchase_id)
    if sale is None or sale.member_id is None:
        return []
    return [Pending(sale.store_id, "sale.member", sale.purchase_id, {"member_id": sale.member_id})]


def credit_sale(session: Session, *, token: str, member_id: str) -> bool:
    """Give the invite's sale to the member who redeemed it, whichever of the two HQ heard first."""
    record = session.get(InviteRecord, token)
    if record is None or record.purchase_id is None:
        return False
    result = session.execute(
        update(Sale)
        .where(
            Sale.purchase_id == record.purchase_id,
            Sale.store_id == record.store_id,  # a sale is credited only within its own store
            Sale.member_id.is_(None),
        )
        .values(member_id=member_id, member_local_id=None)
    )
    return bool(result.rowcount)
