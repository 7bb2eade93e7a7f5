"""Redeeming a QR invite: one code path for the mini-program backend and HQ's join page.

The token is verified with the store's derived key (so tokens made offline verify), the
phone becomes one canonical member (created or merged), the store, guide and sale are
credited, a referral credits its referrer. A staff invite is one customer's: the same
customer again gets the first answer (a retry), anyone else is refused. A referral QR
serves every friend, once each.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain import invite as invites
from posapp.domain.consent import Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.ids import new_id
from posapp.domain.local_day import local_day
from posapp.domain.member_code import new_member_code
from posapp.domain.phone import parse_mobile
from posapp.domain.text import clean_name
from posapp.hq.assignment import member_by_code
from posapp.hq.console.audit import Who
from posapp.hq.members import credit_sale, sale_credited, settle_members
from posapp.hq.models import (
    Assignment,
    Consent,
    Member,
    MemberStore,
    Redemption,
    Staff,
    Store,
)
from posapp.protocol.invites import RedeemRequest, RedeemResponse


def verify_token(
    session: Session, token: str, *, master_key: bytes, today: datetime
) -> tuple[invites.Invite, Store]:
    """The invite and its store, or an ``InvalidInput`` naming what is wrong with the token."""
    claimed = invites.peek(token)
    store = session.scalar(select(Store).where(Store.store_no == claimed.store_no))
    if store is None:
        raise InvalidInput("token", "other_store", "This invite names a store HQ does not know.")
    invite = invites.verify(
        token,
        invites.store_key(master_key, store.id),
        today=local_day(today, store.timezone),  # the store's calendar, as the counter dated it
        store_no=store.store_no,
    )
    return invite, store


def _referral_key(token: str, member_id: str) -> str:
    """A member's referral QR serves every friend who scans it: one redemption per friend,
    kept under a key of token and friend (32 characters, like a token's column)."""
    return "r" + hashlib.sha256(f"{token}/{member_id}".encode()).hexdigest()[:31]


def _first_assignment(
    session: Session, member_id: str, guide_id: str, store_id: str, now: datetime
) -> None:
    """A guide is set only through an assignment: the invite's guide, a first one."""
    session.add(
        Assignment(member_id=member_id, from_guide_id=None, to_guide_id=guide_id,
                   source="invite", requested_by=guide_id, store_id=store_id, assigned_at=now)
    )  # fmt: skip


def _same_person(session: Session, earlier: Redemption, phone: str) -> bool:
    store = session.get(Store, earlier.store_id)
    member = session.get(Member, earlier.member_id)
    if store is None or member is None:
        return False
    return member.phone_e164 == parse_mobile(phone, store.region)


def redeem(
    session: Session,
    request: RedeemRequest,
    *,
    master_key: bytes,
    now: datetime,
    who: Who | None = None,
) -> RedeemResponse:
    """``who``: the mini-program's backend (its partner key), on the audit log with the member
    and the store; the join page's redemptions are the customer's own, kept as redemptions."""
    answer = _redeem(session, request, master_key=master_key, now=now)
    if who is not None:  # ids only: never the phone or the name
        who.record(session, action="invite.redeem", now=now, target=answer.member_id,
                   store_id=answer.store_id, created=answer.created, channel=answer.channel)  # fmt: skip
    return answer


def _redeem(
    session: Session, request: RedeemRequest, *, master_key: bytes, now: datetime
) -> RedeemResponse:
    earlier = session.get(Redemption, request.token)
    if earlier is not None:  # a staff invite is one customer's: a retry, or refused
        if _same_person(session, earlier, request.phone):
            return RedeemResponse.model_validate_json(earlier.response)
        raise InvalidInput(
            "token", "used", "This invite has already been used: ask the cashier for a new one."
        )
    invite, store = verify_token(session, request.token, master_key=master_key, today=now)
    granted = {c.purpose for c in request.consents if c.granted}
    if Purpose.MEMBERSHIP.value not in granted:
        raise InvalidInput(
            "consent", "membership_required", "Membership consent is needed to join."
        )
    phone = parse_mobile(request.phone, store.region)
    name = clean_name(request.name)
    guide_id = None
    if not invite.is_referral:
        guide_id = session.scalar(
            select(Staff.id).where(Staff.staff_no == invite.staff_no, Staff.store_id == store.id)
        )
    referrer = None
    if invite.referrer_code:
        referrer = member_by_code(session, invite.referrer_code)
        if referrer is not None and (
            referrer.erased_at is not None
            or session.get(MemberStore, (referrer.id, store.id)) is None
        ):
            referrer = None  # a store signs referral QRs only for members it holds
    member = session.scalar(select(Member).where(Member.phone_e164 == phone))
    if member is not None and invite.is_referral:
        again = session.get(Redemption, _referral_key(request.token, member.id))
        if again is not None:  # the same friend again: a retry
            return RedeemResponse.model_validate_json(again.response)
    created = member is None
    if member is None:
        code = new_member_code()
        while member_by_code(session, code) is not None:  # one member per code, ever
            code = new_member_code()
        member = Member(
            id=new_id(),
            member_code=code,
            phone_e164=phone,
            name=name,
            rung="member",
            guide_id=guide_id,
            home_store_id=store.id,
            enrolled_at=now,
            visit_count=0,
            lifetime_spend_fen=0,
            referrals=0,
            referred_by=referrer.id if referrer is not None else None,
            updated_at=now,
        )
        session.add(member)
        session.flush()
        if guide_id:
            _first_assignment(session, member.id, guide_id, store.id, now)
        if referrer is not None and referrer.id != member.id:
            referrer.referrals += 1
    else:
        if member.name is None and name:
            member.name = name
        if member.guide_id is None and guide_id:
            member.guide_id = guide_id
            _first_assignment(session, member.id, guide_id, store.id, now)
    member.wechat_openid = request.wechat_openid or member.wechat_openid
    member.wechat_unionid = request.wechat_unionid or member.wechat_unionid
    if session.get(MemberStore, (member.id, store.id)) is None:
        session.add(MemberStore(member_id=member.id, store_id=store.id))
    for choice in request.consents:
        session.add(
            Consent(
                member_id=member.id,
                purpose=choice.purpose,
                granted=choice.granted,
                notice_id=choice.notice.notice_id,
                notice_version=choice.notice.version,
                notice_language=choice.notice.language,
                notice_hash=choice.notice.text_hash,
                source="invite",
                store_id=store.id,
                recorded_at=now,
            )
        )
    response = RedeemResponse(
        member_id=member.id,
        member_code=member.member_code,
        created=created,
        store_id=store.id,
        guide_id=member.guide_id,
        referred_by=member.referred_by,
        channel=invite.channel.value,
    )
    session.add(
        Redemption(
            token=_referral_key(request.token, member.id) if invite.is_referral else request.token,
            store_id=store.id,
            member_id=member.id,
            guide_id=guide_id,
            channel=invite.channel.value,
            response=response.model_dump_json(),
            redeemed_at=now,
        )
    )
    session.flush()
    credit_sale(session, token=request.token, member_id=member.id)
    touched = {member.id} | ({referrer.id} if referrer is not None else set())
    settle_members(session, touched, now=now, after=sale_credited(session, token=request.token))
    return response
