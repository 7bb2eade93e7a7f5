"""Recognising a member of another store of the brand: the store first, then HQ.

A phone or member code the store does not know may be a customer who joined at another
store. While HQ is reachable the counter asks it once, within a short budget (the customer
is waiting), and keeps the member HQ answers exactly as its feed would have brought them
(``hq_changes.apply_page``, one transaction): the feed and a later snapshot write the same
row again, the member's consents come with them and are not asked again, and the next scan
is local. Whatever goes wrong with HQ, the cashier has the walk-in path and one line
saying HQ could not be asked: asking is never an error at the counter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from posapp.domain.lookup import CounterQuery, QueryKind
from posapp.domain.phone import DEFAULT_REGION
from posapp.protocol.changes import MemberChange
from posapp.protocol.sync import MemberLookupAnswer
from posapp.services.members import Identification, identify
from posapp.store.db import Database
from posapp.store.hq_changes import apply_page
from posapp.store.models import Store

log = logging.getLogger("posapp.lookup")

Asker = Callable[[CounterQuery], MemberLookupAnswer]
"""Asks HQ for one phone or code (``posapp.sync.lookup.hq_asker``); raises when it cannot."""


@dataclass(frozen=True, slots=True)
class HqAnswer:
    """What came of asking HQ: its answer, or why there is none (``failed``)."""

    answer: MemberLookupAnswer | None
    failed: str = ""

    @property
    def member_id(self) -> str | None:
        member = self.answer.member if self.answer else None
        return member.member_id if member else None


@dataclass(frozen=True, slots=True)
class BrandIdentification:
    """Who is at the counter, looked for here and, on a miss, at HQ (``asked``; ``None``:
    HQ was not asked, the store knew them or the entry was not a whole key)."""

    found: Identification
    asked: HqAnswer | None = None

    @property
    def hq_could_not_be_asked(self) -> bool:
        return self.asked is not None and bool(self.asked.failed)


def identify_in_brand(
    db: Database, raw: str, *, ask: Asker | None, region: str = DEFAULT_REGION
) -> BrandIdentification:
    """``identify`` here; a whole phone or code nobody here has is asked of HQ (``ask``;
    ``None``: not registered), and the member HQ knows is kept and identified here."""
    with db.lookup() as lookup:
        found = identify(lookup, raw, region=region)
    if found.card is not None or ask is None or not worth_asking(found.query):
        return BrandIdentification(found)
    asked = ask_hq(ask, found.query)
    if asked.member_id is None:
        return BrandIdentification(found, asked)
    return BrandIdentification(keep_and_identify(db, asked, raw, region=region), asked)


def keep_and_identify(
    db: Database, asked: HqAnswer, raw: str, *, region: str = DEFAULT_REGION
) -> Identification:
    """The member HQ answered, written here in one transaction, then found as any member."""
    if asked.answer is not None:
        with db.write() as session:
            keep_member(session, asked.answer)
    with db.lookup() as lookup:
        return identify(lookup, raw, region=region)


def worth_asking(query: CounterQuery) -> bool:
    """Only a whole phone or member code goes to HQ; a last four or a name stays here."""
    return query.kind in (QueryKind.PHONE, QueryKind.MEMBER_CODE)


def ask_hq(ask: Asker, query: CounterQuery) -> HqAnswer:
    """Ask HQ once; any failure (down, slow, refused, 429, garbage) is an answer too."""
    if not worth_asking(query):
        raise ValueError(f"HQ is never asked for a {query.kind.value}")
    try:
        return HqAnswer(ask(query))
    except Exception as exc:  # whatever it was, the counter goes on with a walk-in
        log.info("HQ could not be asked for a %s: %s", query.kind.value, exc)
        return HqAnswer(None, str(exc) or type(exc).__name__)


def keep_member(session: Session, answer: MemberLookupAnswer) -> str | None:
    """Write HQ's member into the store as its feed does, in the caller's transaction;
    the store they joined at is named, so their card can say where."""
    member = answer.member
    if member is None:
        return None
    store_id = member.home_store_id
    if store_id and answer.enrolled_store_name:
        store = session.get(Store, store_id)
        if store is None:
            session.add(Store(id=store_id, name=answer.enrolled_store_name))
        elif store.name == store.id:  # only a placeholder name, from a staff change
            store.name = answer.enrolled_store_name
        session.flush()
    apply_page(session, [MemberChange(seq=0, key=member.member_id, data=member)])
    return member.member_id
