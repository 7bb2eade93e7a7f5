"""Credentials and keys. HQ stores only hashes of secrets; PINs get Argon2id.

Device, partner and admin secrets are 256-bit random strings, so a SHA-256 of them is
as strong as a slow hash and costs microseconds per request; staff PINs are short and
human-chosen, so they get Argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_pins = PasswordHasher()  # argon2-cffi's defaults are Argon2id


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(secret: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_secret(secret), stored_hash)


def hash_pin(pin: str) -> str:
    return _pins.hash(pin)


def hash_password(password: str) -> str:
    """A console user's password: Argon2id with the same settings as PINs."""
    return _pins.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _pins.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def phone_fingerprint(master_key: bytes, e164: str) -> str:
    """A keyed hash of an erased phone: recognises stale re-creation without keeping the number."""
    return hmac.new(master_key, b"posapp/erased-phone/" + e164.encode(), "sha256").hexdigest()


def credential_token(kind: str, ident: str, secret: str) -> str:
    """What the holder sends as ``Authorization: Bearer …``: kind, id and secret."""
    return f"{kind}.{ident}.{secret}"


def split_token(token: str) -> tuple[str, str, str] | None:
    parts = token.split(".", 2)
    if len(parts) != 3 or not all(parts) or len(token) > 256:
        return None
    return parts[0], parts[1], parts[2]
