"""HQ's people: accounts, roles and store scope, sign-in with lock-out, sessions, TOTP.

Used by the console's routes and by ``posapp hq user add`` alike. Every decision about what
a person may see or change is made here, on the server, from their role and stores.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.ids import new_id
from posapp.domain.text import clean_name
from posapp.hq.admin import NotFound
from posapp.hq.console import audit, totp_seal
from posapp.hq.models import ConsoleSession, ConsoleUser, ConsoleUserStore, Store
from posapp.hq.security import hash_password, password_matches

MAX_FAILURES = 5  # wrong passwords in a row before the account locks
LOCK_MINUTES = 15
SESSION_HOURS = 12  # at most, however active
IDLE_MINUTES = 60
MIN_PASSWORD = 10
TOTP_ISSUER = "posapp HQ"
_DUMMY_HASH = hash_password("not-a-password-of-anyone")  # unknown names cost the same time
log = logging.getLogger("posapp.hq")


class Role(StrEnum):
    BRAND_ADMIN = "brand_admin"
    REGIONAL_MANAGER = "regional_manager"
    ANALYST = "analyst"
    PRIVACY_OFFICER = "privacy_officer"


ROLES = tuple(r.value for r in Role)


class Forbidden(PermissionError):
    """The person is signed in but their role or stores do not allow this."""


class SignInRefused(Exception):
    def __init__(self, reason: str) -> None:  # bad_credentials, locked, bad_code
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    """Who is asking, and what they may reach: ``stores`` None means every store."""

    user_id: str
    username: str
    display_name: str
    role: Role
    stores: frozenset[str] | None
    csrf_token: str
    address: str

    @property
    def who(self) -> audit.Who:
        """The audit log's actor for what this person does: their user id, their address."""
        return audit.Who(self.user_id, self.address)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.BRAND_ADMIN

    @property
    def sees_personal_data(self) -> bool:
        """Names and (masked) phones; an analyst sees codes and figures only."""
        return self.role is not Role.ANALYST

    @property
    def may_reveal_phone(self) -> bool:
        """Full phones, search by full phone: the privacy officer (and the brand admin)."""
        return self.role in (Role.BRAND_ADMIN, Role.PRIVACY_OFFICER)

    @property
    def manages_stores(self) -> bool:
        return self.role in (Role.BRAND_ADMIN, Role.REGIONAL_MANAGER)

    def can_see(self, store_id: str | None) -> bool:
        return self.stores is None or (store_id is not None and store_id in self.stores)

    def require_store(self, store_id: str | None) -> None:
        if not self.can_see(store_id):
            raise Forbidden(f"store {store_id} is outside {self.username}'s stores")

    def require_manages(self, store_id: str) -> None:
        if not self.manages_stores:
            raise Forbidden("this role does not manage stores")
        self.require_store(store_id)

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"role {self.role} may not do this")

    def report_scope(self, store_id: str | None) -> list[str] | None:
        """The stores a report may cover: one asked-for store (if allowed), or all allowed."""
        if store_id:
            self.require_store(store_id)
            return [store_id]
        return None if self.stores is None else sorted(self.stores)


def needs_totp(role: str) -> bool:
    return role == Role.BRAND_ADMIN


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    now: datetime,
    display_name: str = "",
    stores: tuple[str, ...] = (),
    who: audit.Who,
) -> ConsoleUser:
    name = username.strip().lower()
    if not (1 <= len(name) <= 64 and name.replace(".", "").replace("-", "").replace("_", "").isalnum()
            and name.isascii()):  # fmt: skip
        raise InvalidInput("username", "bad_format", "User names are letters, digits, . - and _.")
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == name)):
        raise InvalidInput("username", "exists", f"User {name} already exists.")
    _check_password(password)
    _check_scope(session, role, stores)
    user = ConsoleUser(
        id=new_id(), username=name, display_name=clean_name(display_name, field="name") or name,
        role=role, password_hash=hash_password(password), failed_logins=0, active=True,
        created_at=now,
    )  # fmt: skip
    session.add(user)
    session.flush()
    session.add_all(ConsoleUserStore(user_id=user.id, store_id=s) for s in sorted(set(stores)))
    who.record(session, action="user.add", now=now, target=user.id, username=name, role=role,
               stores=sorted(set(stores)))  # fmt: skip
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "password", "too_short", f"A password has at least {MIN_PASSWORD} characters."
        )


