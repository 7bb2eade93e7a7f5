"""导购的"我的顾客" (My customers): the guide's list, its follow-ups, done in two keys.

The list comes from ``Counter.my_customers`` (computed on read from the store's facts, so it
is always current); the guide sorts and filters it, picks a customer with the arrows and
records a follow-up with two keys: how they reached them (1 WeCom, 2 phone, 3 in store),
then what came of it (R reached, N no answer, V visit planned, X not interested).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from posapp.domain.follow_up import ContactChannel, Kind, Outcome
from posapp.domain.sale import format_fen
from posapp.services.follow_ups import CustomerRow
from posapp.ui.words import rung_name

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
CHANNEL_KEYS = {
    Qt.Key.Key_1: ContactChannel.WECOM,
    Qt.Key.Key_2: ContactChannel.PHONE,
    Qt.Key.Key_3: ContactChannel.IN_STORE,
}
OUTCOME_KEYS = {
    Qt.Key.Key_R: Outcome.REACHED,
    Qt.Key.Key_N: Outcome.NO_ANSWER,
    Qt.Key.Key_V: Outcome.VISIT_PLANNED,
    Qt.Key.Key_X: Outcome.NOT_INTERESTED,
}


_KINDS = {
    Kind.THANK_YOU: QT_TRANSLATE_NOOP("words", "thank-you"),
    Kind.CARE_CHECK: QT_TRANSLATE_NOOP("words", "care check"),
    Kind.REPURCHASE: QT_TRANSLATE_NOOP("words", "repurchase reminder"),
    Kind.BIRTHDAY: QT_TRANSLATE_NOOP("words", "birthday"),
    Kind.WIN_BACK: QT_TRANSLATE_NOOP("words", "win-back"),
}


def kind_name(kind: Kind) -> str:
    return QCoreApplication.translate("words", _KINDS[kind])


class CustomersModel(QAbstractTableModel):
    COLUMNS = 10

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[CustomerRow] = []
        self._headers = [
            self.tr("Name"),
            self.tr("Member code"),
            self.tr("Phone"),
            self.tr("Rung"),
            self.tr("Last visit"),
            self.tr("Spent"),
            self.tr("Repurchases"),
            self.tr("Referrals"),
            self.tr("Due"),
            self.tr("Next follow-up"),
        ]

    def set_customers(self, rows: list[CustomerRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def customer(self, row: int) -> CustomerRow:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c = self._rows[index.row()]
        column = index.column()
        if role == SORT_ROLE:
            keys: list[Any] = [
                c.name or "", c.member_code, c.phone_masked, c.rung,
                c.last_visit_at.isoformat() if c.last_visit_at else "", c.lifetime_spend_fen,
                c.repurchases, c.referrals, (c.overdue_count, len(c.due)),
                c.next_due_on.isoformat() if c.next_due_on else "9999",
            ]  # fmt: skip
            key = keys[column]
            return key if not isinstance(key, tuple) else key[0] * 1000 + key[1]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (5, 6, 7, 8):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 3 and not c.guide_contact:
            return self.tr("No consent to contact by a guide: no follow-ups.")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        nxt = (c.due or c.upcoming or (None,))[0]
        due = ""
        if c.due:
            due = str(len(c.due)) + (f" ({c.overdue_count}!)" if c.overdue_count else "")
        return [
            c.name or "",
            c.member_code,
            c.phone_masked,
            rung_name(c.rung),
            f"{c.last_visit_at:%Y-%m-%d}" if c.last_visit_at else "",
            format_fen(c.lifetime_spend_fen),
            str(c.repurchases),
            str(c.referrals),
            due,
            f"{kind_name(nxt.kind)} {nxt.due_on:%m-%d}" if nxt is not None else "",
        ][column]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < self.COLUMNS:
            return self._headers[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None


class _CustomerFilter(QSortFilterProxyModel):
    """Text matches name or member code; "due only" keeps customers with a task due."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.due_only = False
        self.setSortRole(SORT_ROLE)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, CustomersModel)
        c = model.customer(source_row)
        if self.due_only and not c.due:
            return False
        text = self.text.strip().lower()
        return not text or text in (c.name or "").lower() or text in c.member_code


class _KeyTable(QTableView):
    sig_key = Signal(QKeyEvent)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in CHANNEL_KEYS or event.key() in OUTCOME_KEYS:
            self.sig_key.emit(event)
            return
        super().keyPressEvent(event)


