"""Starting the counter: the Qt application, language, look, sync, POS intake, demo, self-test."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QLibraryInfo,
    QLocale,
    QTimer,
    QTranslator,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from posapp.printing import print_invite_slip
from posapp.resources import resources_dir
from posapp.services.counter import Counter
from posapp.services.invites import IssuedInvite
from posapp.settings import Settings, load_settings
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.sync.engine import GUI_PAGE, SyncEngine
from posapp.sync.lock import take_sync_lock
from posapp.sync.lookup import hq_asker
from posapp.sync.registration import NotRegistered, client_for, invite_signer
from posapp.sync.status import sync_status
from posapp.ui.counter_window import CounterWindow
from posapp.ui.customer_display import CustomerDisplay
from posapp.ui.panels.invite import PrintInvite
from posapp.ui.sync_worker import SyncWorker
from posapp.ui.tasks import TaskManager

log = logging.getLogger("posapp.ui")
LANGUAGES = ("zh-CN", "en")


def ui_language(setting: str) -> str:
    """``auto`` follows the system locale: Chinese for any zh locale, English otherwise."""
    if setting in LANGUAGES:
        return setting
    return "zh-CN" if QLocale.system().name().startswith("zh") else "en"


def make_app(language: str) -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("posapp")
    app.setOrganizationName("posapp")
    app.setDesktopFileName("posapp")  # Wayland matches the window to posapp.desktop
    install_language(app, language)
    icon = resources_dir() / "icons" / "posapp-256.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    style = resources_dir() / "style.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def install_language(app: QApplication, language: str) -> bool:
    """Load ``resources/i18n/posapp_<lang>.qm``; English is the source language."""
    for old in app.findChildren(QTranslator):
        app.removeTranslator(old)
        old.deleteLater()
    if language == "en":
        return True
    locale = language.replace("-", "_")
    qt_own = QTranslator(app)  # Qt's own buttons (Cancel, Save …), shipped with PySide6
    if qt_own.load(
        f"qtbase_{locale}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    ):
        app.installTranslator(qt_own)
    translator = QTranslator(app)
    qm = resources_dir() / "i18n" / f"posapp_{locale}.qm"
    if not translator.load(str(qm)):
        log.warning("no compiled translation at %s (run 'make translations')", qm)
        return False
    app.installTranslator(translator)
    return True


def printer_for(settings: Settings) -> PrintInvite | None:
    """The receipt printer from settings, as a function of an invite (None: none set up)."""
    config = settings.printer
    if config.get("kind", "none") == "none":
        return None

    def print_invite(invite: IssuedInvite) -> None:
        print_invite_slip(config, url=invite.url, short_code=invite.token)

    return print_invite


def keep_collections_short() -> None:
    """Start-up objects (Qt wrappers, models, SQLAlchemy metadata) live as long as the app;
    frozen out of the cyclic collector's sight, a full collection stays short. Unfrozen, a
    full collection during a big sync held the GIL for up to 100 ms and froze the screen."""
    gc.collect()
    gc.freeze()


class CounterApp:
    """The window with everything it runs beside: sync worker, POS intake, customer display."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        sign_in_hint: str = "",
        with_intake: bool = True,
        with_display: bool = True,
    ) -> None:
        self.settings = settings
        self.db = db
        language = ui_language(settings.ui_language)
        self.counter = Counter(
            db,
            signer=invite_signer(db, settings.data_dir),
            region=settings.region,
            language=language,
            ask_hq=hq_asker(db, settings.data_dir, budget_s=settings.hq_lookup_seconds),
        )
        self.tasks = TaskManager()
        store_name = self.counter.store().name
        self.display = CustomerDisplay(store_name) if with_display else None
        self.sync: SyncWorker | None = None
        self._lock = None
        try:
            client_for(db, settings.data_dir)
            self.sync = SyncWorker(self._make_engine, lambda: sync_status(db), interval_ms=30_000)
        except NotRegistered:
            pass
        self.window = CounterWindow(
            self.counter,
            self.tasks,
            display=self.display,
            print_invite=printer_for(settings),
            sync_now=self.sync.sync_now if self.sync else None,
            sign_in_hint=sign_in_hint,
            idle_lock_ms=settings.idle_lock_minutes * 60_000,
            settings=settings,
        )
        self.window.sig_settings_saved.connect(self._settings_saved)
        if self.sync is not None:
            self.sync.sig_status.connect(self.window.sync_panel.show_status)
            self.sync.sig_failed.connect(self.window.sync_panel.show_error)
            self.sync.sig_synced.connect(self.window.sync_panel.synced)
        self.window.sync_panel.show_status(sync_status(db))
        self.intake = None
        if with_intake:
            from posapp.intake.server import IntakeServer

            self.intake = IntakeServer.from_settings(
                db, settings, on_sale=self.window.sig_pos_sale.emit
            )

    def _settings_saved(self, settings: Settings) -> None:
        self.settings = settings
        self.window.invite_panel.print_with(printer_for(settings))

    def _make_engine(self) -> SyncEngine:
        """On the sync thread: hold the one-sync-per-counter lock for this app's life."""
        if self._lock is None:
            self._lock = take_sync_lock(self.settings.data_dir)
        client = client_for(self.db, self.settings.data_dir)
        if self.sync is not None:  # a retry is said on the window while the round waits
            client.on_progress = self.sync.sig_failed.emit
        return SyncEngine(self.db, client, page=GUI_PAGE)

    def start(self) -> None:
        self.window.show()
        if self.display is not None:
            self.display.place()
        keep_collections_short()
        if self.sync is not None:
            self.sync.start()
        if self.intake is not None:
            try:
                self.intake.start()
            except OSError as exc:
                self.window.say(
                    QCoreApplication.translate(
                        "CounterApp", "The POS intake could not start: %1"
                    ).replace("%1", str(exc)),
                    error=True,
                )

    def stop(self) -> None:
        if self.intake is not None and self.intake.running:
            self.intake.stop()
        if self.sync is not None:
            self.sync.stop()
        self.tasks.shutdown()
        if self._lock is not None:
            self._lock.release()
        if self.display is not None:
            self.display.close()
        self.window.close()


