"""The counter window: one always-ready input, the member card, the sale and the invite.

Keyboard first: every action has a key (F1 lists them), the scan box has the focus
whenever nothing else needs it, and Esc clears the customer. All store work runs on the
one database thread (``TaskManager.run_db``); this class only reacts and draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from posapp.domain.consent import Purpose
from posapp.domain.lookup import QUERY_MAX_CHARS, QueryKind
from posapp.domain.phone import format_phone
from posapp.domain.roles import Permission, may_guide
from posapp.domain.sale import AMOUNT_MAX_CHARS, RECEIPT_MAX_CHARS, format_fen
from posapp.resources import notice_text
from posapp.services.counter import Counter, EnrolDone, SaleDone
from posapp.services.invites import IssuedInvite
from posapp.services.members import Identification, MemberCard
from posapp.services.sales import SaleResult
from posapp.services.staff import SignedIn, UnsyncedWork
from posapp.settings import Settings
from posapp.sync.status import SyncStatus
from posapp.ui.customer_display import CustomerDisplay
from posapp.ui.customers_tab import CustomersTab
from posapp.ui.dashboard_tab import DashboardTab
from posapp.ui.enrol_dialog import EnrolDialog, EnrolForm
from posapp.ui.images import qr_pixmap
from posapp.ui.limits import bounded
from posapp.ui.models import CandidateModel
from posapp.ui.scanner import WedgeScanner
from posapp.ui.settings_dialog import SettingsDialog
from posapp.ui.sign_in import SignInPage
from posapp.ui.tasks import TaskManager
from posapp.ui.words import call_to_action, channel_name, explain, purpose_name, rung_name

IDLE_LOCK_MS = 5 * 60_000
REVEAL_MS = 30_000
# A walk-in's sale waits this long for them to join at the counter (F3) and become theirs.
WALK_IN_HOLD_MS = 3 * 60_000
QR_PX = 260
# Prints one invite slip; raises with a plain message when the printer cannot.
PrintInvite = Callable[[IssuedInvite], None]


@dataclass(frozen=True, slots=True)
class Key:
    """One action of the keyboard map (shown in tooltips and the F1 overlay)."""

    name: str
    shortcut: str


class ManagerConfirm(QDialog):
    """A manager confirms at the counter with their own PIN (tests replace ``ask``)."""

    def __init__(self, staff: list[SignedIn], reason: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Manager confirmation"))
        self.page = SignInPage(self)
        self.page.title.setText(reason)
        self.page.set_roster([p for p in staff if p.role == "manager"])
        self.answer: tuple[str, str] | None = None
        self.page.sig_sign_in.connect(self._answered)
        QVBoxLayout(self).addWidget(self.page)

    def _answered(self, staff_id: str, pin: str) -> None:
        self.answer = (staff_id, pin)
        self.accept()

    @classmethod
    def ask(
        cls, staff: list[SignedIn], reason: str, parent: QWidget | None
    ) -> tuple[str, str] | None:
        dialog = cls(staff, reason, parent)
        dialog.page.pin.setFocus()
        return dialog.answer if dialog.exec() == QDialog.DialogCode.Accepted else None


class GuidePicker(QDialog):
    """Which guide should look after this customer (tests replace ``ask``)."""

    def __init__(self, guides: list[SignedIn], current: str | None, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Another guide"))
        self.choice = QComboBox()
        for person in guides:
            if person.staff_id != current:
                self.choice.addItem(person.name, person.staff_id)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(buttons)

    @classmethod
    def ask(cls, guides: list[SignedIn], current: str | None, parent: QWidget | None) -> str | None:
        dialog = cls(guides, current, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.choice.currentData()


class _IdleFilter(QObject):
    """Any key or click restarts the idle timer."""

    def __init__(self, timer: QTimer, parent: QObject) -> None:
        super().__init__(parent)  # deleted with the window, which removes it from the app
        self._timer = timer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress):
            self._timer.start()
        return False


class CounterWindow(QMainWindow):
    sig_pos_sale = Signal(object)  # SaleResult, emitted from the POS intake's thread
    sig_busy_done = Signal()  # every queued operation has answered (tests wait on it)
    sig_settings_saved = Signal(object)  # Settings, already written to settings.json

    def __init__(
        self,
        counter: Counter,
        tasks: TaskManager,
        *,
        display: CustomerDisplay | None = None,
        print_invite: PrintInvite | None = None,
        sync_now: Callable[[], None] | None = None,
        sign_in_hint: str = "",
        idle_lock_ms: int = IDLE_LOCK_MS,
        settings: Settings | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("counterWindow")
        self.counter = counter
        self.tasks = tasks
        self.display = display
        self._print_invite = print_invite
        self._sync_now = sync_now
        self.settings = settings
        self.staff: SignedIn | None = None
        self.roster: list[SignedIn] = []
        self.card: MemberCard | None = None
        self.last_sale: SaleResult | None = None
        # The walk-in sale the next enrolment may take, until the customer changes.
        self.walk_in_sale: SaleResult | None = None
        self.invites: list[IssuedInvite] = []
        self.invite_index = 0
        self._unknown_phone = ""
        self.store_name = ""
        self._chosen_guide: str | None = None  # the guide last chosen at this counter
        self._zero_asked: tuple[str, str] | None = None  # a ¥0.00 sale awaiting confirmation
        self._sync_asked = False  # F9 was pressed: say how the round ended

        self.pages = QStackedWidget()
        self.sign_in_page = SignInPage()
        self.sign_in_page.hint.setText(sign_in_hint)
        self.sign_in_page.sig_sign_in.connect(self._sign_in)
        self.counter_tab = self._build_counter_page()
        self.customers_tab = CustomersTab()
        self.customers_tab.sig_complete.connect(self._complete_follow_up)
        self.counter_page = QTabWidget(objectName="counterTabs")
        self.counter_page.addTab(self.counter_tab, self.tr("Counter"))
        self.counter_page.addTab(self.customers_tab, self.tr("My customers"))
        self.dashboard_tab = DashboardTab()
        self.dashboard_tab.sig_period.connect(self.refresh_dashboard)
        self.counter_page.addTab(self.dashboard_tab, self.tr("Dashboard"))
        self.counter_page.currentChanged.connect(self._tab_changed)
        self.pages.addWidget(self.sign_in_page)
        self.pages.addWidget(self.counter_page)
        self.setCentralWidget(self.pages)
        self._build_status_bar()
        self.keys: list[Key] = []
        self._build_actions()
        self.sig_pos_sale.connect(self._pos_sale)

        self._idle = QTimer(self, singleShot=True, interval=idle_lock_ms)
        self._idle.timeout.connect(self.lock)
        self._idle_filter = _IdleFilter(self._idle, self)
        self.scanner = WedgeScanner(
            self, self.query, active=self._on_counter, identify=self.identify_scan,
            redirect=lambda _: self.counter_page.currentWidget() is self.counter_tab,
            region=counter.region,
        )  # fmt: skip
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._idle_filter)
            app.installEventFilter(self.scanner)
        self._hide_phone = QTimer(self, singleShot=True, interval=REVEAL_MS)
        self._hide_phone.timeout.connect(self._show_card_again)
        self._walk_in_hold = QTimer(self, singleShot=True, interval=WALK_IN_HOLD_MS)
        self._walk_in_hold.timeout.connect(self._end_walk_in_sale)
        self.setWindowTitle(self.tr("posapp counter"))
        self.resize(1180, 760)
        self.refresh_roster()

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle_filter)
            app.removeEventFilter(self.scanner)
        self._idle.stop()
        super().closeEvent(event)

    # ---- building -------------------------------------------------------------------

    def _build_counter_page(self) -> QWidget:
        page = QWidget(objectName="counterPage")
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

        self.card_box = QGroupBox(self.tr("Customer"), objectName="memberCard")
        grid = QGridLayout(self.card_box)
        self.card_name = QLabel(objectName="cardName")
        self.card_rung = QLabel(objectName="rungBadge")
        self.card_phone = QLabel(objectName="cardPhone")
        self.card_code = QLabel(objectName="cardCode")
        self.card_facts = QLabel(objectName="cardFacts", wordWrap=True)
        self.card_consents = QLabel(objectName="cardConsents", wordWrap=True)
        self.card_next = QLabel(objectName="cardNext", wordWrap=True)
        grid.addWidget(self.card_name, 0, 0)
        grid.addWidget(self.card_rung, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.card_phone, 1, 0)
        grid.addWidget(self.card_code, 1, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.card_facts, 2, 0, 1, 2)
        grid.addWidget(self.card_consents, 3, 0, 1, 2)
        grid.addWidget(self.card_next, 4, 0, 1, 2)
        grid.setRowStretch(5, 1)

        sale_box = QGroupBox(self.tr("Sale"), objectName="saleBox")
        self.receipt = QLineEdit(objectName="receiptInput")
        self.receipt.setPlaceholderText(self.tr("Receipt number"))
        self.receipt.returnPressed.connect(lambda: self.amount.setFocus())
        self.receipt.textEdited.connect(self._another_sale)
        self.amount = QLineEdit(objectName="amountInput")
        self.amount.setPlaceholderText(self.tr("Amount, e.g. 128.00"))
        self.amount.returnPressed.connect(lambda: self.record_sale())
        self.guide_choice = QComboBox(objectName="servingGuide")
        self.guide_choice.activated.connect(self._guide_chosen)
        self.record_button = QPushButton(self.tr("Record sale (F4)"), objectName="recordSale")
        self.record_button.setAutoDefault(False)
        self.record_button.clicked.connect(self.confirm_sale)
        self.sale_error = QLabel(objectName="formError", wordWrap=True)
        self.sale_done = QLabel(objectName="saleDone", wordWrap=True)
        bounded(self.receipt, RECEIPT_MAX_CHARS, self.sale_error)
        bounded(self.amount, AMOUNT_MAX_CHARS, self.sale_error)
        form = QFormLayout(sale_box)
        form.addRow(self.tr("Receipt"), self.receipt)
        form.addRow(self.tr("Amount"), self.amount)
        form.addRow(self.tr("Served by (F5)"), self.guide_choice)
        form.addRow("", self.record_button)
        form.addRow("", self.sale_error)
        form.addRow("", self.sale_done)

        invite_box = QGroupBox(self.tr("Invite"), objectName="inviteBox")
        self.qr = QLabel(objectName="inviteQr", alignment=Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(QR_PX, QR_PX)
        self.invite_call = QLabel(objectName="inviteCall", alignment=Qt.AlignmentFlag.AlignCenter)
        self.invite_code = QLabel(objectName="inviteCode", alignment=Qt.AlignmentFlag.AlignCenter)
        self.invite_code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_message = QLabel(objectName="printMessage", wordWrap=True)
        box = QVBoxLayout(invite_box)
        for widget in (self.qr, self.invite_call, self.invite_code, self.print_message):
            box.addWidget(widget)

        left = QVBoxLayout()
        left.addWidget(self.candidates, 1)
        left.addWidget(self.card_box, 1)
        right = QVBoxLayout()
        right.addWidget(sale_box)
        right.addWidget(invite_box, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(page)
        layout.addWidget(self.query)
        layout.addWidget(self.message)
        layout.addLayout(columns, 1)
        self._clear_card()
        return page

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.sync_label = QLabel(objectName="syncState")
        self.pending_label = QLabel(objectName="syncPending")
        self.staff_label = QLabel(objectName="staffName")
        self.store_label = QLabel(objectName="storeName")
        bar.addWidget(self.sync_label)
        bar.addWidget(self.pending_label, 1)
        bar.addPermanentWidget(self.staff_label)
        bar.addPermanentWidget(self.store_label)

    def _build_actions(self) -> None:
        icons = QStyle.StandardPixmap
        entries: list[tuple[str, str, Callable[[], None], QStyle.StandardPixmap | None]] = [
            (self.tr("Keyboard help"), "F1", self.show_help, icons.SP_DialogHelpButton),
            (self.tr("Go to the sale"), "F2", self.focus_sale, None),
            (self.tr("Enrol a member"), "F3", self.open_enrol, icons.SP_FileDialogNewFolder),
            (self.tr("Record the sale"), "F4", self.confirm_sale, icons.SP_DialogApplyButton),
            (self.tr("Choose the guide who served"), "F5", self.choose_guide, None),
            (self.tr("Show or switch the invite QR"), "F6", self.next_invite, None),
            (self.tr("Print the invite"), "F7", self.print_invite, None),
            (self.tr("Reveal the full phone (manager)"), "F8", self.reveal_phone, None),
            (self.tr("Ask HQ for another guide (manager)"), "Ctrl+G", self.reassign, None),
            (self.tr("Sync now"), "F9", self.sync_now, icons.SP_BrowserReload),
            (self.tr("Settings (manager)"), "F10", self.open_settings, None),
            (self.tr("Lock the counter"), "F12", self.lock, None),
            (self.tr("Sign out"), "Ctrl+F12", self.sign_out, icons.SP_DialogCloseButton),
            (self.tr("Clear the customer"), "Esc", self.clear_customer, None),
            (self.tr("The counter"), "Ctrl+1", lambda: self.show_tab(0), None),
            (self.tr("My customers (follow-ups)"), "Ctrl+2", lambda: self.show_tab(1), None),
            (self.tr("Dashboard (manager)"), "Ctrl+3", lambda: self.show_tab(2), None),
        ]
        for name, shortcut, slot, icon in entries:
            action = QAction(name, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{name} ({shortcut})")
            if icon is not None:
                action.setIcon(self.style().standardIcon(icon))
            action.triggered.connect(slot)
            self.addAction(action)
            self.keys.append(Key(name, shortcut))
        self.record_button.setToolTip(f"{self.tr('Record the sale')} (F4)")

    # ---- helpers ------------------------------------------------------------------

    def _on_counter(self) -> bool:
        return self.staff is not None and self.pages.currentWidget() is self.counter_page

    def _run(self, work: Callable[[], object], done: Callable[[object], None],
             failed: Callable[[BaseException], None] | None = None) -> None:  # fmt: skip
        def answer(result: object, error: BaseException | None) -> None:
            if error is None:
                done(result)
            elif failed is not None:
                failed(error)
            else:
                self.say(explain(error), error=True)
            if not self.tasks.busy:
                self.sig_busy_done.emit()

        self.tasks.run_db(work, answer)

    @staticmethod
    def _mark(widget: QWidget, name: str, value: object) -> None:
        """Set a property the stylesheet selects on, and restyle the widget for it."""
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def say(self, text: str, *, error: bool = False) -> None:
        """The one line above the card; an error replaces any success still showing."""
        self._mark(self.message, "error", error)
        self.message.setText(text)
        if error:
            self.sale_done.clear()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
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

    # ---- sign-in, lock, sign-out ----------------------------------------------------

    def refresh_roster(self, *, preselect: str | None = None) -> None:
        def done(result: object) -> None:
            roster, store = result  # type: ignore[misc]
            self.roster = roster
            self.store_name = store.name
            if self.display is not None:
                self.display.set_store_name(store.name)
            self._fill_guides()
            self.store_label.setText(store.name)
            self.sign_in_page.set_roster(roster, preselect=preselect)

        self._run(lambda: (self.counter.roster(), self.counter.store()), done)

    def _sign_in(self, staff_id: str, pin: str) -> None:
        def done(result: object) -> None:
            assert isinstance(result, SignedIn)
            self.signed_in(result)

        self._run(
            lambda: self.counter.sign_in(staff_id=staff_id, pin=pin),
            done,
            lambda error: self.sign_in_page.show_error(explain(error)),
        )

    def signed_in(self, staff: SignedIn) -> None:
        self.staff = staff
        self.staff_label.setText(f"{staff.name}")
        self.sign_in_page.reset()
        self.clear_customer()  # whatever the last person left is not the next one's
        self.customers_tab.message.clear()
        self.customers_tab.set_customers([])  # theirs load when they open the tab
        self.dashboard_tab.message.clear()
        self.pages.setCurrentWidget(self.counter_page)
        self.counter_page.setCurrentIndex(0)
        self.counter_page.setTabVisible(2, staff.may(Permission.VIEW_DASHBOARD))
        self._idle.start()
        self.query.setFocus()

    def _close_dialogs(self) -> None:
        """A lock or sign-out ends what the last person had open: nobody else submits it."""
        for name in ("enrol_dialog", "settings_dialog", "help_dialog"):
            dialog = getattr(self, name, None)
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    def lock(self) -> None:
        """Idle or F12: the screen hides the customer until someone signs in again."""
        if self.staff is None:
            return
        self._close_dialogs()
        self.clear_customer()
        self.sign_in_page.set_roster(self.roster, preselect=self.staff.staff_id)
        self.sign_in_page.reset(message=self.tr("Locked. Sign in to go on."))
        self.pages.setCurrentWidget(self.sign_in_page)

    def sign_out(self) -> None:
        if self.staff is None:
            return

        def done(_: object) -> None:
            self.staff = None
            self.staff_label.clear()
            self._close_dialogs()
            self.clear_customer()
            self.sign_in_page.reset(message=self.tr("Signed out."))
            self.pages.setCurrentWidget(self.sign_in_page)

        def refused(error: BaseException) -> None:
            if not isinstance(error, UnsyncedWork):
                self.say(explain(error), error=True)
                return
            answer = ManagerConfirm.ask(self.roster, explain(error), self)
            if answer is None:
                self.say(explain(error), error=True)
                return
            manager, pin = answer

            def confirmed() -> int:
                self.counter.check_manager(
                    staff_id=manager, pin=pin, permission=Permission.OVERRIDE_SYNC_GUARD
                )
                return self.counter.guard_unsynced(action="sign_out", manager_id=manager)

            self._run(confirmed, done)

        self._run(lambda: self.counter.guard_unsynced(action="sign_out"), done, refused)

    # ---- identify -------------------------------------------------------------------

    def identify(self) -> None:
        text = self.query.text()
        if not self._on_counter() or not text.strip():
            return
        self._run(
            lambda: self.counter.identify(text),
            self._identified,  # type: ignore[arg-type]
            lambda error: self._identify_failed(error),
        )

    def identify_scan(self, text: str) -> None:
        """A scan that landed outside the scan box (see :mod:`posapp.ui.scanner`)."""
        self.counter_page.setCurrentWidget(self.counter_tab)
        self.query.setText(text)
        self._back_to_scan()  # a list or picker it closed had the keyboard
        self.identify()

    def _identify_failed(self, error: BaseException) -> None:
        self.say(explain(error), error=True)
        self.query.selectAll()

    def _identified(self, found: Identification) -> None:
        self.query.selectAll()
        self.candidates.hide()
        if found.card is not None:
            self.show_card(found.card)
            return
        if found.candidates:
            self.candidate_model.set_candidates(found.candidates)
            self.candidates.show()
            self.candidates.selectRow(0)
            self.candidates.setFocus()
            self.say(self.tr("%n match(es): arrows, then Enter", "", len(found.candidates)))
            return
        self._clear_card()
        if found.query.kind is QueryKind.PHONE:
            self._unknown_phone = self.query.text()
            self.say(self.tr("Not a member yet. F3 enrols this phone."))
        else:
            self.say(self.tr("No member found."))

    def choose(self, row: int) -> None:
        member_id = self.candidate_model.candidate(row).id
        self._run(lambda: self.counter.card(member_id), self.show_card)  # type: ignore[arg-type]

    def show_card(self, card: MemberCard) -> None:
        """A newly recognised customer: their card, no invite yet, the scan box ready."""
        self._new_customer()
        self.candidates.hide()
        self._fill_card(card)
        self._serve_with(card.guide_id)
        self.say(self.tr("Member recognised."))
        self.query.setFocus()
        self.query.selectAll()
        if self.display is not None:
            self.display.show_member(card.summary.name, card.assessment.rung.value)

    def _new_customer(self) -> None:
        """Another customer at the counter: nothing of the last one's stays on screen."""
        self._unknown_phone = ""
        self._zero_asked = None
        self._end_walk_in_sale()
        self._hide_phone.stop()
        self.invites, self.invite_index = [], 0
        self._show_invite()
        self.sale_done.clear()
        self.sale_error.clear()
        self.message.clear()

    def _fill_card(self, card: MemberCard) -> None:
        self.card = card
        s = card.summary
        self.card_box.setTitle(self.tr("Member"))
        self.card_name.setText(s.name or self.tr("(no name)"))
        self.card_rung.setText(rung_name(card.assessment.rung.value))
        self._mark(self.card_rung, "rung", card.assessment.rung.value)
        self.card_phone.setText(s.phone_masked)
        self.card_code.setText(s.member_code)
        last = f"{s.last_visit_at:%Y-%m-%d}" if s.last_visit_at else "-"
        self.card_facts.setText(
            self.tr("Visits %1 · spent %2 · last visit %3 · guide %4")
            .replace("%1", str(s.visit_count))
            .replace("%2", format_fen(s.lifetime_spend_fen))
            .replace("%3", last)
            .replace("%4", card.guide_name or "-")
        )
        self.card_consents.setText(
            "  ".join(
                f"{'✓' if card.consents.get(p) else '✗'} {purpose_name(p.value)}" for p in Purpose
            )
        )
        step = card.assessment.next_step
        self.card_next.setText(self.tr("Next step: %1").replace("%1", channel_name(step.channel)))

    def _clear_card(self) -> None:
        self.card = None
        self.card_box.setTitle(self.tr("Customer"))
        self.card_name.setText(self.tr("Walk-in"))
        self.card_rung.setText(rung_name("walk_in"))
        self._mark(self.card_rung, "rung", "walk_in")
        for label in (self.card_phone, self.card_code, self.card_facts, self.card_consents):
            label.clear()
        self.card_next.setText(self.tr("Next step: %1").replace("%1", self.tr("invite to join")))

    def _show_card_again(self) -> None:
        if self.card is not None:
            self.card_phone.setText(self.card.summary.phone_masked)

    def clear_customer(self) -> None:
        """Esc, a lock, a sign-out or a sign-in: the counter as if no one had been served."""
        self._new_customer()
        self.receipt.clear()  # a sale half typed for the last customer is not the next one's
        self.amount.clear()
        self._clear_card()
        self._serve_with(None)
        self.candidates.hide()
        self.candidate_model.set_candidates([])
        self.query.clear()
        self.query.setFocus()
        if self.display is not None:
            self.display.show_idle()

    def _hold_walk_in_sale(self, sale: SaleResult) -> None:
        """A walk-in's new sale waits for them to join; any other sale ends the wait."""
        self._end_walk_in_sale()
        if sale.member_id is None and sale.created and self.card is None:
            self.walk_in_sale = sale
            self._walk_in_hold.start()

    def _end_walk_in_sale(self) -> None:
        self.walk_in_sale = None
        self._walk_in_hold.stop()

    def _another_sale(self, text: str) -> None:
        """Typing a new receipt starts another sale: the last walk-in's is no longer waiting."""
        if text:
            self._end_walk_in_sale()

    # ---- sale and invite -----------------------------------------------------------

    def focus_sale(self) -> None:
        if self._on_counter():
            self.receipt.setFocus()
            self.receipt.selectAll()

    def confirm_sale(self) -> None:
        """F4 (and the button): record; on a ¥0.00 sale just questioned, record the gift."""
        self.record_sale(confirming=True)

    def record_sale(self, *, confirming: bool = False) -> None:
        if not self._on_counter() or self.staff is None:
            return
        receipt, amount = self.receipt.text(), self.amount.text()
        member_id = self.card.id if self.card else None
        staff_id = self.staff.staff_id
        guide_id = self.serving_guide
        # A second F4 on the same ¥0.00 sale the counter just questioned: a free gift.
        gift = confirming and self._zero_asked == (receipt, amount)
        self._zero_asked = None
        self.sale_error.clear()

        def refused(error: BaseException) -> None:
            self.sale_done.clear()
            self.sale_error.setText(explain(error))
            if getattr(error, "rule", "") == "zero":
                self._zero_asked = (receipt, amount)
            target = self.amount if getattr(error, "field", "") == "amount" else self.receipt
            target.setFocus()

        self._run(
            lambda: self.counter.sell(
                receipt_no=receipt,
                amount=amount,
                staff_id=staff_id,
                member_id=member_id,
                guide_id=guide_id,
                gift=gift,
            ),
            self._sold,  # type: ignore[arg-type]
            refused,
        )

    def _sold(self, done: SaleDone) -> None:
        sale = done.sale
        self.last_sale = sale
        who = self.card.summary.name if self.card and self.card.summary.name else None
        if not sale.created:
            text = self.tr("Sale %1 of %2 was already recorded")
        elif sale.member_id is None:
            text = self.tr("Sale %1 of %2 recorded for a walk-in")
        else:
            text = self.tr("Sale %1 of %2 recorded for %3")
        text = (
            text.replace("%1", sale.receipt_no)
            .replace("%2", format_fen(sale.amount_fen))
            .replace("%3", who or self.tr("the member"))
        )
        if sale.created and sale.amount_fen == 0:
            text += " " + self.tr("(a free gift)")
        self.sale_done.setText(text)
        self.sale_error.clear()
        if self.message.property("error"):
            self.say("")
        self._hold_walk_in_sale(sale)
        if done.card is not None:  # the visit and spend just counted, the rung it led to
            self._fill_card(done.card)
        self.receipt.clear()
        self.amount.clear()
        self.invites, self.invite_index = done.invites, 0
        self._show_invite()
        self.query.setFocus()

    def _pos_sale(self, sale: SaleResult) -> None:
        """A sale from the POS: shown as it arrives; a walk-in's gets its invite at once."""
        self.last_sale = sale
        self._hold_walk_in_sale(sale)
        self.sale_done.setText(
            self.tr("From the POS: sale %1 of %2")
            .replace("%1", sale.receipt_no)
            .replace("%2", format_fen(sale.amount_fen))
        )
        if not self._on_counter():
            return
        self._fetch_invites(sale.member_id, sale.purchase_id)

    def next_invite(self) -> None:
        if not self._on_counter() or self.staff is None:
            return
        if len(self.invites) > 1:
            self.invite_index = (self.invite_index + 1) % len(self.invites)
            self._show_invite()
            return
        if self.invites:
            self.say(self.tr("This is the only QR for this customer."))
            return
        self._fetch_invites(self.card.id if self.card else None, None)

    def _fetch_invites(self, member_id: str | None, purchase_id: str | None) -> None:
        """The ladder's QRs for this customer, credited to the guide who served, shown."""
        guide_id = self.serving_guide

        def shown(invites: object) -> None:
            self.invites, self.invite_index = list(invites), 0  # type: ignore[call-overload]
            self._show_invite()

        self._run(
            lambda: self.counter.invites(
                member_id=member_id, staff_id=guide_id, purchase_id=purchase_id
            ),
            shown,
        )

    @property
    def invite(self) -> IssuedInvite | None:
        return self.invites[self.invite_index] if self.invites else None

    def _show_invite(self) -> None:
        invite = self.invite
        self.print_message.clear()
        if invite is None:
            self.qr.clear()
            self.invite_call.clear()
            self.invite_code.clear()
            if self.display is not None:
                self.display.clear_invite()
            return
        self.qr.setPixmap(qr_pixmap(invite.url, QR_PX))
        call = call_to_action(invite.channel, referral=invite.referral)
        more = (
            f"  ({self.invite_index + 1}/{len(self.invites)}, F6)" if len(self.invites) > 1 else ""
        )
        self.invite_call.setText(call + more)
        self.invite_code.setText(invite.token)
        if self.display is not None:
            self.display.show_invite(invite.url, invite.channel, referral=invite.referral)

    def print_with(self, printer: PrintInvite | None) -> None:
        self._print_invite = printer

    def print_invite(self) -> None:
        invite = self.invite
        if not self._on_counter():
            return
        if invite is None:
            self.say(self.tr("No invite QR to print yet: F6 shows one."))
            return
        if self._print_invite is None:
            self.print_message.setText(self.tr("No receipt printer is set up (settings)."))
            return
        self.print_message.setText(self.tr("Printing…"))
        printer = self._print_invite

        def answer(_: object, error: BaseException | None) -> None:
            if error is None:
                self.print_message.setText(self.tr("Printed."))
            else:
                self.print_message.setText(
                    self.tr("Not printed: %1 The invite stays on screen; F7 tries again.").replace(
                        "%1", explain(error)
                    )
                )

        self.tasks.run_io(lambda: printer(invite), answer)

    # ---- the guide who served -----------------------------------------------------

    @property
    def guides(self) -> list[SignedIn]:
        """Who may be credited as the customer's guide: never a cashier (HQ's roster decides)."""
        guides = [p for p in self.roster if may_guide(p.role)]
        return sorted(guides, key=lambda p: p.role != "guide")  # guides, then managers

    @property
    def serving_guide(self) -> str | None:
        return self.guide_choice.currentData()

    def _fill_guides(self) -> None:
        current = self.serving_guide
        self.guide_choice.clear()
        self.guide_choice.addItem(self.tr("no guide"), None)
        for person in self.guides:
            self.guide_choice.addItem(person.name, person.staff_id)
        self._serve_with(current)

    def _serve_with(self, member_guide: str | None) -> None:
        """The member's own guide when they have one here; else the guide last chosen."""
        index = self.guide_choice.findData(member_guide) if member_guide else -1
        if index < 0:
            index = max(0, self.guide_choice.findData(self._chosen_guide))
        self.guide_choice.setCurrentIndex(index)

    def _guide_chosen(self, index: int) -> None:
        self._chosen_guide = self.guide_choice.itemData(index)
        name = self.guide_choice.itemText(index)
        self.say(self.tr("Served by %1.").replace("%1", name))
        self._back_to_scan()
        if self.invites and self.staff is not None:  # the QR on screen credits who served
            self._fetch_invites(self.invites[0].member_id, self.invites[0].purchase_id)

    def choose_guide(self) -> None:
        """F5: the list of guides opens; arrows and Enter choose who served."""
        if not self._on_counter():
            return
        self.counter_page.setCurrentWidget(self.counter_tab)
        self.guide_choice.setFocus()
        self.guide_choice.showPopup()

    # ---- enrol -----------------------------------------------------------------------

    def open_enrol(self) -> None:
        if not self._on_counter() or self.staff is None:
            return
        staff = self.staff
        walk_in_sale = self.walk_in_sale if self.card is None else None
        notice = self.counter.notice()
        text = notice_text(notice.language, notice.version)
        display = self.display
        dialog = EnrolDialog(
            notice=notice,
            notice_text=text,
            show_to_customer=(lambda: display.show_notice(text)) if display is not None else None,
            guides=self.guides,
            guide_id=self.serving_guide,
            region=self.counter.region,
            phone=self._unknown_phone,
            walk_in_sale=(
                (walk_in_sale.receipt_no, walk_in_sale.amount_fen) if walk_in_sale else None
            ),
            parent=self,
        )
        self.enrol_dialog = dialog

        def submit(form: EnrolForm) -> None:
            credited = walk_in_sale if form.credit_sale else None

            def enrolled(done: EnrolDone) -> None:
                dialog.accept()
                self.show_card(done.card)
                text = (
                    self.tr("Enrolled: member code %1").replace("%1", done.enrolment.member_code)
                    if done.enrolment.created
                    else self.tr("Already a member.")
                )
                if credited is not None:
                    text += " " + self.tr("Sale %1 of %2 is now theirs.").replace(
                        "%1", credited.receipt_no
                    ).replace("%2", format_fen(credited.amount_fen))
                self.say(text)
                if self.display is not None and done.enrolment.created:
                    self.display.show_welcome(done.card.summary.name)

            self._run(
                lambda: self.counter.enrol(
                    phone=form.phone, consents=form.consents, staff_id=staff.staff_id,
                    name=form.name, birthday=form.birthday,
                    purchase_id=credited.purchase_id if credited else None,
                    guide_id=form.guide_id, guardian_consent=form.guardian_consent,
                ),
                enrolled,  # type: ignore[arg-type]
                dialog.refused,
            )  # fmt: skip

        dialog.sig_submit.connect(submit)
        dialog.finished.connect(lambda _: self._back_to_scan())
        if display is not None:
            dialog.finished.connect(lambda _: display.hide_notice())
        dialog.open()
        dialog.phone.setFocus()

    def _back_to_scan(self) -> None:
        """After a dialog: the window takes the keyboard again, the scan box has it."""
        self.activateWindow()
        self.query.setFocus()

    # ---- my customers -----------------------------------------------------------------

    def show_tab(self, index: int) -> None:
        if not self._on_counter() or self.staff is None:
            return
        if self.counter_page.widget(index) is self.dashboard_tab:
            staff_id = self.staff.staff_id  # asking is audited, allowed or not

            def allowed(_: object) -> None:
                self.counter_page.setTabVisible(index, True)
                self.counter_page.setCurrentIndex(index)

            self._run(
                lambda: self.counter.allow(staff_id=staff_id, permission=Permission.VIEW_DASHBOARD),
                allowed,
            )
            return
        self.counter_page.setCurrentIndex(index)

    def _tab_changed(self, index: int) -> None:
        widget = self.counter_page.widget(index)
        if widget is self.customers_tab:
            self.refresh_customers()
            self.customers_tab.table.setFocus()
        elif widget is self.dashboard_tab:
            self.dashboard_tab.ask()
        elif widget is self.counter_tab:
            self.query.setFocus()

    def refresh_dashboard(self, first: date, last: date) -> None:
        if self.staff is None or not self.staff.may(Permission.VIEW_DASHBOARD):
            return
        self.dashboard_tab.message.setText(self.tr("Counting…"))

        def shown(result: object) -> None:
            self.dashboard_tab.show_dashboard(result)  # type: ignore[arg-type]
            self.dashboard_tab.message.clear()

        self._run(lambda: self.counter.dashboard(first=first, last=last), shown)

    def refresh_customers(self) -> None:
        if self.staff is None:
            return
        guide_id = self.staff.staff_id
        self._run(
            lambda: self.counter.my_customers(guide_id=guide_id),
            self.customers_tab.set_customers,  # type: ignore[arg-type]
        )

    def _complete_follow_up(self, follow_up_id: str, channel: str, outcome: str) -> None:
        if self.staff is None:
            return
        staff_id = self.staff.staff_id

        def done(_: object) -> None:
            self.customers_tab.recorded()
            self.refresh_customers()

        self._run(
            lambda: self.counter.complete_follow_up(
                follow_up_id=follow_up_id, staff_id=staff_id, channel=channel, outcome=outcome
            ),
            done,
            lambda error: self.customers_tab.message.setText(explain(error)),
        )

    # ---- manager, sync, help ------------------------------------------------------

    def _member_needed(self) -> bool:
        """F8 and Ctrl+G act on the member shown; with none, the cashier hears so."""
        if self.card is None:
            self.say(self.tr("Scan the member first: this is for a member on screen."))
            return True
        return False

    def reveal_phone(self) -> None:
        if not self._on_counter() or self.staff is None or self._member_needed():
            return
        assert self.card is not None
        member_id, staff_id = self.card.id, self.staff.staff_id

        def shown(phone: object) -> None:
            self.card_phone.setText(format_phone(str(phone), self.counter.region))
            self._hide_phone.start()
            self.say(self.tr("The full phone shows for 30 seconds and was recorded as revealed."))

        self._run(lambda: self.counter.reveal_phone(member_id=member_id, staff_id=staff_id), shown)

    def open_settings(self) -> None:
        if not self._on_counter() or self.staff is None or self.settings is None:
            return
        staff_id = self.staff.staff_id

        def allowed(_: object) -> None:
            dialog = SettingsDialog(self.settings, self)  # type: ignore[arg-type]
            self.settings_dialog = dialog

            def saved() -> None:
                if dialog.result_settings is None:
                    return
                self.settings = dialog.result_settings
                self.settings.save()
                self._idle.setInterval(self.settings.idle_lock_minutes * 60_000)
                self.sig_settings_saved.emit(self.settings)
                self.say(self.tr("Settings saved."))

            dialog.accepted.connect(saved)
            dialog.finished.connect(lambda _: self._back_to_scan())
            dialog.open()

        self._run(
            lambda: self.counter.allow(staff_id=staff_id, permission=Permission.CHANGE_SETTINGS),
            allowed,
        )

    def reassign(self) -> None:
        """A manager asks HQ to give this customer another guide; HQ decides (WeCom limits)."""
        if not self._on_counter() or self.staff is None or self._member_needed():
            return
        assert self.card is not None
        chosen = GuidePicker.ask(self.guides, self.card.guide_id, self)
        if chosen is None:
            return
        member_id, manager_id = self.card.id, self.staff.staff_id
        self._run(
            lambda: self.counter.request_reassignment(
                member_id=member_id, to_guide_id=chosen, manager_id=manager_id
            ),
            lambda _: self.say(
                self.tr("Asked HQ for the new guide; it shows after the next sync.")
            ),
        )

    def sync_now(self) -> None:
        """F9: the cashier sees it start, and hears how it ended."""
        if self._sync_now is None:
            self.say(self.tr("This counter is not registered with HQ: there is nothing to sync."))
            return
        self._sync_asked = True
        self._sync_now()
        self.sync_label.setText(self.tr("Syncing…"))
        self.say(self.tr("Syncing with HQ…"))

    def show_sync_status(self, status: SyncStatus) -> None:
        if not status.registered:
            self.sync_label.setText(self.tr("Not registered with HQ"))
        elif status.online:
            self.sync_label.setText(self.tr("Online"))
        else:
            self.sync_label.setText(self.tr("Offline"))
        self._mark(self.sync_label, "online", status.online)
        parts = [self.tr("%n pending", "", status.pending)]
        age = status.oldest_pending_age_s
        if age is not None:
            parts.append(self.tr("oldest %1 min").replace("%1", str(int(age // 60))))
        if status.last_pull_at is not None:
            local = status.last_pull_at.replace(tzinfo=UTC).astimezone()
            parts.append(self.tr("last sync %1").replace("%1", f"{local:%H:%M}"))
        if status.clock_off:
            parts.append(
                self.tr("check the clock: %1 s off HQ").replace("%1", str(status.clock_skew_s))
            )
        if status.last_error:
            parts.append(status.last_error)
        self.pending_label.setText(" · ".join(parts))

    def synced(self, result: object) -> None:
        """HQ's changes may bring the roster (a new counter's first sync) or a new store name."""
        if getattr(result, "applied", 0) and self.pages.currentWidget() is self.sign_in_page:
            self.refresh_roster(preselect=self.staff.staff_id if self.staff else None)
        if self._sync_asked:
            self._sync_asked = False
            self.say(
                self.tr("Synced with HQ: %1 sent, %2 received.")
                .replace("%1", str(getattr(result, "pushed", 0)))
                .replace("%2", str(getattr(result, "applied", 0)))
            )

    def show_sync_error(self, reason: str) -> None:
        self.sync_label.setText(self.tr("Offline"))
        self._mark(self.sync_label, "online", False)
        self.pending_label.setToolTip(reason)
        if self._sync_asked:
            self._sync_asked = False
            self.say(
                self.tr("HQ could not be reached; nothing is lost and it tries again by itself."),
                error=True,
            )

    def show_help(self) -> None:
        dialog = QDialog(self)
        dialog.setObjectName("helpOverlay")
        dialog.setWindowTitle(self.tr("Keyboard"))
        text = QTextBrowser()
        rows = "".join(f"<tr><td><b>{k.shortcut}</b></td><td>{k.name}</td></tr>" for k in self.keys)
        text.setHtml(f"<table cellpadding='6'>{rows}</table>")
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(460, 480)
        self.help_dialog = dialog
        dialog.open()
