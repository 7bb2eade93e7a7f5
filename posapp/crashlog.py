"""A local log with crash reports, for support: ``<data dir>/logs/posapp.log``, rotated.

Stores have no console to read, so an unhandled exception (on the GUI thread, in a Qt slot
or on a worker thread) is written here with its traceback. Tracebacks never include local
variables, and every line is passed through ``redact`` first: phone numbers, member codes
and e-mail addresses in exception messages become ``<redacted>``, so the file can be sent
to support as it is. No Qt here: the CLI and tests use it too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from posapp.files import private_dir, private_file

LOG_DIR = "logs"
LOG_NAME = "posapp.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
log = logging.getLogger("posapp.crash")

# 7+ digits, optionally split by single spaces or dashes (138 1234 5678, +86-138-...),
# not inside a longer word or a UUID; member codes (M + 10 digits); e-mail addresses.
_PERSONAL = re.compile(
    r"(?<![\w\-.])\+?\d(?:[ \-]?\d){6,}(?![\w\-])"
    r"|\b[A-Z]\d{10}\b"
    r"|[\w.+\-]+@[\w\-]+\.[\w.\-]+"
)
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """The text with anything that looks like a phone, member code or e-mail replaced."""
    return _PERSONAL.sub(REDACTED, text)


def log_path(data_dir: Path) -> Path:
    """Where the counter's log is (``posapp doctor`` shows it)."""
    return Path(data_dir) / LOG_DIR / LOG_NAME


class RedactingFormatter(logging.Formatter):
    """Redacts the message and the traceback, but not the timestamp in front of them."""

    def format(self, record: logging.LogRecord) -> str:
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = redact(record.getMessage()), None
        if record.exc_info:
            clean.exc_text = redact(self.formatException(record.exc_info))
            clean.exc_info = None
        elif record.exc_text:
            clean.exc_text = redact(record.exc_text)
        if record.stack_info:
            clean.stack_info = redact(record.stack_info)
        return super().format(clean)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """Its files (the log and every rotated one, renamed from it) are created 0600."""

    def _open(self) -> TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()


def _handler(path: Path) -> RotatingFileHandler:
    handler = PrivateRotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setLevel(logging.INFO)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def install_crash_log(data_dir: Path) -> Path:
    """Log ``posapp.*`` (INFO and up) and every unhandled exception to the data dir's log.

    Returns the log file's path. Safe to call twice: the second call changes nothing.
    """
    path = log_path(data_dir)
    private_dir(path.parent)
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path.resolve()) for h in root.handlers):
        return path
    root.addHandler(_handler(path))
    logging.getLogger("posapp").setLevel(logging.INFO)
    _install_hooks()
    return path


def _install_hooks() -> None:
    previous = sys.excepthook

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("unhandled %s", kind.__name__, exc_info=(kind, exc, tb))
        if sys.stderr is not None:  # a windowed (frozen) app has no stderr
            previous(kind, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        log.critical(
            "unhandled %s in thread %s",
            args.exc_type.__name__,
            name,
            exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
        )

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
