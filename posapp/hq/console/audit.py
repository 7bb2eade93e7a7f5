"""The audit log: who changed what, and who saw whose personal data, when and from where.

Append-only — the database refuses UPDATE and DELETE on it (migration hq0010) — and it
holds ids, never the personal data itself, so erasing a member leaves it intact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
