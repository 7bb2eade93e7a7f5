"""Item models for the counter's lists (each checked by ``qtmodeltester``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from posapp.domain.sale import format_fen
from posapp.services.members import MemberSummary
from posapp.services.staff import SignedIn
from posapp.ui.words import role_name, rung_name

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1


class CandidateModel(QAbstractTableModel):
    """Members matching the last four digits or a name, most recent visit first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[MemberSummary] = []
        self._headers = [
            self.tr("Member code"),
            self.tr("Phone"),
            self.tr("Name"),
            self.tr("Rung"),
            self.tr("Visits"),
            self.tr("Spent"),
            self.tr("Last visit"),
        ]

    def set_candidates(self, rows: list[MemberSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def candidate(self, row: int) -> MemberSummary:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        member = self._rows[index.row()]
        if role == ID_ROLE:
            return member.id
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            member.member_code,
            member.phone_masked,
            member.name or "",
            rung_name(member.rung),
            str(member.visit_count),
            format_fen(member.lifetime_spend_fen),
            f"{member.last_visit_at:%Y-%m-%d}" if member.last_visit_at else "",
        ][index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
            return self._headers[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None


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
