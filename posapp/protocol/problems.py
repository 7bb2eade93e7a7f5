"""Pydantic's first complaint about a message, in one form for HQ's answers, its event log and
the counter's POS intake (none of them echoes the value: it may be a phone)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FirstError:
    where: str  # dotted location, ``events.0.payload``; empty for the whole body
    rule: str  # pydantic's error type, ``missing``, ``extra_forbidden`` ...
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def first_error(errors: Sequence[Mapping[str, Any]]) -> FirstError:
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return FirstError(where, str(first.get("type", "invalid")), str(first.get("msg", "invalid")))
