"""Screenshots of every main counter screen, in Chinese and English (``make screenshots``).

Starts the real demo (a local HQ, this counter registered and synced, seeded members),
signs in as the store manager and drives the window through its widgets and public
methods as a cashier would, waiting for each answer from the database thread. Writes
``<out>/<lang>/<screen>.png``. Phones on screen are masked by the services themselves;
the full numbers shown are the made-up one typed into the enrol dialog and a seeded
member's, typed by "the buyer" on the customer display's keypad.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import text

from posapp.demo import DEMO_PINS, DemoWorld, start_demo
from posapp.domain.consent import Purpose
from posapp.settings import load_settings
from posapp.ui.app import CounterApp, make_app
from posapp.ui.counter_window import CounterWindow

LANGUAGES = ("zh_CN", "en")
SCREENS = (
    "sign_in",
    "counter_empty",
    "member_identified",
    "member_other_store",
    "candidates",
    "buyer_keypad_display",
    "buyer_keypad_counter",
    "enrol_dialog",
    "invite_walk_in",
    "customer_display_invite",
    "customer_display_welcome",
    "help_overlay",
    "my_customers",
    "dashboard",
)
MANAGER = "demo-mgr"
GUIDE = "demo-g1"
# Made-up numbers for the enrol dialog (the first that no seeded member has is used).
NEW_PHONES = ("13800138000", "13912345678", "18600001111")
NEW_NAME = {"zh_CN": "林晓雯", "en": "Lin Xiaowen"}
# A member who joined at another store of the brand: this counter finds them at HQ.
OTHER_STORE = ("demo-east", "示范门店 · 徐汇店")
OTHER_MEMBER = ("+8613700137000", "周敏")


class ScreenFailed(RuntimeError):
    pass


def wait(what: str, done: Callable[[], object], timeout_ms: int = 15_000) -> None:
    """Run the event loop until ``done()`` is true; fail loudly naming ``what``."""
    loop = QEventLoop()
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: loop.quit() if done() else None)
    QTimer.singleShot(timeout_ms, loop.quit)
    timer.start()
    if not done():
        loop.exec()
    timer.stop()
    if not done():
        raise ScreenFailed(f"timed out waiting for {what}")


def settle(ms: int = 150) -> None:
    """Let layouts, style polish and pending paints happen before a grab."""
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


def with_dialog(window: QWidget, dialog: QWidget) -> QPixmap:
    """The window dimmed, with the dialog drawn over its centre (as a cashier sees it)."""
    back = window.grab()
    front = dialog.grab()
    canvas = QPixmap(back.size())
    painter = QPainter(canvas)
    painter.drawPixmap(0, 0, back)
    painter.fillRect(canvas.rect(), QColor(0, 0, 0, 110))
    x = max(0, (back.width() - front.width()) // 2)
    y = max(0, (back.height() - front.height()) // 2)
    painter.setPen(QColor(0, 0, 0, 140))
    painter.drawRect(QRect(x - 1, y - 1, front.width() + 1, front.height() + 1))
    painter.drawPixmap(x, y, front)
    painter.end()
    return canvas


def pick_member_code(world: DemoWorld) -> str:
    """A named regular with a guide and a few visits: the card with the most to show."""
    raw = world.db.raw()
    try:
        row = raw.execute(
            "SELECT member_code FROM member WHERE name IS NOT NULL AND guide_id IS NOT NULL"
            " AND erased_at IS NULL ORDER BY (rung = 'regular') DESC, visit_count DESC,"
            " member_code LIMIT 1"
        ).fetchone()
    finally:
        raw.close()
    return str(row[0])


def pick_last_four(world: DemoWorld) -> str:
    """Four digits that several members' phones end in."""
    raw = world.db.raw()
    try:
        row = raw.execute(
            "SELECT phone_last4, count(*) AS n FROM member WHERE phone_last4 IS NOT NULL"
            " GROUP BY phone_last4 ORDER BY n DESC, phone_last4 LIMIT 1"
        ).fetchone()
    finally:
        raw.close()
    return str(row[0])


def pick_member_phone(world: DemoWorld) -> str:
    """A named member's phone as they would type it (national digits), for the keypad."""
    raw = world.db.raw()
    try:
        row = raw.execute(
            "SELECT phone_e164 FROM member WHERE name IS NOT NULL AND guide_id IS NOT NULL"
            " AND erased_at IS NULL AND phone_e164 LIKE '+861%' ORDER BY visit_count DESC,"
            " member_code LIMIT 1"
        ).fetchone()
    finally:
        raw.close()
    return str(row[0]).removeprefix("+86")


