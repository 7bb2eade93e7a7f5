"""Small pieces every counter action shares: the clock, rules from HQ, the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.roles import may_guide
from posapp.store.models import AuditEntry, Staff


def require_staff(session: Session, staff_id: str | None) -> None:
    if staff_id is None:
        return
    if session.scalar(select(Staff.active).where(Staff.id == staff_id)) is not True:
        raise InvalidInput("staff", "unknown", "This staff member is not on the store's roster.")


def require_guide(session: Session, guide_id: str | None) -> None:
    """A guide credited with a customer is an active guide of this store (not a cashier)."""
    if guide_id is None:
        return
    role = session.scalar(select(Staff.role).where(Staff.id == guide_id, Staff.active.is_(True)))
    if role is None:
        raise InvalidInput("staff", "unknown", "This staff member is not on the store's roster.")
    if not may_guide(role):
        raise InvalidInput("guide", "not_a_guide", "Only a guide can be credited with a customer.")


def audit(
    session: Session, *, action: str, staff_id: str | None, subject_id: str | None, now: datetime
) -> None:
    session.add(
        AuditEntry(at=now, staff_id=staff_id, action=action, subject_id=subject_id, detail="")
    )
