"""导购的"我的顾客" (My customers): the guide's list, its follow-ups, done in two keys.

The list comes from ``Counter.my_customers`` (computed on read from the store's facts, so it
is always current); the guide sorts and filters it, picks a customer with the arrows and
records a follow-up with two keys: how they reached them (1 WeCom, 2 phone, 3 in store),
then what came of it (R reached, N no answer, V visit planned, X not interested).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
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

from posapp.domain.follow_up import ContactChannel, Outcome
from posapp.domain.sale import format_fen
from posapp.services.follow_ups import CustomerRow
from posapp.ui.models import DUE_COLUMN, SORT_ROLE, CustomersModel
from posapp.ui.panels.till import Till
from posapp.ui.words import (
    explain,
    kind_name,
    rung_history_title,
    rung_step_text,
    wecom_contact_text,
)

Index = QModelIndex | QPersistentModelIndex
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


class _CustomerFilter(QSortFilterProxyModel):
    """Text matches name or member code; "due only" keeps customers with a task due."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.due_only = False
        self.not_wecom = False  # only customers who are not their guide's WeCom contact yet
        self.setSortRole(SORT_ROLE)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, CustomersModel)
        c = model.at(source_row)
        if self.due_only and not c.due:
            return False
        if self.not_wecom and c.wecom is not None:
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
    """The signed-in guide's customers, loaded when the tab is shown; ``sig_complete``
    (follow_up_id, channel, outcome) is a follow-up done, recorded by the tab itself."""

    sig_complete = Signal(str, str, str)

    def __init__(self, till: Till, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customersTab")
        self.till = till
        self.filter_text = QLineEdit(objectName="customersFilter")
        self.filter_text.setPlaceholderText(self.tr("Filter by name or member code"))
        self.filter_text.setMaxLength(64)
        self.due_only = QCheckBox(self.tr("Follow-ups due only"), objectName="customersDueOnly")
        self.not_wecom = QCheckBox(
            self.tr("Not WeCom contacts yet"), objectName="customersNotWeCom"
        )
        self.model = CustomersModel(self)
        self.proxy = _CustomerFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = _KeyTable(objectName="customersTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DUE_COLUMN, Qt.SortOrder.DescendingOrder)
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
        self.wecom_state = QLabel(objectName="guideWeCom", wordWrap=True)
        self._channel: ContactChannel | None = None
        self._completing: str | None = None  # whose follow-up is being written
        top = QHBoxLayout()
        top.addWidget(self.filter_text, 1)
        top.addWidget(self.due_only)
        top.addWidget(self.not_wecom)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.wecom_state)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        self.filter_text.textChanged.connect(self._refilter)
        self.due_only.toggled.connect(self._refilter)
        self.not_wecom.toggled.connect(self._refilter)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_detail())
        self.sig_complete.connect(self._complete)

    # ---- loading -------------------------------------------------------------------------

    def signed_in(self) -> None:
        """Someone else's list is not shown: theirs loads when they open the tab."""
        self.message.clear()
        self.wecom_state.clear()
        self.set_customers([])

    def shown(self) -> None:
        self.refresh()
        self.table.setFocus()

    def refresh(self) -> None:
        if self.till.staff is None:
            return
        guide_id = self.till.staff.staff_id
        self.till.tasks.run_db(
            lambda: self.till.counter.my_customers(guide_id=guide_id), self.set_customers
        )
        self.till.tasks.run_db(
            lambda: self.till.counter.on_wecom(guide_id=guide_id), self._show_wecom_state
        )

    def _show_wecom_state(self, connected: bool) -> None:
        self.wecom_state.setText(
            self.tr("You are on WeCom: customers can add you from the guide QR.")
            if connected
            else self.tr("You are not on WeCom yet: ask HQ to set your WeCom account.")
        )

    def _complete(self, follow_up_id: str, channel: str, outcome: str) -> None:
        if self.till.staff is None:
            return
        staff_id = self.till.staff.staff_id

        def done(_: object) -> None:
            self.recorded()
            self.refresh()

        self.till.tasks.run_db(
            lambda: self.till.counter.complete_follow_up(
                follow_up_id=follow_up_id, staff_id=staff_id, channel=channel, outcome=outcome
            ),
            done,
            lambda error: self.message.setText(explain(error)),
        )

    def set_customers(self, rows: list[CustomerRow]) -> None:
        """The list again (after a follow-up, say): the guide keeps their place in it."""
        before = self.current()
        row = self.table.currentIndex().row()
        self.model.set_rows(rows)
        self.proxy.invalidate()
        self._keep_place(before.member_id if before else None, row)

    def _keep_place(self, member_id: str | None, row: int) -> None:
        """Select the same customer if still listed, else whoever took their row."""
        for r in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(r, 0)).row()
            if member_id is not None and self.model.at(source).member_id == member_id:
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
        """The follow-up is written: say for whom."""
        self.message.setText(
            self.tr("Follow-up recorded for %1.").replace("%1", self._completing or "")
        )

    def current(self) -> CustomerRow | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.at(self.proxy.mapToSource(index).row())

    def _refilter(self) -> None:
        """The detail below always belongs to a customer the filter still shows."""
        before = self.current()
        self.proxy.text = self.filter_text.text()
        self.proxy.due_only = self.due_only.isChecked()
        self.proxy.not_wecom = self.not_wecom.isChecked()
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
        lines.append(wecom_contact_text(c.wecom))
        for task in c.due:
            mark = self.tr("overdue") if task.overdue else self.tr("due")
            lines.append(f"• {kind_name(task.kind)} {task.due_on:%Y-%m-%d} ({mark})")
        if c.rung_history:
            lines.append(rung_history_title())
            lines.extend(f"  {rung_step_text(step)}" for step in reversed(c.rung_history))
        self.detail.setText("\n".join(lines))

    def _key(self, event: QKeyEvent) -> None:
        key = event.key()
        c = self.current()
        if key in CHANNEL_KEYS:
            channel = CHANNEL_KEYS[Qt.Key(key)]
            if channel is ContactChannel.WECOM and c is not None and c.wecom is None:
                self._channel = None  # WeCom only reaches the guide's WeCom contacts
                self.message.setText(self.tr("Not a WeCom contact yet: 2 phone or 3 in store."))
                return
            self._channel = channel
            self.message.setText(self.tr("Then the outcome: R, N, V or X."))
            return
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