def enrol_at_another_store(world: DemoWorld) -> str:
    """HQ's member of another store, written into the demo HQ's database as that store's
    sync would have left it; returns their phone as a cashier types it."""
    from posapp.domain.ids import new_id
    from posapp.domain.member_code import new_member_code
    from posapp.hq import admin
    from posapp.hq.db import HqDatabase
    from posapp.hq.models import Consent, Member, MemberStore, Store
    from posapp.timefmt import utcnow

    (store_id, store_name), (phone, name) = OTHER_STORE, OTHER_MEMBER
    hq_db = HqDatabase(f"sqlite:///{world.data_dir / 'hq' / 'hq.db'}")
    try:
        with hq_db.write() as session:
            if session.get(Store, store_id) is None:
                now = utcnow()
                admin.add_store(session, store_id=store_id, name=store_name, now=now)
                member_id = new_id()
                session.add(
                    Member(id=member_id, member_code=new_member_code(), phone_e164=phone,
                           name=name, rung="regular", home_store_id=store_id,
                           enrolled_at=now - timedelta(days=400), visit_count=9,
                           lifetime_spend_fen=386_000, last_visit_at=now - timedelta(days=12),
                           updated_at=now)
                )  # fmt: skip
                session.flush()
                session.add(MemberStore(member_id=member_id, store_id=store_id))
                session.add(
                    Consent(member_id=member_id, purpose=Purpose.MEMBERSHIP.value, granted=True,
                            notice_id="privacy", notice_version=1, notice_language="zh-CN",
                            notice_hash="0" * 64, source="store", store_id=store_id,
                            recorded_at=now - timedelta(days=400))
                )  # fmt: skip
    finally:
        hq_db.close()
    return phone.removeprefix("+86")


def mark_wecom_contacts(world: DemoWorld) -> None:
    """Some members as HQ's feed marks a guide's WeCom contacts (the seeded members never
    reached HQ, so no callback could): the card's member and every other customer of the
    guide, so the card and My customers show both states."""
    card = pick_member_code(world)
    with world.db.write() as session:
        session.execute(
            text(
                "UPDATE member SET wecom_guide_id = guide_id, wecom_since = :since"
                " WHERE guide_id IS NOT NULL AND erased_at IS NULL AND (member_code = :card"
                " OR (guide_id = :guide AND CAST(substr(member_code, -1) AS INTEGER) % 2 = 0))"
            ),
            {"since": "2026-11-20 09:30:00.000000", "card": card, "guide": GUIDE},
        )


def type_into(widget: QWidget, text: str, *, enter: bool = False) -> None:
    widget.clear()  # type: ignore[attr-defined]
    if text.isascii():
        QTest.keyClicks(widget, text)
    else:  # what an input method commits: QTest only types ASCII keys
        widget.insert(text)  # type: ignore[attr-defined]
    if enter:
        QTest.keyClick(widget, Qt.Key.Key_Return)