def _stop_now(*_: object) -> None:
    raise SystemExit(0)  # unwinds through the ``finally`` blocks below


def run_counter(data_dir: Path | None, *, demo: bool = False, lan: bool = False) -> int:
    """``posapp`` and ``posapp --demo``: the counter window until it is closed.

    SIGTERM (a shutdown, a service manager) and Ctrl+C stop it properly at any moment, so
    the demo's HQ stops and nothing is left half-written.
    """
    from posapp.ui.startup import begin, open_counter_database

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_now)
    if demo:
        data_dir = data_dir or Path(tempfile.mkdtemp(prefix="posapp-demo-"))
    instance = begin(data_dir)  # crash log; None: the first window was brought forward
    if instance is None:
        return 0
    world = None
    db: Database | None = None
    counter_app: CounterApp | None = None
    try:
        pins: dict[str, str] = {}
        if demo:
            from posapp.demo import DEMO_PINS, start_demo

            sys.stderr.write(
                f"posapp demo: starting a local HQ and seeding members in {data_dir} …\n"
            )
            world = start_demo(data_dir, lan=lan)
            db = world.db
            pins = DEMO_PINS
        settings = load_settings(data_dir)
        app = make_app(ui_language(settings.ui_language))
        if db is None:
            db = open_counter_database(settings.db_path)  # a message box says why not
            if db is None:
                return 3  # posapp.cli.EXIT_STORAGE
        hint = (
            QCoreApplication.translate("demo", "Demo PINs: manager %1, guide %2, cashier %3")
            .replace("%1", pins["manager"])
            .replace("%2", pins["guide"])
            .replace("%3", pins["cashier"])
            if pins
            else ""
        )
        counter_app = CounterApp(settings, db, sign_in_hint=hint)
        instance.listen(counter_app.window)
        counter_app.start()
        # Inside the event loop a signal quits the loop; Python only sees signals while it
        # runs, hence the heartbeat.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: app.quit())
        heartbeat = QTimer(interval=300)
        heartbeat.timeout.connect(lambda: None)
        heartbeat.start()
        return app.exec()
    finally:
        if counter_app is not None:
            counter_app.stop()
        if db is not None:
            db.close()
        instance.release()
        if world is not None:
            world.stop()


def _wait(app: QApplication, done: Callable[[], bool], timeout_ms: int = 10_000) -> bool:
    loop = QEventLoop()
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: loop.quit() if done() else None)
    QTimer.singleShot(timeout_ms, loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    return done()


def self_test() -> int:
    """``posapp --self-test``: one identify → sale → invite cycle through the real window
    and services, off-screen, in a throwaway data dir. Exit 0 when it all worked."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from posapp.resources import current_notice
    from posapp.services.staff import SignedIn
    from posapp.store.seed import DEMO_STORE, STAFF, seed_members
    from posapp.timefmt import utcnow

    with tempfile.TemporaryDirectory(prefix="posapp-self-test-") as tmp:
        settings = load_settings(Path(tmp))
        db = open_database(settings.db_path)
        try:
            seed_members(db, 20, notice=current_notice(), now=utcnow(), seed=1)
            raw = db.raw()
            code = raw.execute(
                "SELECT member_code FROM member ORDER BY member_code LIMIT 1"
            ).fetchone()[0]
            raw.close()
            app = make_app("zh-CN")
            counter_app = CounterApp(settings, db, with_intake=False, with_display=True)
            window = counter_app.window
            staff_id, name, role = STAFF[-1]
            window.signed_in(SignedIn(staff_id, name, role, DEMO_STORE[0]))
            window.show()
            steps = []
            scan, sale = window.scan_panel, window.sale_panel
            scan.query.setText(code)
            scan.identify()
            steps.append(("identify", _wait(app, lambda: window.card is not None)))
            sale.receipt.setText("SELF-TEST-1")
            sale.amount.setText("1.00")
            sale.record()
            steps.append(("sale", _wait(app, lambda: sale.last_sale is not None)))
            qr = window.invite_panel.qr
            steps.append(("invite", _wait(app, lambda: not qr.pixmap().isNull())))
            counter_app.stop()
        finally:
            db.close()
    failed = [name for name, ok in steps if not ok]
    for name, ok in steps:
        sys.stdout.write(f"self-test {name}: {'ok' if ok else 'FAILED'}\n")
    return 1 if failed else 0
