"""The dashboard's tables as a store manager reads them: translated names, percentages,
rungs and channels in words, no identifiers; the CSV files keep the stable identifiers."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from posapp.domain.local_day import local_day
from posapp.services.dashboard import Table
from posapp.ui.models import Column, RowsModel
from posapp.ui.words import rung_name

# What a store manager reads for each exported table, column and summary figure; the CSV
# files keep the stable identifiers (a spreadsheet or script reads them back).
_TABLES = {
    "summary": QT_TRANSLATE_NOOP("DashboardTab", "Summary"),
    "capture_by_day": QT_TRANSLATE_NOOP("DashboardTab", "Capture rate by day"),
    "capture_by_staff": QT_TRANSLATE_NOOP("DashboardTab", "Capture rate by person at the till"),
    "enrolments_by_channel": QT_TRANSLATE_NOOP("DashboardTab", "New members by how they joined"),
    "enrolments_by_guide": QT_TRANSLATE_NOOP("DashboardTab", "New members by guide"),
    "rungs": QT_TRANSLATE_NOOP("DashboardTab", "Members by rung"),
    "follow_ups_by_guide": QT_TRANSLATE_NOOP("DashboardTab", "Follow-ups by guide"),
}
_COLUMNS = {
    "figure": QT_TRANSLATE_NOOP("DashboardTab", "Figure"),
    "value": QT_TRANSLATE_NOOP("DashboardTab", "Value"),
    "day": QT_TRANSLATE_NOOP("DashboardTab", "Day"),
    "staff_name": QT_TRANSLATE_NOOP("DashboardTab", "Name"),
    "guide_name": QT_TRANSLATE_NOOP("DashboardTab", "Guide"),
    "sales": QT_TRANSLATE_NOOP("DashboardTab", "Sales"),
    "known": QT_TRANSLATE_NOOP("DashboardTab", "With a known member"),
    "capture_rate": QT_TRANSLATE_NOOP("DashboardTab", "Capture rate"),
    "channel": QT_TRANSLATE_NOOP("DashboardTab", "How they joined"),
    "enrolments": QT_TRANSLATE_NOOP("DashboardTab", "New members"),
    "rung": QT_TRANSLATE_NOOP("DashboardTab", "Rung"),
    "members": QT_TRANSLATE_NOOP("DashboardTab", "Members"),
    "completed": QT_TRANSLATE_NOOP("DashboardTab", "Follow-ups done"),
    "wecom": QT_TRANSLATE_NOOP("DashboardTab", "WeCom"),
    "phone": QT_TRANSLATE_NOOP("DashboardTab", "Phone"),
    "in_store": QT_TRANSLATE_NOOP("DashboardTab", "In store"),
}
_HIDDEN = frozenset({"staff_id", "guide_id", "label"})  # identifiers and repeats
_FIGURES = {
    "since": QT_TRANSLATE_NOOP("DashboardTab", "First day"),
    "until": QT_TRANSLATE_NOOP("DashboardTab", "Last day"),
    "sales": QT_TRANSLATE_NOOP("DashboardTab", "Sales"),
    "known": QT_TRANSLATE_NOOP("DashboardTab", "Sales with a known member"),
    "capture_rate": QT_TRANSLATE_NOOP("DashboardTab", "Capture rate"),
    "enrolments": QT_TRANSLATE_NOOP("DashboardTab", "New members"),
    "buyers": QT_TRANSLATE_NOOP("DashboardTab", "Members who bought"),
    "repeat_buyers": QT_TRANSLATE_NOOP("DashboardTab", "Members who bought again"),
    "repurchase_rate": QT_TRANSLATE_NOOP("DashboardTab", "Repurchase rate"),
    "follow_ups_completed": QT_TRANSLATE_NOOP("DashboardTab", "Follow-ups done"),
    "pending_events": QT_TRANSLATE_NOOP("DashboardTab", "Waiting to sync"),
    "timezone": QT_TRANSLATE_NOOP("DashboardTab", "Time zone"),
}
_CHANNELS = {
    "counter": QT_TRANSLATE_NOOP("DashboardTab", "at the counter"),
    "qr": QT_TRANSLATE_NOOP("DashboardTab", "by scanning the QR"),
}
_NO_ONE = QT_TRANSLATE_NOOP("DashboardTab", "no one")


def _t(text: str) -> str:
    return QCoreApplication.translate("DashboardTab", text)


def _as_read(value: Any, column: str) -> Any:
    """A value as a manager reads it: rates as percentages, rungs and channels in words."""
    if column.endswith("rate") and isinstance(value, float):
        return f"{value:.1%}"
    if column == "rung" and isinstance(value, str):
        return rung_name(value)
    if column == "channel" and isinstance(value, str):
        return _t(_CHANNELS.get(value, value))
    if column in ("staff_name", "guide_name") and value in (None, "-", ""):
        return _t(_NO_ONE)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value


def _summary_value(figure: str, value: Any, zone: str) -> Any:
    if isinstance(value, str) and figure in ("since", "until"):
        moment = datetime.fromisoformat(value)
        # The range ends at the store's midnight after its last day: a manager reads that day.
        if figure == "until":
            return (local_day(moment, zone) - timedelta(days=1)).isoformat()
        return local_day(moment, zone).isoformat()
    return _as_read(value, figure)


def shown_table(table: Table) -> Table:
    """The exported table as the screen shows it: translated names, no identifiers."""
    if table.name == "summary":
        zone = dict(table.rows).get("timezone") or "UTC"
        rows = [(_t(_FIGURES.get(f, f)), _summary_value(f, v, zone)) for f, v in table.rows]
        return Table(_t(_TABLES["summary"]), (_t("Figure"), _t("Value")), rows)
    keep = [i for i, column in enumerate(table.columns) if column not in _HIDDEN]
    columns = tuple(_t(_COLUMNS.get(table.columns[i], table.columns[i])) for i in keep)
    rows = [tuple(_as_read(row[i], table.columns[i]) for i in keep) for row in table.rows]
    return Table(_t(_TABLES.get(table.name, table.name)), columns, rows)


def _cell(index: int, row: tuple[Any, ...]) -> str:
    return "–" if row[index] is None else str(row[index])


class TableModel(RowsModel[tuple[Any, ...]]):
    """Any of the dashboard's tables, as it will be exported."""

    def set_table(self, table: Table) -> None:
        columns = [Column(name, partial(_cell, i)) for i, name in enumerate(table.columns)]
        self.set_rows(table.rows, columns)


def table_title(name: str) -> str:
    return _t(_TABLES.get(name, name))