class Shooter:
    def __init__(self, world: DemoWorld, out: Path, lang: str) -> None:
        self.world = world
        self.folder = out / lang
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lang = lang
        self.saved: list[Path] = []

    def save(self, name: str, pixmap: QPixmap) -> None:
        assert name in SCREENS, name
        path = self.folder / f"{name}.png"
        if not pixmap.save(str(path)):
            raise ScreenFailed(f"could not write {path}")
        self.saved.append(path)

    def grab(self, name: str, widget: QWidget) -> None:
        settle()
        self.save(name, widget.grab())

    def run(self) -> list[Path]:
        language = self.lang.replace("_", "-")
        app = make_app(language)
        settings = load_settings(self.world.data_dir)
        settings.ui_language = language
        hint = (  # what 'posapp --demo' shows under the sign-in
            QCoreApplication.translate("demo", "Demo PINs: manager %1, guide %2, cashier %3")
            .replace("%1", DEMO_PINS["manager"])
            .replace("%2", DEMO_PINS["guide"])
            .replace("%3", DEMO_PINS["cashier"])
        )
        counter_app = CounterApp(settings, self.world.db, sign_in_hint=hint, with_intake=False)
        counter_app.start()
        try:
            self._screens(app, counter_app, counter_app.window)
        finally:
            counter_app.stop()
            settle(50)
        return self.saved

    def _screens(self, app: QApplication, counter_app: CounterApp, win: CounterWindow) -> None:
        page = win.sign_in_page
        wait("the staff roster", lambda: win.roster)
        page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of(MANAGER), 0))
        page.pin.setFocus()
        self.grab("sign_in", win)

        type_into(page.pin, DEMO_PINS["manager"], enter=True)
        wait("sign-in", lambda: win.staff is not None)
        wait("the first sync status", lambda: win.sync_panel.state.property("online") is not None)
        win.counter_tab.clear_customer()
        self.grab("counter_empty", win)

        type_into(win.scan_panel.query, pick_member_code(self.world), enter=True)
        wait("the member card", lambda: win.card is not None)
        self.grab("member_identified", win)

        win.counter_tab.clear_customer()  # a member of another store: asked of HQ
        type_into(win.scan_panel.query, enrol_at_another_store(self.world), enter=True)
        wait("the other store's member", lambda: win.card_panel.origin.text() != "")
        self.grab("member_other_store", win)

        win.counter_tab.clear_customer()
        type_into(win.scan_panel.query, pick_last_four(self.world), enter=True)
        wait("the candidate list", lambda: win.scan_panel.candidates.isVisible())
        self.grab("candidates", win)

        win.counter_tab.clear_customer()
        self._buyer_keypad(counter_app, win)

        win.counter_tab.clear_customer()
        # The guide who served this walk-in, chosen as the cashier does (F5, then the list).
        win.sale_panel.guide_choice.setCurrentIndex(win.sale_panel.guide_choice.findData(GUIDE))
        win.sale_panel.guide_choice.activated.emit(win.sale_panel.guide_choice.currentIndex())
        receipt = f"A{LANGUAGES.index(self.lang) + 1:02d}-20260518-0042"
        type_into(win.sale_panel.receipt, receipt, enter=True)
        type_into(win.sale_panel.amount, "128.00", enter=True)
        wait("the walk-in sale", lambda: win.sale_panel.last_sale is not None)
        wait("the invite QR", lambda: not win.invite_panel.qr.pixmap().isNull())
        self.grab("invite_walk_in", win)
        assert counter_app.display is not None
        self.grab("customer_display_invite", counter_app.display)

        self._enrol_dialog(win)  # the walk-in joins: their sale goes with them
        self.grab("customer_display_welcome", counter_app.display)

        win.show_help()
        wait("the help overlay", lambda: win.help_dialog.isVisible())
        settle()
        self.save("help_overlay", with_dialog(win, win.help_dialog))
        win.help_dialog.close()

        win.show_tab(2)  # the manager's dashboard, over the seeded months
        dash = win.dashboard_tab
        wait("the dashboard tab", lambda: win.tabs.currentWidget() is dash)
        dash.range.setCurrentIndex(dash.range.findData("custom"))
        dash.first_day.setDate(dash.last_day.date().addDays(-89))  # a quarter: weeks labelled
        wait(
            "the dashboard",
            lambda: dash.dashboard is not None and len(dash.dashboard.capture_by_day) == 90,
        )
        dash.table_choice.setCurrentIndex(dash.table_choice.findData("capture_by_staff"))
        settle(300)
        self.grab("dashboard", win)
        win.show_tab(0)

        win.lock()  # the guide takes over the counter
        page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of(GUIDE), 0))
        type_into(page.pin, DEMO_PINS["guide"], enter=True)
        wait("the guide's sign-in", lambda: win.staff is not None and win.staff.staff_id == GUIDE)
        win.show_tab(1)
        wait("the guide's customers", lambda: win.customers_tab.model.rowCount() > 0)
        win.customers_tab.table.selectRow(0)
        settle()
        self.grab("my_customers", win)

    def _buyer_keypad(self, counter_app: CounterApp, win: CounterWindow) -> None:
        """F11 with a touch display on its own screen: the buyer taps their phone in."""
        display = counter_app.display
        assert display is not None
        display.own_screen = True  # the offscreen platform has one screen; a till has two
        win.keypad_panel.open()
        wait("the keypad on the display", lambda: display.keypad_open)
        for digit in pick_member_phone(self.world):
            QTest.mouseClick(display.keypad.keys[digit], Qt.MouseButton.LeftButton)
        self.grab("buyer_keypad_display", display)
        QTest.mouseClick(display.keypad.keys["ok"], Qt.MouseButton.LeftButton)
        wait("the member card from the keypad", lambda: win.card is not None)
        self.grab("buyer_keypad_counter", win)
        win.counter_tab.clear_customer()
        display.place()  # one screen again, and the display's own size (the keypad grew it)

    def _enrol_dialog(self, win: CounterWindow) -> None:
        for phone in NEW_PHONES:
            before = win.scan_panel.message.text()
            type_into(win.scan_panel.query, phone, enter=True)
            wait("the phone lookup", lambda: win.scan_panel.message.text() != before)  # noqa: B023
            if win.card is None and not win.scan_panel.candidates.isVisible():
                break
        else:
            raise ScreenFailed("every made-up phone belongs to a seeded member")
        win.counter_tab.open_enrol()
        dialog = win.enrol_panel.dialog
        assert dialog is not None
        wait("the enrol dialog", dialog.isVisible)
        type_into(dialog.name, NEW_NAME[self.lang])
        dialog.consents[Purpose.MEMBERSHIP].setChecked(True)
        dialog.phone.setFocus()
        settle()
        self.save("enrol_dialog", with_dialog(win, dialog))
        dialog.submit_button.click()
        wait("the new member's card", lambda: win.card is not None and not dialog.isVisible())
        settle()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--lang", choices=LANGUAGES, action="append", help="default: all")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="posapp-screenshots-") as tmp:
        sys.stderr.write("screenshots: starting the demo (local HQ, seeded members) …\n")
        world = start_demo(Path(tmp))
        mark_wecom_contacts(world)
        try:
            for lang in args.lang or LANGUAGES:
                for path in Shooter(world, args.out, lang).run():
                    sys.stderr.write(f"screenshots: {path}\n")
        except ScreenFailed as exc:
            sys.stderr.write(f"screenshots: FAILED: {exc}\n")
            return 1
        finally:
            world.db.close()
            world.stop()
    sys.stderr.write(f"screenshots: done in {time.monotonic() - started:.0f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
