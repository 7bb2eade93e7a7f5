"""The one error type the counter shows to a person."""

from __future__ import annotations


class InvalidInput(ValueError):
    """Input a person typed or scanned that a shop rule refuses.

    ``field`` names what was wrong (``phone``, ``name`` ...), ``rule`` is a stable
    code the UI translates, and ``message`` is plain English for logs-free CLIs.
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidInput], tuple[str, str, str]]:
        # Exceptions pickle (and copy) by re-calling ``__init__`` with ``args``, which here
        # holds only the message; without this, pickle/copy raise TypeError.
        return (type(self), (self.field, self.rule, self.message))

    def __repr__(self) -> str:
        return f"InvalidInput(field={self.field!r}, rule={self.rule!r})"