class CustomersTab(QWidget):
    """Emits ``sig_complete(follow_up_id, channel, outcome)``; the window records it."""

    sig_complete = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customersTab")
        self.filter_text = QLineEdit(objectName="customersFilter")
        self.filter_text.setPlaceholderText(self.tr("Filter by name or member code"))
        self.filter_text.setMaxLength(64)
        self.due_only = QCheckBox(self.tr("Follow-ups due only"), objectName="customersDueOnly")
        self.model = CustomersModel(self)
        self.proxy = _CustomerFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = _KeyTable(objectName="customersTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(8, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.sig_key.connect(self._key)
        self.detail = QLabel(objectName="customerDetail", wordWrap=True)
        self.hint = QLabel(
            self.tr(
                "Follow-up done: 1 WeCom · 2 phone · 3 in store, then R reached · N no answer"
                " · V visit planned · X not interested"
            ),
            objectName="hint",
            wordWrap=True,
        )
        self.message = QLabel(objectName="message", wordWrap=True)
        self._channel: ContactChannel | None = None
        self._completing: str | None = None  # whose follow-up is being written
        top = QHBoxLayout()
        top.addWidget(self.filter_text, 1)
        top.addWidget(self.due_only)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        self.filter_text.textChanged.connect(self._refilter)
        self.due_only.toggled.connect(self._refilter)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_detail())

    def set_customers(self, rows: list[CustomerRow]) -> None:
        """The list again (after a follow-up, say): the guide keeps their place in it."""
        before = self.current()
        row = self.table.currentIndex().row()
        self.model.set_customers(rows)
        self.proxy.invalidate()
        self._keep_place(before.member_id if before else None, row)

    def _keep_place(self, member_id: str | None, row: int) -> None:
        """Select the same customer if still listed, else whoever took their row."""
        for r in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(r, 0)).row()
            if member_id is not None and self.model.customer(source).member_id == member_id:
                self.table.selectRow(r)
                break
        else:
            if self.proxy.rowCount():
                self.table.selectRow(min(max(row, 0), self.proxy.rowCount() - 1))
            else:
                self.table.clearSelection()
                self.table.setCurrentIndex(QModelIndex())
        self._show_detail()

    def recorded(self) -> None:
        """The window wrote the follow-up: say for whom."""
        self.message.setText(
            self.tr("Follow-up recorded for %1.").replace("%1", self._completing or "")
        )

    def current(self) -> CustomerRow | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.customer(self.proxy.mapToSource(index).row())

    def _refilter(self) -> None:
        """The detail below always belongs to a customer the filter still shows."""
        before = self.current()
        self.proxy.text = self.filter_text.text()
        self.proxy.due_only = self.due_only.isChecked()
        self.proxy.invalidate()
        self._keep_place(before.member_id if before else None, 0)

    def _show_detail(self) -> None:
        c = self.current()
        if c is None:
            self.detail.clear()
            return
        lines = [
            self.tr("%1: %2 visits, %3 repurchases, %4 referrals, lifetime %5")
            .replace("%1", c.name or c.member_code)
            .replace("%2", str(c.visit_count))
            .replace("%3", str(c.repurchases))
            .replace("%4", str(c.referrals))
            .replace("%5", format_fen(c.lifetime_spend_fen))
        ]
        if not c.guide_contact:
            lines.append(self.tr("No consent to contact by a guide: no follow-ups."))
        for task in c.due:
            mark = self.tr("overdue") if task.overdue else self.tr("due")
            lines.append(f"• {kind_name(task.kind)} {task.due_on:%Y-%m-%d} ({mark})")
        self.detail.setText("\n".join(lines))

    def _key(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in CHANNEL_KEYS:
            self._channel = CHANNEL_KEYS[Qt.Key(key)]
            self.message.setText(self.tr("Then the outcome: R, N, V or X."))
            return
        c = self.current()
        if self._channel is None:
            self.message.setText(self.tr("First how: 1 WeCom, 2 phone, 3 in store."))
            return
        if c is None or not c.due:
            self.message.setText(self.tr("This customer has no follow-up due."))
            self._channel = None
            return
        outcome = OUTCOME_KEYS[Qt.Key(key)]
        self._completing = c.name or c.member_code
        self.sig_complete.emit(c.due[0].id, self._channel.value, outcome.value)
        self._channel = None
