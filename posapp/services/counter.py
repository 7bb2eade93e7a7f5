"""The counter's actions as the screen uses them: each call is one transaction on the store.

The counter window never opens a database session; it calls these methods on its one
database thread (Anki's single DB worker) and draws what they return. Each method is a
thin composition of the service functions, so the command line and the screen share one
meaning of "identify", "sell", "enrol" and "invite".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from posapp.domain.consent import Notice, Purpose
from posapp.domain.invite import Signer
from posapp.domain.lookup import CounterQuery
from posapp.domain.roles import Permission
from posapp.resources import current_notice
from posapp.services.dashboard import Dashboard, Period, figures
from posapp.services.follow_ups import (
    CompletedFollowUp,
    CustomerRow,
    ReassignmentRequest,
    complete_follow_up,
    my_customers,
    request_reassignment,
)
from posapp.services.hq_lookup import (
    Asker,
    HqAnswer,
    ask_hq,
    keep_and_identify,
)
from posapp.services.invites import IssuedInvite, invites_for_customer
from posapp.services.members import (
    Enrolment,
    Identification,
    MemberCard,
    enrol_member,
    identify,
    member_card,
    reveal_phone,
)
from posapp.services.sales import SaleResult, record_sale
from posapp.services.staff import SignedIn, guard_unsynced, require, roster, sign_in
from posapp.store.db import Database
from posapp.store.local_days import store_today, store_zone
from posapp.store.models import Store, SyncState


@dataclass(frozen=True, slots=True)
class StoreInfo:
    store_id: str | None
    name: str


@dataclass(frozen=True, slots=True)
class SaleDone:
    """A recorded sale and the invites the customer is shown for it."""

    sale: SaleResult
    invites: list[IssuedInvite]
    card: MemberCard | None = None  # the member's card after this sale, when it was theirs


@dataclass(frozen=True, slots=True)
class EnrolDone:
    enrolment: Enrolment
    card: MemberCard


class Counter:
    """One counter's store, signer and notice; the screen's operations."""

    def __init__(
        self,
        db: Database,
        *,
        signer: Signer,
        region: str = "CN",
        language: str = "zh-CN",
        ask_hq: Asker | None = None,
    ) -> None:
        """``ask_hq``: how a registered counter asks HQ for a member (none: it does not)."""
        self.db = db
        self.signer = signer
        self.region = region
        self.language = language
        self.asker = ask_hq
        self._side: ThreadPoolExecutor | None = None  # the dashboard's second reader

    def notice(self, language: str | None = None) -> Notice:
        return current_notice(language or self.language)

    def store(self) -> StoreInfo:
        with self.db.read() as session:
            store_id = session.scalar(select(SyncState.store_id).where(SyncState.id == 1))
            name = (
                session.scalar(select(Store.name).where(Store.id == store_id)) if store_id else None
            )
            if name is None:
                name = session.scalar(select(Store.name).order_by(Store.id).limit(1))
        return StoreInfo(store_id, name or "")  # none yet: the screens say no name, not ours

    def roster(self) -> list[SignedIn]:
        with self.db.read() as session:
            return roster(session)

    def sign_in(self, *, staff_id: str, pin: str) -> SignedIn:
        with self.db.write() as session:
            return sign_in(session, staff_id=staff_id, pin=pin)

    def identify(self, text: str) -> Identification:
        with self.db.lookup() as lookup:
            return identify(lookup, text, region=self.region)

    def ask_hq(self, query: CounterQuery) -> HqAnswer:
        """HQ's member for a whole phone or code nobody here has (no database: the I/O thread)."""
        if self.asker is None:
            return HqAnswer(None, "This counter is not registered with HQ.")
        return ask_hq(self.asker, query)

    def keep_from_hq(self, asked: HqAnswer, text: str) -> Identification:
        """The member HQ answered kept here, then ``text`` identified again."""
        return keep_and_identify(self.db, asked, text, region=self.region)

    def card(self, member_id: str) -> MemberCard:
        with self.db.lookup() as lookup:
            return member_card(lookup, member_id, region=self.region)

    def sell(
        self,
        *,
        receipt_no: str,
        amount: str | int | Decimal,
        staff_id: str | None,
        member_id: str | None = None,
        guide_id: str | None = None,
        gift: bool = False,
        member_code_ref: str | None = None,
    ) -> SaleDone:
        """Record the sale and, in the same transaction, the invites its customer is shown.

        ``staff_id`` rang it up; ``guide_id`` served the customer: the sale and its invites
        (the QR's staff number) are credited to the guide, never to the till operator.
        ``member_code_ref``: a member of another store, known only by the code scanned
        (``Identification.unverified_code``); HQ credits the sale to them after sync.
        """
        with self.db.write() as session:
            sale = record_sale(
                session, receipt_no=receipt_no, amount=amount, staff_id=staff_id,
                member_id=member_id, guide_id=guide_id, gift=gift,
                member_code_ref=member_code_ref,
            )  # fmt: skip
            invites = invites_for_customer(
                session, self.signer, member_id=sale.member_id, purchase_id=sale.purchase_id,
                staff_id=guide_id,
            )  # fmt: skip
        card = self.card(sale.member_id) if sale.member_id else None
        return SaleDone(sale, invites, card)

    def invites(
        self, *, member_id: str | None, staff_id: str | None, purchase_id: str | None = None
    ) -> list[IssuedInvite]:
        with self.db.write() as session:
            return invites_for_customer(
                session, self.signer, member_id=member_id, staff_id=staff_id,
                purchase_id=purchase_id,
            )  # fmt: skip

    def enrol(
        self,
        *,
        phone: str,
        consents: set[Purpose],
        staff_id: str | None,
        name: str | None = None,
        birthday: date | None = None,
        purchase_id: str | None = None,
        guide_id: str | None = None,
        guardian_consent: bool = False,
    ) -> EnrolDone:
        """Enrol (the walk-in's sale, when given, becomes theirs) and return the new card."""
        store = self.store()
        with self.db.write() as session:
            done = enrol_member(
                session, phone=phone, consents=consents, notice=self.notice(),
                staff_id=staff_id, name=name, birthday=birthday, purchase_id=purchase_id,
                guide_id=guide_id, guide_from_staff=False, guardian_consent=guardian_consent,
                store_id=store.store_id, region=self.region,
            )  # fmt: skip
        return EnrolDone(done, self.card(done.member_id))

    def reveal_phone(self, *, member_id: str, staff_id: str) -> str:
        with self.db.write() as session:
            return reveal_phone(session, member_id=member_id, staff_id=staff_id)

    def check_manager(self, *, staff_id: str, pin: str, permission: Permission) -> SignedIn:
        """A manager confirms an action at someone else's session: PIN, then permission."""
        with self.db.write() as session:
            who = sign_in(session, staff_id=staff_id, pin=pin)
            require(session, who.staff_id, permission)
        return who

    def allow(self, *, staff_id: str, permission: Permission) -> None:
        """A manager-only screen opens only for a manager; asking is audited either way."""
        with self.db.write() as session:
            require(session, staff_id, permission)

    def my_customers(self, *, guide_id: str) -> list[CustomerRow]:
        with self.db.lookup() as lookup:
            return my_customers(lookup, guide_id, store_today(lookup), region=self.region)

    def on_wecom(self, *, guide_id: str) -> bool:
        """Whether customers can add this guide in WeCom (HQ holds their account)."""
        with self.db.lookup() as lookup:
            return lookup.staff_on_wecom(guide_id)

    def complete_follow_up(
        self, *, follow_up_id: str, staff_id: str, channel: str, outcome: str
    ) -> CompletedFollowUp:
        with self.db.write() as session:
            return complete_follow_up(session, follow_up_id, staff_id, channel, outcome)

    def request_reassignment(
        self, *, member_id: str, to_guide_id: str, manager_id: str
    ) -> ReassignmentRequest:
        with self.db.write() as session:
            return request_reassignment(session, member_id, to_guide_id, manager_id)

    def dashboard(
        self, *, first: date | None = None, last: date | None = None, span: str | None = None
    ) -> Dashboard:
        """The store's figures for whole days ``first``..``last`` (the manager's view), or for
        ``span`` ("today", "week": up to today) on the store's calendar, not the PC's."""
        store_id = self.store().store_id
        with self.db.lookup() as lookup:
            zone = store_zone(lookup)
            if span is not None:
                last = store_today(lookup)
                first = last if span == "today" else last - timedelta(days=last.weekday())
            assert first is not None and last is not None, "days or a span"
            period = Period.days(first, last, zone)
        if self._side is None:  # one thread for the counter's life: one more connection, kept
            self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard")
        return figures(self.db, period, store_id=store_id, side=self._side)

    def guard_unsynced(self, *, action: str, manager_id: str | None = None) -> int:
        with self.db.write() as session:
            return guard_unsynced(session, action=action, manager_id=manager_id)
