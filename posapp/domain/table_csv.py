"""A table as a CSV file a shop opens in Excel: UTF-8 with a BOM (so Chinese names show),
and any cell a spreadsheet would run as a formula quoted. The counter's dashboard and HQ's
console export with this one rule."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

_FORMULA = ("=", "+", "-", "@")
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Table:
    """One exportable table: what the screen shows beside a chart."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _looks_like_formula(text: str) -> bool:
    """A formula, or one already quoted (``'=``): quoting it again keeps the round trip."""
    return text.lstrip("'").startswith(_FORMULA)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula (a staff name from the roster, say) is quoted.
    return "'" + text if _looks_like_formula(text) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and _looks_like_formula(text[1:]) else text


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return out.getvalue()


def csv_bytes(table: Table) -> bytes:
    """The file's bytes: BOM first, as ``write_csv`` writes it at the counter."""
    return (BOM + to_csv(table)).encode("utf-8")


def from_csv(name: str, text: str) -> Table:
    """A table read back from its CSV; every value as text (``None`` became empty)."""
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    if not rows:
        raise ValueError("empty CSV")
    return Table(name, tuple(rows[0]), [tuple(_uncell(v) for v in row) for row in rows[1:]])
