"""SQLCipher underneath the counter's database: keyed connections and the one-time conversion.

A till is a PC under a counter; its database holds every member's phone, name and birthday.
The file is encrypted with SQLCipher (AES-256, a page HMAC), with the data folder's key
(``posapp.store.keys``). Every connection gets ``PRAGMA key`` before anything else, in the
raw-key form ``x'<hex>'``: a passphrase would run PBKDF2 (256,000 rounds, some 100 ms) on
every new connection, and the key is already 32 random bytes, so there is nothing to stretch.

A plaintext database from an older posapp is converted once, in steps that each leave a
usable state should the process be killed between any two (``recover`` finishes or undoes
them at the next start): the plaintext file is only renamed aside after the encrypted copy
is verified, and only overwritten and removed after the encrypted copy has taken its name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from filelock import FileLock
from sqlcipher3 import dbapi2 as sqlcipher

from posapp.files import POSIX, private_dir, private_file, sqlite_files
from posapp.store.keys import DatabaseKey

log = logging.getLogger(__name__)

ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher.Error)
Connection = sqlcipher.Connection
SQLITE_HEADER = b"SQLite format 3\x00"
NEW, PLAINTEXT, ENCRYPTED, DAMAGED = "new", "plaintext", "encrypted", "damaged"
_SMALLEST_PAGE = 512  # an encrypted file is whole pages, and pages are 512 bytes or more
_SHRED_CHUNK = 1 << 20
CONVERSION_WAIT_S = 900  # a second posapp waits for a conversion at 1,000,000 members

# The crash tests' hook: their child process replaces it to die at a named step.
checkpoint: Callable[[str], None] = lambda _step: None  # noqa: E731


class Unreadable(Exception):
    """The file is encrypted and this machine has no key for it, or a key that does not fit."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason  # "no_key" or "wrong_key"


