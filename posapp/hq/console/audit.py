"""The audit log: who changed what, and who saw whose personal data, when and from where.

Append-only — the database refuses UPDATE and DELETE on it (migration hq0010) — and it
holds ids, never the personal data itself, so erasing a member leaves it intact.

Who asked is a ``Who``, made in one place for each kind of caller: a console user (their
id, ``Viewer.who``), a machine with an HQ key (``key_holder``: ``admin-key:<id>``,
``partner-key:<id>``, ``device:<id>``) and a terminal (``cli``: ``cli:<os user>``). The
services that make a change take it (``who=``) and write the row in the change's own
transaction, so the console, the API and the CLI name a change alike.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.hq.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: datetime,
    target: str = "",
    store_id: str | None = None,
    address: str = "",
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor=actor[:64],
        action=action[:48],
        target=target[:128],
        store_id=store_id,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        address=address[:64],
    )
    session.add(entry)
    return entry


KEY_ACTORS = {"admin": "admin-key", "partner": "partner-key", "device": "device"}
CLI_ADDRESS = "cli"


@dataclass(frozen=True)
class Who:
    """Who asked for a change, and from where (a client address, or ``cli``)."""

    actor: str
    address: str = ""

    def record(
        self,
        session: Session,
        *,
        action: str,
        now: datetime,
        target: str = "",
        store_id: str | None = None,
        **detail: Any,
    ) -> AuditEntry:
        return record(session, actor=self.actor, action=action, now=now, target=target,
                      store_id=store_id, address=self.address, **detail)  # fmt: skip


def key_holder(kind: str, ident: str, address: str) -> Who:
    """A machine calling with an HQ credential: ``Caller.kind`` (admin, partner, device)
    and the credential's id (never its secret)."""
    return Who(f"{KEY_ACTORS.get(kind, kind)}:{ident}", address)


def cli() -> Who:
    """``posapp hq …`` in a terminal: the operating-system user who ran it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return Who(f"cli:{user}", CLI_ADDRESS)


def entries(
    session: Session, *, before: int | None = None, limit: int = 100, actor: str | None = None
) -> Sequence[AuditEntry]:
    """Newest first, keyset-paged by id (``before``): as fast on page 1000 as on page 1."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return session.scalars(query).all()
