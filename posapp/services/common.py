"""Small pieces every counter action shares: the clock, rules from HQ, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.store.models import AuditEntry, Staff


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp takes in the counter database."""
    return datetime.now(UTC).replace(tzinfo=None)


def require_staff(session: Session, staff_id: str | None) -> None:
    if staff_id is None:
        return
    if session.scalar(select(Staff.active).where(Staff.id == staff_id)) is not True:
        raise InvalidInput("staff", "unknown", "This staff member is not on the store's roster.")


def audit(
    session: Session, *, action: str, staff_id: str | None, subject_id: str | None, now: datetime
) -> None:
    session.add(
        AuditEntry(at=now, staff_id=staff_id, action=action, subject_id=subject_id, detail="")
    )
