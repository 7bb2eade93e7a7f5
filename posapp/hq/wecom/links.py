"""Who is whose WeCom contact: links opened by an add, ended by a removal, a transfer or
an erasure, and attached to the member once the customer has joined."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from posapp.hq.models import InviteRecord, Member, MemberAlias, Redemption
from posapp.hq.wecom.models import WeComInbox, WeComLink, WeComTransfer

REMOVED = "removed"  # the customer removed the guide (del_follow_user)
DELETED = "deleted"  # the guide removed the customer (del_external_contact)
TRANSFERRED = "transferred"
ERASED = "erased"


def external_hash(external_userid: str) -> str:
    return hashlib.sha256(external_userid.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EndedLink:
    """A link that ended: the lead's win-back follow-up starts from a ``removed`` one."""

    link_id: int
    member_id: str | None
    staff_id: str | None
    userid: str
    reason: str
    ended_at: datetime


def open_link(session: Session, external_userid: str, userid: str) -> WeComLink | None:
    return session.scalar(
        select(WeComLink).where(
            WeComLink.external_userid == external_userid,
            WeComLink.userid == userid,
            WeComLink.ended_at.is_(None),
        )
    )


def end_link(session: Session, link: WeComLink, reason: str, now: datetime) -> EndedLink:
    link.ended_at = now
    link.end_reason = reason
    return EndedLink(link.id, link.member_id, link.staff_id, link.userid, reason, now)


def is_erased(session: Session, external_userid: str) -> bool:
    """WeCom's events for a person HQ erased are acknowledged and dropped."""
    return (
        session.scalar(
            select(WeComLink.id)
            .where(
                WeComLink.external_hash == external_hash(external_userid),
                WeComLink.end_reason == ERASED,
            )
            .limit(1)
        )
        is not None
    )


def member_of_invite(session: Session, token: str) -> str | None:
    """The member an invite belongs to: who redeemed it, or the member the counter's sale had."""
    redeemed = session.get(Redemption, token)
    if redeemed is not None:
        return redeemed.member_id
    invite = session.get(InviteRecord, token)
    if invite is not None and invite.member_local_id:
        return session.scalar(
            select(MemberAlias.member_id).where(MemberAlias.local_id == invite.member_local_id)
        )
    return None


def member_by_unionid(session: Session, unionid: str) -> str | None:
    return session.scalar(select(Member.id).where(Member.wechat_unionid == unionid).limit(1))


def member_is_erased(session: Session, member_id: str) -> bool:
    member = session.get(Member, member_id)
    return member is None or member.erased_at is not None


def attach_member(session: Session, invite_token: str, member_id: str) -> int:
    """A pending link (the customer added the guide before joining) gets its member once the
    same invite is redeemed. Call it after a redemption; ``resolve_pending`` catches up."""
    return session.execute(
        update(WeComLink)
        .where(WeComLink.invite_token == invite_token, WeComLink.member_id.is_(None))
        .values(member_id=member_id)
    ).rowcount


def resolve_pending(session: Session, attached_to: set[str] | None = None) -> int:
    """Every pending link whose invite has since been redeemed gets its member (added to
    ``attached_to``)."""
    attached = 0
    pending = session.scalars(
        select(WeComLink).where(
            WeComLink.member_id.is_(None),
            WeComLink.invite_token.is_not(None),
            WeComLink.ended_at.is_(None),
        )
    ).all()
    for link in pending:
        member_id = member_of_invite(session, link.invite_token or "")
        if member_id is not None and not member_is_erased(session, member_id):
            link.member_id = member_id
            attached += 1
            if attached_to is not None:
                attached_to.add(member_id)
    return attached


def erase_member(session: Session, member_id: str, now: datetime) -> int:
    """HQ erased the member: the links end and keep no WeCom id, only its hash (so WeCom's
    later events for the person are recognised and dropped); their callbacks go."""
    links = session.scalars(select(WeComLink).where(WeComLink.member_id == member_id)).all()
    for link in links:
        if link.external_userid:
            session.execute(
                delete(WeComInbox).where(WeComInbox.external_userid == link.external_userid)
            )
        if link.ended_at is None:
            link.ended_at = now
        link.end_reason = ERASED
        link.external_userid = ""
        link.state = None
    session.execute(
        update(WeComTransfer).where(WeComTransfer.member_id == member_id).values(external_userid="")
    )
    return len(links)


def contact_of(session: Session, member_id: str) -> WeComLink | None:
    """The member's current WeCom link (the newest open one), for the card and My customers."""
    return session.scalar(
        select(WeComLink)
        .where(WeComLink.member_id == member_id, WeComLink.ended_at.is_(None))
        .order_by(WeComLink.since.desc())
        .limit(1)
    )
