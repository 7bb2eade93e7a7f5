"""Staff at the counter: PIN sign-in with lock-out, manager-only actions, the unsynced guard.

PIN hashes come down from HQ's roster (Argon2id); the counter only verifies them, so a
till works offline with the staff HQ last sent. Failed attempts are kept in the audit log,
which makes the lock-out survive a restart of the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput, NotAllowed, PinRefused
from posapp.domain.roles import Permission, may
from posapp.services.common import audit
from posapp.store.models import AuditEntry, Staff
from posapp.store.outbox import pending_summary
from posapp.timefmt import utcnow

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class SignedIn:
    staff_id: str
    name: str
    role: str
    store_id: str | None

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)


class UnsyncedWork(InvalidInput):
    """Sales or members HQ has not received yet would be lost by this action."""

    def __init__(self, action: str, pending: int, oldest: datetime | None) -> None:
        super().__init__(
            "sync",
            "unsynced",
            f"{pending} events have not reached HQ yet; sync first, or a manager must confirm"
            f" the {action.replace('_', ' ')}.",
        )
        self.action, self.pending, self.oldest = action, pending, oldest


def roster(session: Session) -> list[SignedIn]:
    """Who can sign in at this counter, in name order (the sign-in screen's list)."""
    rows = session.execute(
        select(Staff.id, Staff.name, Staff.role, Staff.store_id)
        .where(Staff.active.is_(True), Staff.pin_hash.is_not(None))
        .order_by(Staff.name)
    )
    return [SignedIn(*row) for row in rows]


def _recent_failures(session: Session, staff_id: str) -> list[datetime]:
    """Failed PINs since this person's last successful sign-in, newest first."""
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.at)
        .where(AuditEntry.subject_id == staff_id, AuditEntry.action.in_(("pin_failed", "sign_in")))
        .order_by(AuditEntry.id.desc())
        .limit(MAX_FAILURES)
    )
    failures: list[datetime] = []
    for action, at in rows:
        if action == "sign_in":
            break
        failures.append(at)
    return failures


def locked_until(session: Session, staff_id: str, now: datetime | None = None) -> datetime | None:
    failures = _recent_failures(session, staff_id)
    if len(failures) < MAX_FAILURES:
        return None
    until = failures[0] + LOCKOUT
    return until if until > (now or utcnow()) else None


def sign_in(session: Session, *, staff_id: str, pin: str, now: datetime | None = None) -> SignedIn:
    """Check a PIN. A refusal is counted (in the audit log) even though it rolls back."""
    now = now or utcnow()
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active or not staff.pin_hash:
        raise InvalidInput("staff", "unknown", "This staff member is not on the store's roster.")
    until = locked_until(session, staff_id, now)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() + 59) // 60)
        raise PinRefused(
            "locked_out",
            f"Too many wrong PINs: try again in {minutes} minute(s).",
            staff_id,
            minutes,
        )
    try:
        ok = pin.isascii() and pin.isdigit() and _hasher.verify(staff.pin_hash, pin)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        left = MAX_FAILURES - len(_recent_failures(session, staff_id)) - 1
        if left <= 0:
            raise PinRefused(
                "locked",
                f"Too many wrong PINs: locked for {LOCKOUT.seconds // 60} minutes.",
                staff_id,
                LOCKOUT.seconds // 60,
            )
        raise PinRefused("wrong", f"Wrong PIN ({left} tries left).", staff_id, left)
    audit(session, action="sign_in", staff_id=staff_id, subject_id=staff_id, now=now)
    return SignedIn(staff.id, staff.name, staff.role, staff.store_id)


def require(
    session: Session,
    staff_id: str | None,
    permission: Permission,
    *,
    subject_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Allow a manager-only action, audited; refuse anyone else (the refusal is audited too)."""
    role = (
        session.scalar(select(Staff.role).where(Staff.id == staff_id, Staff.active.is_(True)))
        if staff_id
        else None
    )
    if not may(role, permission):
        raise NotAllowed(permission.value, staff_id, subject_id)
    audit(
        session,
        action=permission.value,
        staff_id=staff_id,
        subject_id=subject_id,
        now=now or utcnow(),
    )


def guard_unsynced(
    session: Session,
    *,
    action: str,
    manager_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """Sign-out, reset and re-registration wait for HQ to have every event, unless a manager
    (already PIN-checked) takes responsibility; returns the events left behind."""
    pending, oldest = pending_summary(session)
    if pending == 0:
        return 0
    if manager_id is None:
        raise UnsyncedWork(action, pending, oldest)
    require(session, manager_id, Permission.OVERRIDE_SYNC_GUARD, subject_id=action, now=now)
    return pending
