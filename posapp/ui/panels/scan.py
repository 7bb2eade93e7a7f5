"""The always-ready scan box, the message line under it and the list of candidates."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QLineEdit, QTableView

from posapp.domain.lookup import QUERY_MAX_CHARS, QueryKind
from posapp.services.hq_lookup import HqAnswer, worth_asking
from posapp.services.members import Identification, MemberCard
from posapp.ui.limits import bounded
from posapp.ui.models import CandidateModel
from posapp.ui.panels.till import Till, mark
from posapp.ui.words import explain


class ScanPanel(QObject):
    """A scan or typed phone, last four digits or name: a card, a list to choose from, or
    word that nobody matched. Its widgets sit at the top and left of the counter tab."""

    sig_card = Signal(object)  # MemberCard: the scan, or the candidate chosen, found them
    sig_no_member = Signal()  # nobody matched (``unknown_phone`` holds a phone typed)
    sig_reference = Signal(str)  # a valid member code nobody here holds: another store's
    sig_message = Signal(str, bool)  # a line for the cashier; True: an error

    def __init__(self, till: Till, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.till = till
        self.unknown_phone = ""  # the phone nobody has, which F3 enrols
        self._scans = 0  # an answer from HQ for an earlier scan is too late to show
        self.query = QLineEdit(objectName="scanInput")
        self.query.setPlaceholderText(
            self.tr("Scan a member code, or type a phone, its last four digits or a name")
        )
        self.query.returnPressed.connect(self.identify)
        self.query.installEventFilter(self)
        self.message = QLabel(objectName="message", wordWrap=True)
        bounded(self.query, QUERY_MAX_CHARS, self.message)

        self.candidate_model = CandidateModel(self)
        self.candidates = QTableView(objectName="candidates")
        self.candidates.setModel(self.candidate_model)
        self.candidates.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.candidates.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.candidates.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.candidates.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.candidates.installEventFilter(self)
        self.candidates.doubleClicked.connect(lambda index: self.choose(index.row()))
        self.candidates.hide()

    def show_message(self, text: str, *, error: bool = False) -> None:
        mark(self.message, "error", error)
        self.message.setText(text)

    def say(self, text: str, *, error: bool = False) -> None:
        self.sig_message.emit(text, error)

    def new_customer(self) -> None:
        self.unknown_phone = ""
        self.message.clear()

    def clear(self) -> None:
        """Nobody being looked up: no list, an empty scan box with the keyboard."""
        self.candidates.hide()
        self.candidate_model.set_rows([])
        self.query.clear()
        self.query.setFocus()

    def ready(self) -> None:
        """A card is on screen: the next scan replaces what the box holds."""
        self.candidates.hide()
        self.query.setFocus()
        self.query.selectAll()

    def identify(self) -> None:
        text = self.query.text()
        if not text.strip():
            return
        self._scans += 1
        self.till.tasks.run_db(
            lambda: self.till.counter.identify(text), self._identified, self._identify_failed
        )

    def _identify_failed(self, error: BaseException) -> None:
        self.say(explain(error), error=True)
        self.query.selectAll()

    def _identified(self, found: Identification) -> None:
        self.query.selectAll()
        self.candidates.hide()
        if found.card is not None:
            self.sig_card.emit(found.card)
            return
        if found.candidates:
            self.candidate_model.set_rows(found.candidates)
            self.candidates.show()
            self.candidates.selectRow(0)
            self.candidates.setFocus()
            self.say(self.tr("%n match(es): arrows, then Enter", "", len(found.candidates)))
            return
        asking = self.till.counter.asker is not None and worth_asking(found.query)
        if found.unverified_code is None or asking:
            self.sig_no_member.emit()  # the walk-in path, at once, while HQ is asked
        if found.query.kind is QueryKind.PHONE:
            self.unknown_phone = self.query.text()
        if asking:
            self._ask_hq(found)
            return
        self._nobody(found)

    def _nobody(self, found: Identification, *, hq_failed: bool = False) -> None:
        """Nobody here, nor at HQ: a walk-in; a valid code is another store's member HQ
        could not vouch for (not reachable, or not told of them yet), kept as a reference."""
        if found.unverified_code is not None:
            self.sig_reference.emit(found.unverified_code)
            return
        if found.query.kind is QueryKind.PHONE:
            line = self.tr("Not a member yet. F3 enrols this phone.")
        else:
            line = self.tr("No member found.")
        if hq_failed:
            line += "\n" + self.tr("HQ could not be asked: served as a walk-in.")
        self.say(line)

    def _ask_hq(self, found: Identification) -> None:
        """Not known here: perhaps a member of another store. The walk-in path is already on
        screen; the member replaces it if HQ knows them within its budget."""
        scan = self._scans
        self.say(self.tr("Not known at this store: asking HQ…"))
        ask_brand(
            self.till, found, self.query.text(),
            on_card=lambda card: self.sig_card.emit(card) if scan == self._scans else None,
            on_nobody=lambda failed: self._nobody(found, hq_failed=failed)
            if scan == self._scans else None,
        )  # fmt: skip

    def choose(self, row: int) -> None:
        member_id = self.candidate_model.at(row).id
        self.till.tasks.run_db(lambda: self.till.counter.card(member_id), self.sig_card.emit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if watched is self.query and key == Qt.Key.Key_Down and self.candidates.isVisible():
                self.candidates.setFocus()
                self.candidates.selectRow(0)
                return True
            if watched is self.candidates and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                index = self.candidates.currentIndex()
                if index.isValid():
                    self.choose(index.row())
                return True
        return super().eventFilter(watched, event)


def ask_brand(
    till: Till,
    found: Identification,
    text: str,
    *,
    on_card: Callable[[MemberCard], None],
    on_nobody: Callable[[bool], None],
) -> None:
    """Ask HQ for the whole phone or code ``found`` missed here (the I/O thread), keep the
    member it answers (the database thread), then ``on_card``; else ``on_nobody(failed)``,
    ``failed`` when HQ could not be asked. Used by every way a customer is identified."""

    def answered(asked: HqAnswer) -> None:
        if asked.member_id is None:
            on_nobody(bool(asked.failed))
            return
        till.tasks.run_db(
            lambda: till.counter.keep_from_hq(asked, text), kept, lambda _: on_nobody(True)
        )

    def kept(again: Identification) -> None:
        if again.card is None:
            on_nobody(True)
        else:
            on_card(again.card)

    till.tasks.run_io(lambda: till.counter.ask_hq(found.query), answered)
