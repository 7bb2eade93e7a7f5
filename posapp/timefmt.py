"""The one storage form of an instant, shared by the counter's and HQ's databases.

Every timestamp is naive UTC, and where SQL compares it as text it is written
``YYYY-MM-DD HH:MM:SS.ffffff`` (the form SQLAlchemy stores ``DateTime`` in), so string
order is time order and raw statements and the ORM read each other's rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

TEXT_FORM = "%Y-%m-%d %H:%M:%S.%f"


def utcnow() -> datetime:
    """Now, naive UTC: the form every stored instant takes."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_text(moment: datetime) -> str:
    """``moment`` (naive UTC) in the stored text form."""
    return moment.strftime(TEXT_FORM)


def to_text_or_none(moment: datetime | None) -> str | None:
    return to_text(moment) if moment is not None else None


def from_text(text: str | None) -> datetime | None:
    """A stored instant read back; ``None`` (or an empty column) stays ``None``."""
    return datetime.fromisoformat(text) if text else None