def _check_scope(session: Session, role: str, stores: tuple[str, ...]) -> None:
    if role not in ROLES:
        raise InvalidInput("role", "unknown", f"Role must be one of {', '.join(ROLES)}.")
    if role == Role.REGIONAL_MANAGER and not stores:
        raise InvalidInput("stores", "empty", "A regional manager needs at least one store.")
    if role != Role.REGIONAL_MANAGER and stores:
        raise InvalidInput("stores", "not_scoped", "Only a regional manager has a set of stores.")
    for store_id in stores:
        if session.get(Store, store_id) is None:
            raise InvalidInput("stores", "unknown", f"No store {store_id[:64]}.")


def list_users(session: Session) -> list[tuple[ConsoleUser, list[str]]]:
    scopes: dict[str, list[str]] = {}
    for row in session.scalars(select(ConsoleUserStore).order_by(ConsoleUserStore.store_id)):
        scopes.setdefault(row.user_id, []).append(row.store_id)
    users = session.scalars(select(ConsoleUser).order_by(ConsoleUser.username))
    return [(u, scopes.get(u.id, [])) for u in users]


# --- changing a person (the brand admin's People page, ``posapp hq user …``) ---------------


def user_id_of(session: Session, username: str) -> str:
    found = session.scalar(
        select(ConsoleUser.id).where(ConsoleUser.username == username.strip().lower()[:64])
    )
    if found is None:
        raise NotFound(f"no console user {username[:64]}")
    return found


def _target(session: Session, user_id: str) -> ConsoleUser:
    user = session.get(ConsoleUser, user_id[:64], with_for_update=True)
    if user is None:
        raise NotFound(f"no console user {user_id[:64]}")
    return user


def _keep_an_admin(session: Session, user: ConsoleUser, field: str) -> None:
    """HQ always keeps one active brand admin: the last one may not be deactivated or given
    another role (the others' rows are locked, so two admins cannot demote each other at once)."""
    if user.role != Role.BRAND_ADMIN or not user.active:
        return
    admins = session.scalars(
        select(ConsoleUser.id)
        .where(ConsoleUser.role == Role.BRAND_ADMIN.value, ConsoleUser.active.is_(True))
        .with_for_update()
    ).all()
    if not any(other != user.id for other in admins):
        raise InvalidInput(field, "last_admin", "HQ keeps at least one active brand admin: make "
                           "another person brand admin before this one steps down.")  # fmt: skip


def end_sessions(session: Session, user_id: str) -> int:
    """Every session of the person ends at once (on every HQ process: they are rows)."""
    done = session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
    return int(getattr(done, "rowcount", 0) or 0)


def set_role(
    session: Session,
    user_id: str,
    *,
    role: str,
    stores: tuple[str, ...],
    now: datetime,
    who: audit.Who,
) -> ConsoleUser:
    """A new role and (for a regional manager) set of stores, from the person's next request.
    Made brand admin, they sign in again, with two-step verification."""
    user = _target(session, user_id)
    _check_scope(session, role, stores)
    if role != Role.BRAND_ADMIN:
        _keep_an_admin(session, user, "role")
    previous = sorted(session.scalars(
        select(ConsoleUserStore.store_id).where(ConsoleUserStore.user_id == user.id)))  # fmt: skip
    was = user.role
    user.role = role
    session.execute(delete(ConsoleUserStore).where(ConsoleUserStore.user_id == user.id))
    session.add_all(ConsoleUserStore(user_id=user.id, store_id=s) for s in sorted(set(stores)))
    ended = end_sessions(session, user.id) if needs_totp(role) and not needs_totp(was) else 0
    who.record(session, action="user.role", now=now, target=user.id, role=role, previous_role=was,
               stores=sorted(set(stores)), previous_stores=previous, sessions_ended=ended)  # fmt: skip
    return user


def deactivate(session: Session, user_id: str, *, now: datetime, who: audit.Who) -> ConsoleUser:
    """The person can no longer sign in, and every open session of theirs ends now."""
    user = _target(session, user_id)
    _keep_an_admin(session, user, "active")
    user.active = False
    ended = end_sessions(session, user.id)
    who.record(session, action="user.deactivate", now=now, target=user.id, sessions_ended=ended)
    return user