def file_state(path: Path) -> str:
    """NEW (missing or empty), PLAINTEXT (SQLite's own header), ENCRYPTED (whole pages of
    anything else) or DAMAGED (neither: no key could open it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        return NEW
    if not head:
        return NEW
    if head == SQLITE_HEADER:
        return PLAINTEXT
    return ENCRYPTED if size % _SMALLEST_PAGE == 0 else DAMAGED


def connect(
    path: Path, key: DatabaseKey | None, *, read_only: bool = False, **kwargs: object
) -> Connection:
    """A DB-API connection to ``path`` (sqlite3's interface), keyed before its first read.

    ``key=None`` opens a plaintext file as it is (the conversion's source, old fixtures).
    """
    mode = "ro" if read_only else "rwc"
    kwargs.setdefault("check_same_thread", False)
    conn = sqlcipher.connect(f"file:{quote(str(path))}?mode={mode}", uri=True, **kwargs)
    if key is not None:
        conn.execute(f"PRAGMA key = {key.pragma}")
    return conn


def check_key(path: Path, key: DatabaseKey | None) -> None:
    """Raise ``Unreadable`` unless ``key`` opens the encrypted file at ``path``.

    SQLCipher's own log line for a key that does not fit is held back: the caller says it
    in words a store manager can act on.
    """
    if key is None:
        raise Unreadable(path, "no_key")
    conn = sqlcipher.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = {key.pragma}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        if "not a database" in str(exc).lower():
            raise Unreadable(path, "wrong_key") from exc
        raise
    finally:
        conn.execute("PRAGMA cipher_log_level = WARN")
        conn.close()


def shred(*paths: Path) -> None:
    """Overwrite each existing file with zeros, flush it to the disk, then remove it.

    On an SSD or a copy-on-write file system the old blocks may survive elsewhere; this
    still keeps the plaintext out of any ordinary undelete.
    """
    for path in paths:
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            continue
        try:
            size = os.fstat(fd).st_size
            zeros = bytes(_SHRED_CHUNK)
            written = 0
            while written < size:
                written += os.write(fd, zeros[: min(_SHRED_CHUNK, size - written)])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(path)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX; Windows has no directory handle to flush)."""
    if POSIX:
        _fsync_file(folder)


def exclusive(path: Path) -> FileLock:
    """Held while a file is checked, recovered or converted: two posapp processes starting
    at once must not both convert it, nor one clean up what the other is writing."""
    return FileLock(str(path.with_name(path.name + ".lock")), timeout=CONVERSION_WAIT_S, mode=0o600)


def pending(path: Path) -> bool:
    """Whether ``path`` has a conversion to do or to finish, or is yet to be made with a new
    key (only then is ``exclusive`` taken: two processes must not make two keys, and an
    encrypted database is opened without writing a lock file beside it)."""
    return _aside(path).exists() or _staged(path).exists() or file_state(path) in (NEW, PLAINTEXT)


def _aside(path: Path) -> Path:
    return path.with_name(path.name + ".plaintext")


def _staged(path: Path) -> Path:
    return path.with_name(path.name + ".encrypting")


def recover(path: Path) -> None:
    """Finish or undo a conversion that a crash interrupted; afterwards one database remains."""
    aside, staged = _aside(path), _staged(path)
    if aside.exists():
        if not path.exists():
            os.replace(aside, path)  # killed between the two renames: the plaintext comes back
            _fsync_dir(path.parent)
            log.warning("an interrupted encryption of %s is started again", path.name)
        elif file_state(path) == ENCRYPTED:
            shred(*sqlite_files(aside))  # killed after the swap: the plaintext goes
        else:
            log.error("%s and %s are both plaintext: both kept", path.name, aside.name)
    for unverified in (*sqlite_files(staged), staged.with_name(staged.name + "-journal")):
        unverified.unlink(missing_ok=True)  # encrypted, never verified: the plaintext is intact


def _counts(conn: Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _change_counter(path: Path) -> bytes:
    """SQLite's file change counter (header bytes 24-27): every committed write moves it."""
    with open(path, "rb") as fh:
        return fh.read(28)[24:]


def _hold(path: Path) -> Connection:
    """Fold the WAL into the file, leave WAL mode, and keep a read lock on it until closed:
    no program can write to it meanwhile. One that has it open stops the conversion
    (SQLite leaves WAL mode only when no other connection is open)."""
    conn = connect(path, None, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        if conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] != "delete":
            raise sqlcipher.OperationalError("database is busy: another program has it open")
        conn.execute("PRAGMA main.locking_mode=EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the lock
    except BaseException:
        conn.close()
        raise
    return conn


def _export(source: Connection, path: Path, staged: Path, key: DatabaseKey) -> None:
    """Write an encrypted copy of the plaintext ``path`` to ``staged`` and verify it."""
    private_file(staged)
    expected = _counts(source)
    user_version = source.execute("PRAGMA user_version").fetchone()[0]
    source.execute(f"ATTACH DATABASE ? AS encrypted KEY {key.pragma}", (str(staged),))
    source.execute("SELECT sqlcipher_export('encrypted')").fetchall()
    source.execute(f"PRAGMA encrypted.user_version = {int(user_version)}")
    source.execute("DETACH DATABASE encrypted")
    checkpoint("exported")
    copy = connect(staged, key, read_only=True)
    try:
        check = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        counts = _counts(copy)
    finally:
        copy.close()
    if check != ["ok"] or counts != expected:
        staged.unlink(missing_ok=True)
        raise sqlcipher.DatabaseError(f"the encrypted copy of {path.name} did not verify")
    _fsync_file(staged)


def _plain_backup(path: Path, backups: Path, stem: str) -> Path:
    """A plaintext copy of the file before it is converted, removed once the conversion holds."""
    private_dir(backups)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = private_file(backups / f"{stem}-{stamp}.db")
    src = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()
    _fsync_file(target)
    return target


def encrypt_in_place(path: Path, key: DatabaseKey, *, backups: Path | None = None) -> None:
    """Convert the plaintext database at ``path`` to SQLCipher under the same name.

    With ``backups``, a plaintext copy is taken there first, as before a migration, and
    removed (overwritten) once the encrypted file has taken the database's name.
    """
    path = Path(path)
    recover(path)
    if file_state(path) != PLAINTEXT:
        return
    source = _hold(path)
    try:
        written = _change_counter(path)
        checkpoint("settled")
        backup = _plain_backup(path, backups, "pre-encrypt") if backups is not None else None
        checkpoint("backed_up")
        staged = _staged(path)
        _export(source, path, staged, key)
        checkpoint("verified")
    finally:
        source.close()  # before the renames: Windows renames no open file
    checkpoint("released")
    _, wal, shm = sqlite_files(path)
    if wal.exists() or _change_counter(path) != written:  # written since the lock went
        staged.unlink()
        raise sqlcipher.OperationalError("database is busy: another program wrote to it")
    shred(shm)
    aside = _aside(path)
    os.replace(path, aside)
    _fsync_dir(path.parent)
    checkpoint("aside")
    os.replace(staged, path)
    _fsync_dir(path.parent)
    checkpoint("swapped")
    shred(*sqlite_files(aside))
    checkpoint("shredded")
    if backup is not None:
        shred(backup)
    log.info("encrypted %s with this machine's key", path.name)


def encrypt_backups(folder: Path, key: DatabaseKey) -> None:
    """Encrypt the plaintext backups an older posapp left (an interrupted conversion's copy goes)."""
    if not folder.is_dir():
        return
    for leftover in folder.glob("pre-encrypt-*"):  # with a journal a kill may have left
        shred(leftover)
    for backup in sorted(folder.glob("*.db")):
        with contextlib.suppress(FileNotFoundError):
            encrypt_in_place(backup, key)


def move_aside(path: Path) -> Path:
    """Rename an unreadable database (and its WAL and -shm) out of the way; nothing is deleted."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.stem}-unreadable-{stamp}{path.suffix}")
    for source, moved in zip(sqlite_files(path), sqlite_files(target), strict=True):
        if source.exists():
            os.replace(source, moved)
    _fsync_dir(path.parent)
    return target
