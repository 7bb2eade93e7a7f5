"""The one error type the counter shows to a person."""

from __future__ import annotations

from typing import Any


class InvalidInput(ValueError):
    """Input a person typed or scanned that a shop rule refuses.

    ``field`` names what was wrong (``phone``, ``name`` ...), ``rule`` is a stable
    code the UI translates, and ``message`` is plain English for logs-free CLIs. A rule
    about size gives ``limit`` (what would pass) and ``actual`` (what was given).
    """

    def __init__(
        self,
        field: str,
        rule: str,
        message: str,
        *,
        limit: int | None = None,
        actual: int | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message = message
        self.limit = limit
        self.actual = actual

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle (and copy) by re-calling ``__init__`` with ``args``, which here
        # holds only the message; without this, pickle/copy raise TypeError.
        return (
            _rebuild,
            (type(self), (self.field, self.rule, self.message), self.limit, self.actual),
        )

    def __repr__(self) -> str:
        return f"InvalidInput(field={self.field!r}, rule={self.rule!r})"


def _rebuild(
    cls: type[InvalidInput], args: tuple[str, str, str], limit: int | None, actual: int | None
) -> InvalidInput:
    return cls(*args, limit=limit, actual=actual)


class Refusal(InvalidInput):
    """A refusal that is itself evidence (a wrong PIN, a manager-only action asked by a
    cashier): the counter database writes ``audit`` = (action, staff_id, subject_id) to the
    audit log even though the transaction that asked is rolled back."""

    audit: tuple[str, str | None, str | None]


class NotAllowed(Refusal):
    """A staff member asked for something their role may not do."""

    def __init__(self, action: str, staff_id: str | None, subject_id: str | None = None) -> None:
        super().__init__(
            "staff", "not_allowed", f"Only a store manager may {action.replace('_', ' ')}."
        )
        self.action = action
        self.audit = (f"refused:{action}", staff_id, subject_id)

    def __reduce__(self) -> tuple[type[NotAllowed], tuple[str, str | None, str | None]]:  # type: ignore[override]
        return (type(self), (self.action, self.audit[1], self.audit[2]))


class PinRefused(Refusal):
    """A wrong PIN, or a PIN tried while locked out; each attempt is counted."""

    def __init__(self, rule: str, message: str, staff_id: str, count: int = 0) -> None:
        super().__init__("pin", rule, message)
        self.count = count  # tries left (wrong) or minutes to wait (locked, locked_out)
        # Attempts while locked are logged but not counted: nobody can extend a lock-out.
        self.audit = ("pin_locked" if rule == "locked_out" else "pin_failed", None, staff_id)

    def __reduce__(self) -> tuple[type[PinRefused], tuple[str, str, str, int]]:  # type: ignore[override]
        return (type(self), (self.rule, self.message, str(self.audit[2]), self.count))