def reactivate(session: Session, user_id: str, *, now: datetime, who: audit.Who) -> ConsoleUser:
    """The person may sign in again (with their password and factor; any lock-out lifted)."""
    user = _target(session, user_id)
    user.active, user.failed_logins, user.locked_until = True, 0, None
    who.record(session, action="user.reactivate", now=now, target=user.id)
    return user


def reset_password(
    session: Session,
    user_id: str,
    password: str,
    *,
    now: datetime,
    who: audit.Who,
) -> ConsoleUser:
    """A password the admin sets (the person's sessions end; a lock-out is lifted). The
    second factor stays as it is."""
    user = _target(session, user_id)
    _check_password(password)
    user.password_hash, user.failed_logins, user.locked_until = hash_password(password), 0, None
    ended = end_sessions(session, user.id)
    who.record(session, action="user.password", now=now, target=user.id, sessions_ended=ended)
    return user


# --- signing in -----------------------------------------------------------------------------


def check_password(
    session: Session, *, username: str, password: str, now: datetime, address: str
) -> ConsoleUser:
    """The user, or ``SignInRefused``; five wrong passwords lock the account for a while
    (a locked account is refused without even trying the password)."""
    user = session.scalar(
        select(ConsoleUser).where(ConsoleUser.username == username.strip().lower()[:64])
        .with_for_update()
    )  # fmt: skip
    if user is None or not user.active:  # a deactivated person is told no more than a stranger
        password_matches(_DUMMY_HASH, password)
        if user is None:
            audit.record(session, actor="-", action="login.unknown", now=now, address=address,
                         username=username[:64])  # fmt: skip
        else:
            audit.record(session, actor=user.id, action="login.inactive", now=now, address=address)
        raise SignInRefused("bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        audit.record(session, actor=user.id, action="login.locked", now=now, address=address)
        raise SignInRefused("locked")
    if not password_matches(user.password_hash, password):
        user.failed_logins += 1
        action = "login.failed"
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
            action = "login.lock"
        audit.record(session, actor=user.id, action=action, now=now, address=address)
        raise SignInRefused("locked" if action == "login.lock" else "bad_credentials")
    user.failed_logins, user.locked_until = 0, None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, user: ConsoleUser, now: datetime, address: str) -> str:
    """A new session for ``user`` (its token, for the cookie). The second factor is still
    owed when the user has one, or must enrol one."""
    token = secrets.token_urlsafe(32)
    owed = user.totp_secret is not None or needs_totp(user.role)
    session.add(
        ConsoleSession(
            token_hash=_token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
            second_factor_done=not owed, address=address[:64], created_at=now, last_seen_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )  # fmt: skip
    if not owed:
        signed_in(session, user, now=now, address=address)
    return token


def signed_in(session: Session, user: ConsoleUser, *, now: datetime, address: str) -> None:
    user.last_login_at = now
    audit.record(session, actor=user.id, action="login.ok", now=now, address=address)


@dataclass(frozen=True)
class Found:
    row: ConsoleSession
    user: ConsoleUser


def find_session(session: Session, token: str | None, *, now: datetime) -> Found | None:
    if not token or len(token) > 128:
        return None
    row = session.get(ConsoleSession, _token_hash(token))
    if (
        row is None
        or row.expires_at <= now
        or row.last_seen_at + timedelta(minutes=IDLE_MINUTES) <= now
    ):
        return None
    user = session.get(ConsoleUser, row.user_id)
    if user is None or not user.active:
        return None
    return Found(row, user)


def touch(session: Session, token: str, *, now: datetime) -> None:
    """Keep an active session alive (written at most once a minute, not on every page)."""
    row = session.get(ConsoleSession, _token_hash(token))
    if row is not None and now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now


def viewer_of(session: Session, found: Found) -> Viewer:
    stores: frozenset[str] | None = None
    if found.user.role == Role.REGIONAL_MANAGER:
        stores = frozenset(
            session.scalars(
                select(ConsoleUserStore.store_id).where(ConsoleUserStore.user_id == found.user.id)
            )
        )
    return Viewer(found.user.id, found.user.username, found.user.display_name,
                  Role(found.user.role), stores, found.row.csrf_token, found.row.address)  # fmt: skip


def close_session(session: Session, token: str | None, *, now: datetime, address: str) -> None:
    if not token:
        return
    row = session.get(ConsoleSession, _token_hash(token))
    if row is not None:
        audit.record(session, actor=row.user_id, action="logout", now=now, address=address)
        session.delete(row)


def drop_expired(session: Session, *, now: datetime) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))


