"""Making the QR invites the counter shows and prints: offline, signed, attributed.

Which QRs a customer gets comes from the ladder (:func:`posapp.domain.invite.offers_for`);
each issued invite is kept here and reported to HQ as an ``invite.issued`` event with its
sale, so HQ can credit store, guide and sale even if the customer scans before we sync.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from posapp.domain import invite as tokens
from posapp.domain.errors import InvalidInput
from posapp.domain.ids import new_id
from posapp.domain.invite import Offer, Signer, invite_url, offers_for
from posapp.domain.ladder import Channel, CustomerStanding, assess
from posapp.protocol.events import InviteIssued
from posapp.services.common import require_staff
from posapp.services.standing import assess_member, ladder_rules
from posapp.store.local_days import store_today
from posapp.store.lookup import Ledger, Lookup
from posapp.store.models import Invite, Member, Staff
from posapp.store.outbox import append_event
from posapp.timefmt import utcnow


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    token: str
    url: str
    channel: Channel
    referral: bool
    expires_on: date
    member_id: str | None
    purchase_id: str | None


def channel_templates(lookup: Lookup) -> dict[str, str]:
    """HQ's URL template per channel, or the defaults until HQ has sent its own."""
    body = lookup.rule_set("channels")
    try:
        loaded = json.loads(body) if body else {}
    except ValueError:
        loaded = {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, str) and "{token}" in v}


def issue_invite(
    session: Session,
    signer: Signer,
    *,
    offer: Offer,
    staff_id: str | None = None,
    member_id: str | None = None,
    purchase_id: str | None = None,
    now: datetime | None = None,
) -> IssuedInvite:
    """Sign one invite, keep it and report it to HQ, in the caller's transaction.

    A referral invite is the member's own (their member code inside) and the same all day:
    asking again returns the one already issued.
    """
    now = now or utcnow()
    require_staff(session, staff_id)
    ledger = Ledger.within(session)
    staff_no = 0
    if staff_id is not None:
        staff_no = session.scalar(select(Staff.staff_no).where(Staff.id == staff_id)) or 0
    issued_on = store_today(ledger, now)  # an invite lasts whole days of the store's calendar
    if offer.referral:
        code = session.scalar(
            select(Member.member_code).where(Member.id == member_id, Member.erased_at.is_(None))
        )
        if code is None or not code.isdigit():
            raise InvalidInput("member", "unknown", "Only a known member has a referral QR.")
        invite = tokens.Invite(offer.channel, signer.store_no, issued_on, referrer_code=code)
    else:
        serial = session.scalar(select(func.coalesce(func.max(Invite.serial), 0))) or 0
        invite = tokens.Invite(
            offer.channel,
            signer.store_no,
            issued_on,
            device_no=signer.device_no,
            staff_no=staff_no,
            serial=(serial + 1) % tokens.LIMITS["serial"],
        )
    token = tokens.issue(invite, signer.key)
    url = invite_url(channel_templates(ledger), offer.channel, token)
    result = IssuedInvite(
        token, url, offer.channel, offer.referral, invite.expires_on(), member_id, purchase_id
    )
    if session.scalar(select(Invite.id).where(Invite.token == token)) is not None:
        return result
    session.add(
        Invite(
            id=new_id(),
            token=token,
            channel=offer.channel.value,
            serial=invite.serial,
            staff_id=staff_id,
            member_id=member_id,
            purchase_id=purchase_id,
            issued_at=now,
            expires_at=datetime.combine(invite.expires_on(), datetime.min.time())
            + timedelta(days=1),
        )
    )
    session.flush()
    append_event(
        ledger,
        InviteIssued(
            token=token,
            channel=offer.channel.value,  # type: ignore[arg-type]
            staff_id=staff_id,
            member_id=member_id,
            purchase_id=purchase_id,
            issued_at=now,
            referral=offer.referral,
        ),
        now=now,
    )
    return result


def invites_for_customer(
    session: Session,
    signer: Signer,
    *,
    member_id: str | None,
    purchase_id: str | None = None,
    staff_id: str | None = None,
    now: datetime | None = None,
) -> list[IssuedInvite]:
    """The QRs the ladder suggests for this customer (a walk-in when ``member_id`` is None)."""
    now = now or utcnow()
    lookup = Lookup.within(session)
    if member_id is None:
        assessment = assess(CustomerStanding(is_member=False), ladder_rules(lookup), now.date())
        has_guide = False
    else:
        row = lookup.member_by_id(member_id)
        if row is None:
            raise InvalidInput("member", "unknown", "This member is not known at this counter.")
        assessment, _ = assess_member(lookup, row, today=now.date())
        has_guide = row.guide_id is not None
    return [
        issue_invite(session, signer, offer=offer, staff_id=staff_id, member_id=member_id,
                     purchase_id=purchase_id, now=now)
        for offer in offers_for(assessment, has_guide=has_guide)
    ]  # fmt: skip
