"""Recognising, enrolling and caring for members at the counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain import consent as consent_rules
from posapp.domain.consent import Notice, Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.ids import new_id
from posapp.domain.ladder import Assessment
from posapp.domain.lookup import CounterQuery, QueryKind, classify_query
from posapp.domain.member_code import new_member_code
from posapp.domain.phone import DEFAULT_REGION, last_four, mask_phone, parse_mobile
from posapp.domain.roles import Permission, may_guide
from posapp.domain.text import clean_name
from posapp.protocol.events import ConsentChanged, ConsentChoice, MemberEnrolled, NoticeRef
from posapp.services.common import require_guide, require_staff
from posapp.services.sales import link_sale
from posapp.services.staff import require
from posapp.services.standing import assess_member, current_consents, reassess
from posapp.services.wecom_contacts import WeComContact, contact_of
from posapp.store.lookup import Ledger, Lookup, MemberRow
from posapp.store.models import ConsentRecord, Member, Staff
from posapp.store.outbox import append_event
from posapp.timefmt import utcnow

MAX_CANDIDATES = 20


@dataclass(frozen=True, slots=True)
class MemberSummary:
    """One line in a candidate list; the phone is already masked."""

    id: str
    member_code: str
    phone_masked: str
    name: str | None
    rung: str
    visit_count: int
    lifetime_spend_fen: int
    last_visit_at: datetime | None


@dataclass(frozen=True, slots=True)
class MemberSince:
    """A member who joined at another store: "member since … at <store>"."""

    enrolled_at: datetime
    store_name: str


@dataclass(frozen=True, slots=True)
class MemberCard:
    """What the cashier sees once a member is recognised."""

    summary: MemberSummary
    birthday: date | None
    guide_id: str | None
    guide_name: str | None
    consents: dict[Purpose, bool]
    assessment: Assessment
    wecom: WeComContact | None = None  # the guide's WeCom contact (HQ's word), or not yet
    since: MemberSince | None = None  # joined at another store of the brand

    @property
    def id(self) -> str:
        return self.summary.id


@dataclass(frozen=True, slots=True)
class Identification:
    query: CounterQuery
    candidates: list[MemberSummary]
    card: MemberCard | None

    @property
    def exact(self) -> bool:
        return self.query.exact

    @property
    def unverified_code(self) -> str | None:
        """A member code whose check digit is right but that nobody here holds: a member of
        another store, not verified offline. A sale for them carries the code for HQ."""
        if self.query.kind is QueryKind.MEMBER_CODE and not self.candidates:
            return self.query.value
        return None


def _summary(row: MemberRow, region: str) -> MemberSummary:
    return MemberSummary(
        id=row.id,
        member_code=row.member_code,
        phone_masked=mask_phone(row.phone_e164, region) if row.phone_e164 else "",
        name=row.name,
        rung=row.rung,
        visit_count=row.visit_count,
        lifetime_spend_fen=row.lifetime_spend_fen,
        last_visit_at=row.last_visit_at,
    )


def identify(
    lookup: Lookup, raw: str, *, region: str = DEFAULT_REGION, today: date | None = None
) -> Identification:
    """Find who is at the counter from one scan or typed entry.

    A phone or member code gives at most one member, with their card; the last four
    digits or a name prefix give up to 20 candidates, most recent visit first.
    """
    query = classify_query(raw, region)
    if query.kind is QueryKind.PHONE:
        found = lookup.member_by_phone(query.value)
        rows = [found] if found else []
    elif query.kind is QueryKind.MEMBER_CODE:
        found = lookup.member_by_code(query.value)
        rows = [found] if found else []
    elif query.kind is QueryKind.LAST_FOUR:
        rows = lookup.members_by_last4(query.value, MAX_CANDIDATES)
    else:
        rows = lookup.members_by_name_prefix(query.value, MAX_CANDIDATES)
    candidates = [_summary(r, region) for r in rows]
    card = None
    if rows and query.exact:
        card = _card(lookup, rows[0], candidates[0], today=today or utcnow().date())
    return Identification(query, candidates, card)


@dataclass(frozen=True, slots=True)
class MemberReference:
    """Whom a sale is for: a member this store holds, or a member code it does not know."""

    member_id: str | None = None
    code_ref: str | None = None  # a valid code of another store's member: HQ credits it later


_NAMED_BY = {
    "member_code": (QueryKind.MEMBER_CODE, "a member code"),
    "phone": (QueryKind.PHONE, "a full mobile number"),
}


def member_by_reference(
    lookup: Lookup,
    raw: str,
    *,
    field: str = "member",
    region: str = DEFAULT_REGION,
    references: bool = True,
) -> MemberReference:
    """The one rule turning what names a member on a sale into that member.

    ``field`` is what the caller calls the value: ``"member_code"`` or ``"phone"`` accept
    only that kind, ``"member"`` either; every refusal names ``field``. A full phone must be
    a member here (one offline needs consent: the enrolment path). A valid member code nobody
    here holds is, with ``references``, a reference HQ credits when the sale reaches it.
    """
    try:
        found = identify(lookup, raw, region=region)
    except InvalidInput as exc:
        raise InvalidInput(field, exc.rule, exc.message) from None
    wanted = _NAMED_BY.get(field)
    if wanted is None and not found.query.exact:
        raise InvalidInput(field, "not_exact", "Give the member's full phone or member code.")
    if wanted is not None and found.query.kind is not wanted[0]:
        raise InvalidInput(field, "wrong_kind", f"{field} must be {wanted[1]}.")
    if found.card is not None:
        return MemberReference(member_id=found.card.id)
    if references and found.unverified_code is not None:
        return MemberReference(code_ref=found.unverified_code)
    what = {"member_code": "member code", "phone": "phone"}.get(field, "phone or member code")
    raise InvalidInput(field, "unknown", f"No member at this store has this {what}.")


def member_card(
    lookup: Lookup, member_id: str, *, region: str = DEFAULT_REGION, today: date | None = None
) -> MemberCard:
    """The card for a member picked from a candidate list."""
    row = lookup.member_by_id(member_id)
    if row is None:
        raise InvalidInput("member", "unknown", "No such member at this store.")
    return _card(lookup, row, _summary(row, region), today=today or utcnow().date())


def _card(lookup: Lookup, row: MemberRow, summary: MemberSummary, *, today: date) -> MemberCard:
    assessment, consents = assess_member(lookup, row, today=today)
    return MemberCard(
        summary=summary,
        birthday=row.birthday,
        guide_id=row.guide_id,
        guide_name=row.guide_name,
        consents=consents,
        assessment=assessment,
        wecom=contact_of(row),
        since=(
            MemberSince(row.enrolled_at, row.joined_at_store)
            if row.joined_at_store and row.enrolled_at
            else None
        ),
    )


def _notice_ref(notice: Notice) -> NoticeRef:
    return NoticeRef(
        notice_id=notice.notice_id,
        version=notice.version,
        language=notice.language,
        text_hash=notice.text_hash,
    )


def _record_consent(
    session: Session,
    *,
    member_id: str,
    purpose: Purpose,
    granted: bool,
    notice: Notice,
    staff_id: str | None,
    now: datetime,
) -> ConsentChoice:
    session.add(
        ConsentRecord(
            member_id=member_id,
            purpose=purpose.value,
            granted=granted,
            notice_id=notice.notice_id,
            notice_version=notice.version,
            notice_language=notice.language,
            notice_hash=notice.text_hash,
            staff_id=staff_id,
            recorded_at=now,
        )
    )
    return ConsentChoice(purpose=purpose.value, granted=granted, notice=_notice_ref(notice))


@dataclass(frozen=True, slots=True)
class Enrolment:
    member_id: str
    member_code: str
    created: bool


def enrol_member(
    session: Session,
    *,
    phone: str,
    consents: frozenset[Purpose] | set[Purpose],
    notice: Notice,
    staff_id: str | None,
    name: str | None = None,
    birthday: date | None = None,
    guardian_consent: bool = False,
    guide_id: str | None = None,
    guide_from_staff: bool = True,
    purchase_id: str | None = None,
    store_id: str | None = None,
    region: str = DEFAULT_REGION,
    now: datetime | None = None,
) -> Enrolment:
    """Make a walk-in a member; the same phone twice gives the same member, written once.

    ``guide_from_staff``: with no ``guide_id``, a signed-in guide is the guide (the command
    line); the counter screen says who served itself, "no guide" included.
    """
    now = now or utcnow()
    e164 = parse_mobile(phone, region)
    clean = clean_name(name)
    consent_rules.check_enrolment(
        frozenset(consents), birthday=birthday, today=now.date(), guardian_consent=guardian_consent
    )
    existing = session.execute(
        select(Member.id, Member.member_code).where(Member.phone_e164 == e164)
    ).one_or_none()
    if existing is not None:
        if purchase_id is not None:  # already a member: the walk-in's sale is still theirs
            link_sale(session, purchase_id=purchase_id, member_id=existing.id, now=now)
        return Enrolment(existing.id, existing.member_code, created=False)
    require_staff(session, staff_id)
    # The guide who served is credited; the cashier who typed it in only if they are a guide.
    guide = guide_id
    if guide is None and guide_from_staff and staff_id is not None:
        role = session.scalar(select(Staff.role).where(Staff.id == staff_id))
        guide = staff_id if may_guide(role) else None
    require_guide(session, guide)
    code = new_member_code()
    while session.scalar(select(Member.id).where(Member.member_code == code)) is not None:
        code = new_member_code()
    member_id = new_id()
    session.add(
        Member(
            id=member_id,
            member_code=code,
            phone_e164=e164,
            phone_last4=last_four(e164),
            name=clean,
            birthday=birthday,
            rung="member",
            guide_id=guide,
            enrolled_store_id=store_id,
            enrolled_by=staff_id,
            enrolled_at=now,
            visit_count=0,
            lifetime_spend_fen=0,
            referrals=0,
            guardian_consent=guardian_consent,
            updated_at=now,
            joined_via="counter",
            joined_guide_id=guide,
        )
    )
    session.flush()
    choices = [
        _record_consent(
            session,
            member_id=member_id,
            purpose=purpose,
            granted=True,
            notice=notice,
            staff_id=staff_id,
            now=now,
        )
        for purpose in Purpose
        if purpose in consents
    ]
    append_event(
        Ledger.within(session),
        MemberEnrolled(
            member_id=member_id,
            member_code=code,
            phone_e164=e164,
            name=clean,
            birthday=birthday,
            guardian_consent=guardian_consent,
            staff_id=staff_id,
            guide_id=guide,
            purchase_id=purchase_id,
            consents=choices,
            enrolled_at=now,
        ),
        now=now,
    )
    if purchase_id is not None:
        link_sale(session, purchase_id=purchase_id, member_id=member_id, now=now, announce=False)
    reassess(session, member_id, now=now)
    return Enrolment(member_id, code, created=True)


def change_consent(
    session: Session,
    *,
    member_id: str,
    purpose: Purpose,
    granted: bool,
    notice: Notice,
    staff_id: str | None,
    now: datetime | None = None,
) -> bool:
    """Grant or withdraw one purpose; returns False when it was already so (nothing written)."""
    now = now or utcnow()
    if session.scalar(select(Member.erased_at).where(Member.id == member_id)) is not None:
        raise InvalidInput("member", "erased", "This member's data has been erased.")
    if session.scalar(select(Member.id).where(Member.id == member_id)) is None:
        raise InvalidInput("member", "unknown", "No such member at this store.")
    if current_consents(Lookup.within(session), member_id)[purpose] == granted:
        return False
    choice = _record_consent(
        session,
        member_id=member_id,
        purpose=purpose,
        granted=granted,
        notice=notice,
        staff_id=staff_id,
        now=now,
    )
    append_event(
        Ledger.within(session),
        ConsentChanged(member_id=member_id, staff_id=staff_id, choice=choice, changed_at=now),
        now=now,
    )
    reassess(session, member_id, now=now)
    return True


def reveal_phone(
    session: Session, *, member_id: str, staff_id: str, now: datetime | None = None
) -> str:
    """A manager sees the full number; the reveal is written to the audit log."""
    require(session, staff_id, Permission.REVEAL_PHONE, subject_id=member_id, now=now)
    phone = session.scalar(select(Member.phone_e164).where(Member.id == member_id))
    if phone is None:
        raise InvalidInput("member", "unknown", "No phone number is held for this member.")
    return phone