# --- the second factor ----------------------------------------------------------------------


def _code_step(secret: str, code: str, last_step: int | None, at: float) -> int | None:
    """The 30-second step ``code`` belongs to (this one or a neighbour, for clock drift), if
    it is newer than the last one used: a code seen once never opens a second session."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at // 30)
    for step in (now_step - 1, now_step, now_step + 1):
        if (last_step is None or step > last_step) and secrets.compare_digest(
            totp.at(step * 30), code
        ):
            return step
    return None


def start_enrolment(session: Session, found: Found, master_key: bytes) -> str:
    """A new TOTP secret waiting in the session (sealed) until a code from it is typed back."""
    if found.row.pending_totp is not None:
        try:
            return totp_seal.unseal(master_key, found.row.pending_totp, owner=found.user.id)
        except totp_seal.Unreadable:
            pass  # sealed under another master key: offer a new one
    secret = pyotp.random_base32()
    found.row.pending_totp = totp_seal.seal(master_key, secret, owner=found.user.id)
    return secret


def pending_secret(found: Found, master_key: bytes) -> str | None:
    """The secret being enrolled (shown again after a wrong code), if it still opens."""
    try:
        stored = found.row.pending_totp
        return None if stored is None else totp_seal.unseal(master_key, stored, owner=found.user.id)
    except totp_seal.Unreadable:
        return None


def enrolment_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def second_factor(
    session: Session,
    found: Found,
    code: str,
    *,
    master_key: bytes,
    now: datetime,
    address: str,
    at: float | None = None,
) -> None:
    """Finish signing in with a TOTP code (enrolling the pending secret if there is one).

    A secret that does not open with this HQ's master key refuses the sign-in
    (``totp_unreadable``): it never counts as a wrong code and never falls back to less."""
    user = session.get(ConsoleUser, found.user.id, with_for_update=True)
    assert user is not None
    enrolling = user.totp_secret is None
    stored = found.row.pending_totp if enrolling else user.totp_secret
    try:
        secret = None if stored is None else totp_seal.unseal(master_key, stored, owner=user.id)
    except totp_seal.Unreadable:
        log.error("console user %s: the TOTP secret does not open with this HQ's master key "
                  "(POSAPP_HQ_MASTER_KEY differs from the one it was sealed with?)", user.id)  # fmt: skip
        audit.record(session, actor=user.id, action="login.totp_unreadable", now=now,
                     address=address)  # fmt: skip
        raise SignInRefused("totp_unreadable") from None
    step = None if secret is None else _code_step(secret, code.strip(), user.totp_last_step,
                                                   time.time() if at is None else at)  # fmt: skip
    if step is None:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
            session.delete(found.row)
        audit.record(session, actor=user.id, action="login.bad_code", now=now, address=address)
        raise SignInRefused("bad_code")
    assert secret is not None and stored is not None
    if enrolling:
        audit.record(session, actor=user.id, action="user.totp_enrol", now=now, target=user.id,
                     address=address)  # fmt: skip
    if enrolling or not totp_seal.is_sealed(stored):  # a secret kept before hq0012: sealed now
        user.totp_secret = totp_seal.seal(master_key, secret, owner=user.id)
    user.totp_last_step, user.failed_logins = step, 0
    found.row.second_factor_done, found.row.pending_totp = True, None
    signed_in(session, user, now=now, address=address)


def seal_stored_secrets(session: Session, master_key: bytes) -> int:
    """Seal every TOTP secret still kept as issued (from before hq0012); how many were."""
    sealed = 0
    for user in session.scalars(
        select(ConsoleUser).where(ConsoleUser.totp_secret.is_not(None)).with_for_update()
    ):
        if user.totp_secret is not None and not totp_seal.is_sealed(user.totp_secret):
            user.totp_secret = totp_seal.seal(master_key, user.totp_secret, owner=user.id)
            sealed += 1
    for row in session.scalars(
        select(ConsoleSession).where(ConsoleSession.pending_totp.is_not(None)).with_for_update()
    ):
        if row.pending_totp is not None and not totp_seal.is_sealed(row.pending_totp):
            row.pending_totp = totp_seal.seal(master_key, row.pending_totp, owner=row.user_id)
            sealed += 1
    return sealed
