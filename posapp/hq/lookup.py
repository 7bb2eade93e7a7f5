"""A counter asks HQ for a member of another store of the brand: one full key, one answer.

Members are the brand's, not a store's: a customer who joined at store A is recognised at
store B in one scan. Only a whole phone (E.164) or a member code with a valid check digit
is looked up; a last four or a name prefix stays at the store, so no counter can list
another store's customers. The asking store becomes a holder of the member, so their later
changes (consents, guide, merges, erasure) reach it through its ordinary feed; each look-up
is kept in ``member_lookup`` for HQ's administrators, with the member found or nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.member_code import is_member_code
from posapp.domain.phone import parse_mobile
from posapp.hq.assignment import member_by_code
from posapp.hq.db import HqDatabase
from posapp.hq.feed import Pending, emit, member_views
from posapp.hq.models import Member, MemberLookup, MemberStore, Store
from posapp.hq.ratelimit import wait_for_minute
from posapp.hq.schemas import LookupRecord
from posapp.protocol.sync import MemberLookupAnswer, MemberLookupRequest

LookupKind = Literal["phone", "member_code"]
FOUND, NOT_FOUND, RATE_LIMITED = "found", "not_found", "rate_limited"
ONLY_WHOLE_KEYS = (
    "HQ looks a member up by the whole phone (E.164: + and the country code first) or the"
    " whole member code only; last four digits and names are searched at the store."
)


@dataclass(frozen=True, slots=True)
class LookupKey:
    kind: LookupKind
    value: str


class TooManyLookups(Exception):
    """This counter has asked for more members this minute than a till serves (HTTP 429)."""

    def __init__(self, wait_s: int, limit: int) -> None:
        super().__init__(
            f"This counter has looked up {limit} members at HQ this minute, its limit;"
            f" try again in {wait_s} s (the store's own members are still found)."
        )
        self.wait_s = wait_s


def lookup_key(request: MemberLookupRequest) -> LookupKey:
    """The one whole key asked for, or ``InvalidInput`` (422) naming the rule it breaks."""
    phone, code = request.phone_e164, request.member_code
    if (phone is None) == (code is None):
        raise InvalidInput("lookup", "one_key", "Give exactly one: phone_e164 or member_code.")
    if phone is not None:
        if not phone.startswith("+"):
            raise InvalidInput("phone_e164", "whole_phone", ONLY_WHOLE_KEYS)
        try:
            e164 = parse_mobile(phone)
        except InvalidInput as exc:
            raise InvalidInput("phone_e164", "whole_phone", ONLY_WHOLE_KEYS) from exc
        if e164 != phone:
            raise InvalidInput("phone_e164", "whole_phone", ONLY_WHOLE_KEYS)
        return LookupKey("phone", e164)
    assert code is not None
    if not is_member_code(code):
        raise InvalidInput("member_code", "whole_code", ONLY_WHOLE_KEYS)
    return LookupKey("member_code", code)


def serve(
    database: HqDatabase,
    *,
    device_id: str,
    store_id: str,
    request: MemberLookupRequest,
    limit: int,
    now: datetime,
) -> MemberLookupAnswer:
    """The route's whole work, in one transaction: refused (422) unless one whole key,
    counted against the counter's minute (over ``limit``: the refusal is audited, then
    ``TooManyLookups``), looked up and audited."""
    key = lookup_key(request)
    with database.write() as session:
        wait = wait_for_minute(session, f"lookup:{device_id}", limit=limit, now=now)
        if wait:
            _audit(session, device_id, store_id, key.kind, RATE_LIMITED, None, now)
        else:
            answer = look_up(session, device_id=device_id, store_id=store_id, key=key, now=now)
    if wait:
        raise TooManyLookups(wait, limit)
    return answer


def look_up(
    session: Session, *, device_id: str, store_id: str, key: LookupKey, now: datetime
) -> MemberLookupAnswer:
    """The member for ``key`` as the feed sends them; the store now holds them.

    A store new to the member is also sent them down its feed, in this transaction: a
    counter that lost this answer (its budget ran out) still gets the member by its next
    pull, and one that kept it applies the same member again, unchanged."""
    member_id = _find(session, key)
    _audit(session, device_id, store_id, key.kind, FOUND if member_id else NOT_FOUND,
           member_id, now)  # fmt: skip
    if member_id is None:
        return MemberLookupAnswer()
    view = member_views(session, [member_id])[member_id]
    if session.get(MemberStore, (member_id, store_id)) is None:
        session.add(MemberStore(member_id=member_id, store_id=store_id))
        session.flush()
        emit(session, [Pending(store_id, "member", member_id, view)], now=now)
    home = session.get(Store, view.home_store_id) if view.home_store_id else None
    return MemberLookupAnswer(member=view, enrolled_store_name=home.name if home else "")


def _find(session: Session, key: LookupKey) -> str | None:
    """The member's id, or ``None`` for nobody and for an erased member alike."""
    if key.kind == "phone":
        return session.scalar(
            select(Member.id).where(Member.phone_e164 == key.value, Member.erased_at.is_(None))
        )
    member = member_by_code(session, key.value)  # two index probes (one OR read every row)
    return member.id if member is not None and member.erased_at is None else None


def _audit(
    session: Session,
    device_id: str,
    store_id: str,
    kind: str,
    outcome: str,
    member_id: str | None,
    now: datetime,
) -> None:
    session.add(
        MemberLookup(device_id=device_id, store_id=store_id, kind=kind, outcome=outcome,
                     member_id=member_id, looked_at=now)
    )  # fmt: skip


def recent_lookups(
    session: Session,
    *,
    device_id: str | None = None,
    member_id: str | None = None,
    limit: int = 100,
) -> list[LookupRecord]:
    """The latest look-ups, newest first, of one counter or of one member, or of all."""
    query = select(MemberLookup).order_by(MemberLookup.id.desc()).limit(limit)
    if device_id is not None:
        query = query.where(MemberLookup.device_id == device_id)
    if member_id is not None:
        query = query.where(MemberLookup.member_id == member_id)
    return [
        LookupRecord(at=r.looked_at.isoformat(), device_id=r.device_id, store_id=r.store_id,
                     kind=r.kind, outcome=r.outcome, member_id=r.member_id)
        for r in session.scalars(query)
    ]  # fmt: skip
