"""The counter window: the page stack, the status bar, the idle lock and the keys.

Keyboard first: every action has a key (F1 lists them), the scan box has the focus
whenever nothing else needs it, and Esc clears the customer. The work is the panels'
(:mod:`posapp.ui.panels`), each on the one database thread; this window lays them out
and connects their signals.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QStyle,
    QTabWidget,
)

from posapp.domain.roles import Permission
from posapp.services.counter import Counter, StoreInfo
from posapp.services.members import MemberCard
from posapp.services.staff import SignedIn
from posapp.settings import Settings
from posapp.ui.customer_display import CustomerDisplay
from posapp.ui.customers_tab import CustomersTab
from posapp.ui.dashboard_tab import DashboardTab
from posapp.ui.keys import Entry, IdleFilter, add_keys, key_help
from posapp.ui.panels.buyer_keypad import BuyerKeypadPanel
from posapp.ui.panels.card import CardPanel
from posapp.ui.panels.counter_tab import CounterTab
from posapp.ui.panels.enrol import EnrolPanel
from posapp.ui.panels.invite import InvitePanel, PrintInvite
from posapp.ui.panels.sale import SalePanel
from posapp.ui.panels.scan import ScanPanel
from posapp.ui.panels.session import StaffSession
from posapp.ui.panels.settings import SettingsPanel
from posapp.ui.panels.sync_status import SyncPanel
from posapp.ui.panels.till import Till
from posapp.ui.scanner import WedgeScanner
from posapp.ui.sign_in import SignInPage
from posapp.ui.tasks import TaskManager
from posapp.ui.words import explain

IDLE_LOCK_MS = 5 * 60_000


class CounterWindow(QMainWindow):
    """Two pages: signing in, and the tabs (the counter, My customers, the dashboard)."""

    sig_pos_sale = Signal(object)  # SaleResult, emitted from the POS intake's thread
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
        self.till = Till(counter, tasks, display)
        self.counter, self.tasks, self.display = counter, tasks, display
        self.help_dialog: QDialog | None = None
        self.sign_in_page = SignInPage()
        self.sign_in_page.hint.setText(sign_in_hint)
        self.session = StaffSession(self.till, self.sign_in_page, self)
        self.scan_panel = ScanPanel(self.till, self)
        self.card_panel = CardPanel(self.till)
        self.sale_panel = SalePanel(self.till)
        self.invite_panel = InvitePanel(self.till, print_invite)
        self.enrol_panel = EnrolPanel(self.till, self)
        self.sync_panel = SyncPanel(sync_now, self)
        self.settings_panel = SettingsPanel(self.till, settings, self)
        self.keypad_panel = BuyerKeypadPanel(
            self.till, self.sale_panel, self.enrol_panel, lambda: self.settings_panel.settings, self
        )
        self.counter_tab = CounterTab(
            self.till, self.scan_panel, self.card_panel, self.sale_panel, self.invite_panel,
            self.enrol_panel,
        )  # fmt: skip
        self.customers_tab = CustomersTab(self.till)
        self.dashboard_tab = DashboardTab(self.till)
        self.tabs = QTabWidget(objectName="counterTabs")  # the signed-in page of the stack
        self.tabs.addTab(self.counter_tab, self.tr("Counter"))
        self.tabs.addTab(self.customers_tab, self.tr("My customers"))
        self.tabs.addTab(self.dashboard_tab, self.tr("Dashboard"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.sign_in_page)
        self.pages.addWidget(self.tabs)
        self.setCentralWidget(self.pages)
        self.staff_label = QLabel(objectName="staffName")
        self.store_label = QLabel(objectName="storeName")
        bar = self.statusBar()
        bar.addWidget(self.sync_panel.state)
        bar.addWidget(self.sync_panel.pending, 1)
        bar.addPermanentWidget(self.staff_label)
        bar.addPermanentWidget(self.store_label)
        self._add_keys()
        self._connect_panels()

        self._idle = QTimer(self, singleShot=True, interval=idle_lock_ms)
        self._idle.timeout.connect(self.lock)
        self._idle_filter = IdleFilter(self._idle, self)
        self.scanner = WedgeScanner(
            self, self.scan_panel.query, active=self._on_counter, identify=self._identify_scan,
            redirect=lambda _: self.tabs.currentWidget() is self.counter_tab,
            region=counter.region,
        )  # fmt: skip
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._idle_filter)
            app.installEventFilter(self.scanner)
        self.setWindowTitle(self.tr("posapp counter"))
        self.resize(1180, 760)
        self.session.refresh_roster()

    def _connect_panels(self) -> None:
        for panel in (self.session, self.sync_panel, self.settings_panel, self.keypad_panel):
            panel.sig_message.connect(lambda text, error: self.say(text, error=error))
        self.keypad_panel.sig_card.connect(self.counter_tab.show_card)
        self.tasks.sig_failed.connect(lambda error: self.say(explain(error), error=True))
        self.session.sig_roster.connect(self._roster_changed)
        self.session.sig_signed_in.connect(self.signed_in)
        self.session.sig_signed_out.connect(self._signed_out)
        self.sync_panel.sig_received.connect(self._hq_changes_received)
        self.settings_panel.sig_saved.connect(self._settings_saved)
        self.settings_panel.sig_closed.connect(self.counter_tab.back_to_scan)
        self.sig_pos_sale.connect(
            lambda sale: self.counter_tab.pos_sale(sale, on_counter=self._on_counter())
        )

    def _add_keys(self) -> None:
        icons = QStyle.StandardPixmap
        on_counter = self._when_on_counter
        entries: list[Entry] = [
            (self.tr("Keyboard help"), "F1", self.show_help, icons.SP_DialogHelpButton),
            (self.tr("Go to the sale"), "F2", on_counter(self.sale_panel.focus), None),
            (self.tr("Enrol a member"), "F3", on_counter(self.counter_tab.open_enrol), icons.SP_FileDialogNewFolder),
            (self.tr("Record the sale"), "F4", on_counter(self.sale_panel.confirm), icons.SP_DialogApplyButton),
            (self.tr("Choose the guide who served"), "F5", on_counter(self.choose_guide), None),
            (self.tr("Show or switch the invite QR"), "F6", on_counter(self.counter_tab.next_invite), None),
            (self.tr("Print the invite"), "F7", on_counter(self.invite_panel.print_invite), None),
            (self.tr("Reveal the full phone (manager)"), "F8", on_counter(self.card_panel.reveal_phone), None),
            (self.tr("Ask HQ for another guide (manager)"), "Ctrl+G", on_counter(self.card_panel.reassign), None),
            (self.tr("Sync now"), "F9", self.sync_panel.sync_now, icons.SP_BrowserReload),
            (self.tr("Settings (manager)"), "F10", on_counter(self.settings_panel.open), None),
            (self.tr("The customer types their phone on the display"), "F11", on_counter(self.keypad_panel.open), None),
            (self.tr("Lock the counter"), "F12", self.lock, None),
            (self.tr("Sign out"), "Ctrl+F12", self.sign_out, icons.SP_DialogCloseButton),
            (self.tr("Clear the customer"), "Esc", lambda: self.keypad_panel.cancel() or self.counter_tab.clear_customer(), None),
            (self.tr("The counter"), "Ctrl+1", lambda: self.show_tab(0), None),
            (self.tr("My customers (follow-ups)"), "Ctrl+2", lambda: self.show_tab(1), None),
            (self.tr("Dashboard (manager)"), "Ctrl+3", lambda: self.show_tab(2), None),
        ]  # fmt: skip
        self.keys = add_keys(self, entries)

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle_filter)
            app.removeEventFilter(self.scanner)
        self._idle.stop()
        super().closeEvent(event)

    # ---- what the panels share ------------------------------------------------------

    @property
    def staff(self) -> SignedIn | None:
        return self.till.staff

    @property
    def roster(self) -> list[SignedIn]:
        return self.till.roster

    @property
    def card(self) -> MemberCard | None:
        return self.till.card

    def _on_counter(self) -> bool:
        return self.staff is not None and self.pages.currentWidget() is self.tabs

    def _when_on_counter(self, action: Callable[[], None]) -> Callable[[], None]:
        """A key that acts on the counter does nothing on the sign-in (or lock) page."""
        return lambda: action() if self._on_counter() else None

    def say(self, text: str, *, error: bool = False) -> None:
        self.counter_tab.say(text, error=error)

    # ---- sign-in, lock, sign-out ----------------------------------------------------

    def _roster_changed(self, store: StoreInfo) -> None:
        self.sale_panel.set_guides()
        self.store_label.setText(store.name)

    def _hq_changes_received(self) -> None:
        """HQ's changes may bring the roster (a new counter's first sync) or a new store name."""
        if self.pages.currentWidget() is self.sign_in_page:
            self.session.refresh_roster(preselect=self.staff.staff_id if self.staff else None)

    def signed_in(self, staff: SignedIn) -> None:
        self.till.staff = staff
        self.staff_label.setText(f"{staff.name}")
        self.sign_in_page.reset()
        self.counter_tab.clear_customer()  # whatever the last person left is not the next one's
        self.customers_tab.signed_in()
        self.dashboard_tab.signed_in()
        self.pages.setCurrentWidget(self.tabs)
        self.tabs.setCurrentIndex(0)
        self.tabs.setTabVisible(2, staff.may(Permission.VIEW_DASHBOARD))
        self._idle.start()
        self.scan_panel.query.setFocus()

    def _close_dialogs(self) -> None:
        """A lock or sign-out ends what the last person had open: nobody else submits it."""
        self.keypad_panel.cancel()
        for dialog in (self.enrol_panel.dialog, self.settings_panel.dialog, self.help_dialog):
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    def lock(self) -> None:
        """Idle or F12: the screen hides the customer until someone signs in again."""
        if self.staff is None:
            return
        self._close_dialogs()
        self.counter_tab.clear_customer()
        self.sign_in_page.set_roster(self.roster, preselect=self.staff.staff_id)
        self.sign_in_page.reset(message=self.tr("Locked. Sign in to go on."))
        self.pages.setCurrentWidget(self.sign_in_page)

    def sign_out(self) -> None:
        if self.staff is not None:
            self.session.sign_out()

    def _signed_out(self) -> None:
        self.till.staff = None
        self.staff_label.clear()
        self._close_dialogs()
        self.counter_tab.clear_customer()
        self.sign_in_page.reset(message=self.tr("Signed out."))
        self.pages.setCurrentWidget(self.sign_in_page)

    # ---- the tabs -------------------------------------------------------------------

    def _identify_scan(self, text: str) -> None:
        self.tabs.setCurrentWidget(self.counter_tab)
        self.counter_tab.identify_scan(text)

    def choose_guide(self) -> None:
        self.tabs.setCurrentWidget(self.counter_tab)
        self.sale_panel.choose_guide()

    def show_tab(self, index: int) -> None:
        if not self._on_counter() or self.staff is None:
            return
        if self.tabs.widget(index) is self.dashboard_tab:
            staff_id = self.staff.staff_id  # asking is audited, allowed or not

            def allowed(_: None) -> None:
                self.tabs.setTabVisible(index, True)
                self.tabs.setCurrentIndex(index)

            self.tasks.run_db(
                lambda: self.counter.allow(staff_id=staff_id, permission=Permission.VIEW_DASHBOARD),
                allowed,
            )
            return
        self.tabs.setCurrentIndex(index)

    def _tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.customers_tab:
            self.customers_tab.shown()
        elif widget is self.dashboard_tab:
            self.dashboard_tab.shown()
        elif widget is self.counter_tab:
            self.scan_panel.query.setFocus()

    # ---- settings, help ---------------------------------------------------------------

    def _settings_saved(self, settings: Settings) -> None:
        self._idle.setInterval(settings.idle_lock_minutes * 60_000)
        self.sig_settings_saved.emit(settings)

    def show_help(self) -> None:
        self.help_dialog = key_help(self, self.keys)
