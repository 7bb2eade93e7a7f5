"""The key that encrypts a data folder's database: 32 random bytes made on first start.

Kept in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service), like
the device secret in ``posapp.sync.credentials``. Where no keyring backend exists (a
headless Linux till, CI) it is kept in ``database.key`` in the data folder, 0600. That
fallback protects a copied database file or backup, not a stolen disk: whoever reads the
whole data folder as this user has the key too (docs/encryption.md).

One key per data folder, so its database and its backups (``backups/``) open with the same
key, and a second data folder (a demo, a training till) has its own. A key is never
replaced: losing it means the data folder's database cannot be read (``posapp reset``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import keyring
from keyring.errors import KeyringError, NoKeyringError

from posapp.files import PRIVATE_FILE, private_dir, tighten

SERVICE = "posapp"
FALLBACK = "database.key"
KEY_BYTES = 32


@dataclass(frozen=True)
class DatabaseKey:
    raw: bytes = b""
    where: str = "keyring"  # or the fallback file's path

    def __repr__(self) -> str:  # never the key itself in a log or a traceback
        return f"DatabaseKey(where={self.where!r})"

    @property
    def pragma(self) -> str:
        """The value for ``PRAGMA key``: SQLCipher's raw-key form, which skips the KDF."""
        return f"\"x'{self.raw.hex()}'\""


def _usable_keyring() -> bool:
    backend = keyring.get_keyring()
    return getattr(backend, "priority", 0) > 0 and "fail" not in type(backend).__module__


def _account(data_dir: Path) -> str:
    return f"database-key:{Path(data_dir).resolve()}"


def _parse(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        return None
    return raw if len(raw) == KEY_BYTES else None


def load_key(data_dir: Path) -> DatabaseKey | None:
    """This data folder's key, from the keyring or else the fallback file; None if neither."""
    data_dir = Path(data_dir)
    if _usable_keyring():
        try:
            raw = _parse(keyring.get_password(SERVICE, _account(data_dir)))
            if raw is not None:
                return DatabaseKey(raw, "keyring")
        except (KeyringError, NoKeyringError):
            pass
    path = data_dir / FALLBACK
    try:
        raw = _parse(path.read_text())
    except FileNotFoundError:
        return None
    return DatabaseKey(raw, str(path)) if raw is not None else None


def _save_fallback(data_dir: Path, raw: bytes) -> str:
    path = data_dir / FALLBACK
    private_dir(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    tighten(tmp)
    with os.fdopen(fd, "w") as fh:
        fh.write(raw.hex())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return str(path)


def _save(data_dir: Path, raw: bytes) -> DatabaseKey:
    if _usable_keyring():
        try:
            keyring.set_password(SERVICE, _account(data_dir), raw.hex())
            if _parse(keyring.get_password(SERVICE, _account(data_dir))) == raw:
                return DatabaseKey(raw, "keyring")
        except (KeyringError, NoKeyringError):
            pass
    return DatabaseKey(raw, _save_fallback(data_dir, raw))


def create_key(data_dir: Path) -> DatabaseKey:
    """A new key for a data folder that has none (an existing key is returned, never replaced)."""
    data_dir = Path(data_dir)
    existing = load_key(data_dir)
    if existing is not None:
        return existing
    return _save(data_dir, secrets.token_bytes(KEY_BYTES))


def adopt_key(data_dir: Path, key: DatabaseKey) -> DatabaseKey:
    """Give a data folder without a key this one (its database was copied from another
    folder); a folder whose own key differs keeps it, and ``ValueError`` says so."""
    data_dir = Path(data_dir)
    existing = load_key(data_dir)
    if existing is None:
        return _save(data_dir, key.raw)
    if existing.raw != key.raw:
        raise ValueError(f"{data_dir} already has a different database key")
    return existing
