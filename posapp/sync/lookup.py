"""How a registered counter asks HQ for a member of another store (``services.hq_lookup``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from posapp.domain.lookup import CounterQuery, QueryKind
from posapp.protocol.sync import MemberLookupAnswer
from posapp.store.db import Database
from posapp.sync.client import LOOKUP_BUDGET_S, HqClient
from posapp.sync.registration import NotRegistered, client_for


def hq_asker(
    db: Database, data_dir: Path, *, budget_s: float = LOOKUP_BUDGET_S
) -> Callable[[CounterQuery], MemberLookupAnswer] | None:
    """One HQ client for the counter's look-ups; ``None`` before the counter is registered."""
    try:
        client = client_for(db, data_dir)
    except NotRegistered:
        return None
    return asker_of(client, budget_s=budget_s)


def asker_of(
    client: HqClient, *, budget_s: float = LOOKUP_BUDGET_S
) -> Callable[[CounterQuery], MemberLookupAnswer]:
    """A counter query asked of HQ with ``client``: its phone or its code, once."""

    def ask(query: CounterQuery) -> MemberLookupAnswer:
        if query.kind is QueryKind.PHONE:
            return client.lookup_member(phone_e164=query.value, budget_s=budget_s)
        return client.lookup_member(member_code=query.value, budget_s=budget_s)

    return ask
