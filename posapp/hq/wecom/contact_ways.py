"""WeCom contact ways ("contact me" QR codes) HQ makes: one per guide-contact invite, and a
permanent one per guide for the printed card and the store standee.

WeCom keeps at most 500,000 API-made contact ways per corp and never shows them in its
admin console (add_contact_way, path 92228): each one made here is recorded before it is
shown and deleted once the customer has added the guide or the invite expired, and
``sweep_contact_ways`` deletes any WeCom still holds that HQ has no live record of.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posapp.domain.invite import INVITE_DAYS, TOKEN_LENGTH
from posapp.hq.models import Staff
from posapp.hq.wecom.errors import WeComError, WeComRefused
from posapp.hq.wecom.gateway import WeComGateway
from posapp.hq.wecom.models import WeComContactWay, WeComGuide
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
    session: Session,
    gateway: WeComGateway,
    invite_token: str,
    guide_userid: str,
    *,
    staff_id: str | None = None,
    store_id: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> ContactQr:
    """The guide's WeCom QR for this invite (``state`` = the token), made once and cached."""
    moment = now or utcnow()
    if len(invite_token) > STATE_LIMIT:
        raise ValueError("an invite token longer than a contact way's state")
    cached = session.get(WeComContactWay, invite_token)
    if cached is not None and cached.userid == guide_userid:
        if cached.deleted_at is None:
            return ContactQr(cached.qr_code)
        if cached.added_at is not None:
            return ContactQr(None, "already_added")
    try:
        way = gateway.add_contact_way(guide_userid, invite_token, remark="posapp invite")
    except WeComRefused as exc:
        return ContactQr(None, exc.rule)
    except WeComError:
        return ContactQr(None, "unavailable")
    row = WeComContactWay(
        token=invite_token, config_id=way.config_id, qr_code=way.qr_code, userid=guide_userid,
        staff_id=staff_id, store_id=store_id, created_at=moment,
        expires_at=expires_at or moment + timedelta(days=INVITE_DAYS),
    )  # fmt: skip
    try:
        with session.begin_nested():
            if cached is not None:  # a deleted one, or one for a guide whose userid changed
                _delete_way(gateway, cached.config_id)
                session.delete(cached)
                session.flush()
            session.add(row)
    except IntegrityError:  # another request made one for this invite at the same moment
        _delete_way(gateway, way.config_id)
        other = session.get(WeComContactWay, invite_token)
        return ContactQr(other.qr_code if other is not None else None)
    return ContactQr(way.qr_code)


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
    session: Session, gateway: WeComGateway, invite_token: str, *, now: datetime, added: bool
) -> bool:
    """The invite's contact way is done with (the customer added the guide, or it expired)."""
    way = session.get(WeComContactWay, invite_token)
    if way is None or way.deleted_at is not None:
        return False
    if added and way.added_at is None:
        way.added_at = now
    if _delete_way(gateway, way.config_id):
        way.deleted_at = now
        return True
    return False  # the sweep deletes it later


@dataclass(frozen=True, slots=True)
class Swept:
    deleted: int
    orphans: int
    left: int  # WeCom unreachable: tried again at the next sweep


def sweep_contact_ways(
    session: Session, gateway: WeComGateway, *, now: datetime | None = None
) -> Swept:
    """Delete every contact way whose invite expired or was used, and any WeCom holds that
    HQ made (within the window) but has no live record of (a commit that never happened)."""
    moment = now or utcnow()
    done = session.scalars(
        select(WeComContactWay).where(
            WeComContactWay.deleted_at.is_(None),
            (WeComContactWay.expires_at < moment) | WeComContactWay.added_at.is_not(None),
        )
    ).all()
    deleted = left = 0
    for way in done:
        if _delete_way(gateway, way.config_id):
            way.deleted_at = moment
            deleted += 1
        else:
            left += 1
    orphans = 0
    try:
        made = gateway.list_contact_ways(
            int((moment - ORPHAN_WINDOW).timestamp()), int(moment.timestamp())
        )
    except WeComError:
        return Swept(deleted, 0, left + 1)
    known = set(
        session.scalars(
            select(WeComContactWay.config_id).where(WeComContactWay.deleted_at.is_(None))
        )
    ) | set(session.scalars(select(WeComGuide.config_id).where(WeComGuide.config_id.is_not(None))))
    for config_id in made:
        if config_id not in known:
            if _delete_way(gateway, config_id):
                orphans += 1
            else:
                left += 1
    return Swept(deleted, orphans, left)


def set_guide_userid(
    session: Session,
    gateway: WeComGateway,
    staff_id: str,
    userid: str,
    *,
    now: datetime | None = None,
) -> ContactQr:
    """Give a guide a WeCom userid (admin CLI/API); the permanent contact way follows it."""
    moment = now or utcnow()
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise LookupError(f"no staff {staff_id}")
    guide = session.get(WeComGuide, staff_id)
    if guide is None:
        guide = WeComGuide(staff_id=staff_id, guide_code=guide_code(staff.staff_no), userid=userid,
                           updated_at=moment)  # fmt: skip
        session.add(guide)
    guide.userid, guide.departed_at, guide.updated_at = userid, None, moment
    session.flush()
    return ensure_guide_way(session, gateway, guide, now=moment)


def ensure_guide_way(
    session: Session, gateway: WeComGateway, guide: WeComGuide, *, now: datetime
) -> ContactQr:
    """The guide's permanent QR, made again when the userid changed (or the last try failed)."""
    if guide.config_id is not None and guide.way_userid == guide.userid:
        return ContactQr(guide.qr_code)
    if guide.config_id is not None:
        if not _delete_way(gateway, guide.config_id):
            return ContactQr(guide.qr_code, "unavailable")
        guide.config_id = guide.qr_code = guide.way_userid = None
    try:
        way = gateway.add_contact_way(guide.userid, guide.guide_code, remark="posapp guide card")
    except WeComRefused as exc:
        return ContactQr(None, exc.rule)
    except WeComError:
        return ContactQr(None, "unavailable")
    guide.config_id, guide.qr_code, guide.way_userid = way.config_id, way.qr_code, guide.userid
    guide.updated_at = now
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
