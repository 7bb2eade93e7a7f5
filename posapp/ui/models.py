"""Item models for the counter's lists (each checked by ``qtmodeltester``).

Every table is a ``RowsModel[T]``: rows of one kind, and one ``Column`` per column saying
how a row reads there. The candidates, My customers and the dashboard's tables differ
only in their columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from posapp.domain.sale import format_fen
from posapp.services.follow_ups import CustomerRow
from posapp.services.members import MemberSummary
from posapp.services.staff import SignedIn
from posapp.ui.words import kind_name, role_name, rung_name, wecom_contact_text

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Column(Generic[T]):
    """One column of a list: its header and how a row reads in it."""

    header: str
    text: Callable[[T], str]
    right: bool = False  # figures line up on the right
    sort: Callable[[T], Any] | None = None  # the key a sorting proxy orders by
    tip: Callable[[T], str | None] | None = None


class RowsModel(QAbstractTableModel, Generic[T]):
    """Rows of one kind shown in columns; ``at(row)`` is the row's own object."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        columns: Sequence[Column[T]] = (),
        row_id: Callable[[T], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._columns: list[Column[T]] = list(columns)
        self._rows: list[T] = []
        self._row_id = row_id

    def set_rows(self, rows: Iterable[T], columns: Sequence[Column[T]] | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        if columns is not None:
            self._columns = list(columns)
        self.endResetModel()

    def at(self, row: int) -> T:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        row, column = self._rows[index.row()], self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == ID_ROLE and self._row_id is not None:
            return self._row_id(row)
        if role == SORT_ROLE and column.sort is not None:
            return column.sort(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column.tip is not None:
            return column.tip(row)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            return self._columns[section].header
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None


def day(moment: Any) -> str:
    """A visit's day as a list shows it; nothing when there was none."""
    return f"{moment:%Y-%m-%d}" if moment else ""


class CandidateModel(RowsModel[MemberSummary]):
    """Members matching the last four digits or a name, most recent visit first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent, row_id=lambda m: m.id)
        columns: list[Column[MemberSummary]] = [
            Column(self.tr("Member code"), lambda m: m.member_code),
            Column(self.tr("Phone"), lambda m: m.phone_masked),
            Column(self.tr("Name"), lambda m: m.name or ""),
            Column(self.tr("Rung"), lambda m: rung_name(m.rung)),
            Column(self.tr("Visits"), lambda m: str(m.visit_count), right=True),
            Column(self.tr("Spent"), lambda m: format_fen(m.lifetime_spend_fen), right=True),
            Column(self.tr("Last visit"), lambda m: day(m.last_visit_at)),
        ]
        self.set_rows([], columns)


def _due(c: CustomerRow) -> str:
    if not c.due:
        return ""
    return str(len(c.due)) + (f" ({c.overdue_count}!)" if c.overdue_count else "")


def _next_follow_up(c: CustomerRow) -> str:
    nxt = (c.due or c.upcoming or (None,))[0]
    return f"{kind_name(nxt.kind)} {nxt.due_on:%m-%d}" if nxt is not None else ""


DUE_COLUMN = 9  # My customers opens sorted by it, most urgent first


class CustomersModel(RowsModel[CustomerRow]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        no_contact = self.tr("No consent to contact by a guide: no follow-ups.")
        columns: list[Column[CustomerRow]] = [
            Column(self.tr("Name"), lambda c: c.name or "", sort=lambda c: c.name or ""),
            Column(self.tr("Member code"), lambda c: c.member_code, sort=lambda c: c.member_code),
            Column(self.tr("Phone"), lambda c: c.phone_masked, sort=lambda c: c.phone_masked),
            Column(
                self.tr("Rung"), lambda c: rung_name(c.rung), sort=lambda c: c.rung,
                tip=lambda c: None if c.guide_contact else no_contact,
            ),
            Column(
                self.tr("WeCom"), lambda c: f"✓ {c.wecom.since:%m-%d}" if c.wecom else "",
                sort=lambda c: c.wecom.since.isoformat() if c.wecom else "",
                tip=lambda c: wecom_contact_text(c.wecom),
            ),
            Column(
                self.tr("Last visit"), lambda c: day(c.last_visit_at),
                sort=lambda c: c.last_visit_at.isoformat() if c.last_visit_at else "",
            ),
            Column(
                self.tr("Spent"), lambda c: format_fen(c.lifetime_spend_fen), right=True,
                sort=lambda c: c.lifetime_spend_fen,
            ),
            Column(self.tr("Repurchases"), lambda c: str(c.repurchases), right=True,
                   sort=lambda c: c.repurchases),
            Column(self.tr("Referrals"), lambda c: str(c.referrals), right=True,
                   sort=lambda c: c.referrals),
            Column(self.tr("Due"), _due, right=True,
                   sort=lambda c: c.overdue_count * 1000 + len(c.due)),
            Column(
                self.tr("Next follow-up"), _next_follow_up,
                sort=lambda c: c.next_due_on.isoformat() if c.next_due_on else "9999",
            ),
        ]  # fmt: skip
        self.set_rows([], columns)


class StaffModel(QAbstractListModel):
    """Who may sign in at this counter."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._staff: list[SignedIn] = []

    def set_staff(self, staff: list[SignedIn]) -> None:
        self.beginResetModel()
        self._staff = list(staff)
        self.endResetModel()

    def person(self, row: int) -> SignedIn:
        return self._staff[row]

    def row_of(self, staff_id: str) -> int:
        for row, person in enumerate(self._staff):
            if person.staff_id == staff_id:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._staff)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._staff):
            return None
        person = self._staff[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{person.name} · {role_name(person.role)}"
        if role == ID_ROLE:
            return person.staff_id
        return None
