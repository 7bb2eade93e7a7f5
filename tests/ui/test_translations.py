"""The Chinese translation: complete, placeholders intact, and what a real window shows.

``resources/i18n/posapp_zh_CN.ts`` is written by ``make translations`` (pyside6-lupdate,
then tools/fill_zh_cn.py); the ``.qm`` the app loads is built from it by lrelease.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QGroupBox, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from posapp.resources import current_notice, resources_dir
from posapp.settings import load_settings
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.store.models import Staff
from posapp.store.seed import DEMO_STORE, STAFF, seed_members
from posapp.timefmt import utcnow
from posapp.ui.app import CounterApp, install_language
from posapp.ui.counter_window import CounterWindow

I18N = resources_dir() / "i18n"
ZH_TS = I18N / "posapp_zh_CN.ts"
ZH_QM = I18N / "posapp_zh_CN.qm"
UI_SOURCES = sorted((Path(__file__).resolve().parents[2] / "posapp" / "ui").rglob("*.py"))
PLACEHOLDER = re.compile(r"%(?:n|L?\d+)")
HAN = re.compile(r"[\u4e00-\u9fff]")
MANAGER = next(staff_id for staff_id, _, role in STAFF if role == "manager")
PIN = "8888"


@dataclass(frozen=True)
class Message:
    context: str
    source: str
    kind: str | None  # the translation's type attribute: None when finished
    forms: tuple[str, ...]  # the translation, or each numerus form


def read_ts(path: Path) -> list[Message]:
    messages = []
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None, (name, message.findtext("source"))
            if message.get("numerus") == "yes":
                forms = tuple(f.text or "" for f in translation.iter("numerusform"))
            else:
                forms = (translation.text or "",)
            messages.append(
                Message(name, message.findtext("source", ""), translation.get("type"), forms)
            )
    return messages


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def tool(name: str) -> Path:
    path = Path(sys.executable).parent / name
    found = path if path.exists() else shutil.which(name)
    assert found, f"{name} is missing: it comes with PySide6 in the venv"
    return Path(found)


# ---- (a) the .ts file -------------------------------------------------------------------


def test_every_chinese_translation_is_finished_and_not_empty() -> None:
    messages = read_ts(ZH_TS)
    assert len(messages) > 100
    unfinished = [(m.context, m.source) for m in messages if m.kind is not None]
    empty = [(m.context, m.source) for m in messages if not all(f.strip() for f in m.forms)]
    assert not unfinished, f"unfinished (run 'make translations'): {unfinished}"
    assert not empty, f"empty translations: {empty}"


def test_every_translation_keeps_the_placeholders_of_its_source() -> None:
    wrong = [
        (m.context, m.source, form)
        for m in read_ts(ZH_TS)
        for form in m.forms
        if placeholders(form) != placeholders(m.source)
    ]
    assert not wrong


def test_plural_messages_have_their_one_chinese_form() -> None:
    plurals = [m for m in read_ts(ZH_TS) if "%n" in m.source]
    assert plurals, "the counter has %n messages (matches, pending)"
    for message in plurals:
        assert len(message.forms) == 1 and "%n" in message.forms[0], message


def test_the_ts_file_holds_every_string_of_the_ui(tmp_path: Path) -> None:
    """lupdate over today's posapp/ui finds nothing the committed .ts lacks."""
    fresh = tmp_path / "fresh_zh_CN.ts"
    shutil.copyfile(ZH_TS, fresh)
    subprocess.run(
        [
            str(tool("pyside6-lupdate")),
            "-silent",
            "-no-obsolete",
            *map(str, UI_SOURCES),
            "-ts",
            str(fresh),
        ],
        check=True,
        capture_output=True,
    )
    committed = {(m.context, m.source) for m in read_ts(ZH_TS)}
    new = sorted({(m.context, m.source) for m in read_ts(fresh)} - committed)
    assert not new, f"strings missing from {ZH_TS.name}: run 'make translations': {new}"


# ---- (b), (c) a real window in each language ----------------------------------------------


@pytest.fixture(scope="module")
def zh_qm() -> Path:
    """The compiled translation, built from the .ts as ``make`` would when it is stale."""
    if not ZH_QM.exists() or ZH_QM.stat().st_mtime < ZH_TS.stat().st_mtime:
        subprocess.run(
            [str(tool("pyside6-lrelease")), "-silent", str(ZH_TS), "-qm", str(ZH_QM)],
            check=True,
        )
    return ZH_QM


@pytest.fixture
def language(qapp: QApplication, zh_qm: Path) -> Iterator[QApplication]:
    """Leaves the application in English, as every other test expects it."""
    yield qapp
    install_language(qapp, "en")


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir)
    db = open_database(settings.db_path)
    now = utcnow()
    seed_members(db, 20, notice=current_notice(), now=now, seed=7)  # with the demo roster
    hasher = PasswordHasher(time_cost=1, memory_cost=8192)
    with db.write() as session:
        for staff_id, _, _ in STAFF:
            staff = session.get(Staff, staff_id)
            assert staff is not None
            staff.pin_hash = hasher.hash(PIN)
    yield db, data_dir
    db.close()


def zh(source: str) -> str:
    """The Chinese the .ts holds for ``source`` (one per source text)."""
    found = {m.forms[0] for m in read_ts(ZH_TS) if m.source == source}
    assert len(found) == 1, (source, found)
    return found.pop()


def visible_texts(widget: QWidget) -> list[str]:
    texts = [widget.windowTitle()]
    texts += [label.text() for label in widget.findChildren(QLabel)]
    texts += [box.title() for box in widget.findChildren(QGroupBox)]
    texts += [button.text() for button in widget.findChildren(QPushButton)]
    texts += [edit.placeholderText() for edit in widget.findChildren(QLineEdit)]
    return [t for t in texts if t]


def open_counter(qtbot: QtBot, db: Database, data_dir: Path, language: str) -> CounterApp:
    settings = load_settings(data_dir)
    settings.ui_language = language
    settings.intake_port = 0
    counter_app = CounterApp(settings, db, with_intake=False, with_display=True)
    qtbot.addWidget(counter_app.window)
    counter_app.start()
    window = counter_app.window
    qtbot.waitUntil(lambda: window.roster != [], timeout=10_000)
    return counter_app


def sign_in_manager(qtbot: QtBot, window: CounterWindow) -> None:
    page = window.sign_in_page
    page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of(MANAGER), 0))
    page.pin.setFocus()
    qtbot.keyClicks(page.pin, PIN)
    qtbot.keyClick(page.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.staff is not None, timeout=10_000)


def a_member_code(db: Database) -> str:
    raw = db.raw()
    try:
        return str(raw.execute("SELECT min(member_code) FROM member").fetchone()[0])
    finally:
        raw.close()


def test_with_the_chinese_translator_a_real_counter_window_speaks_chinese(
    qtbot: QtBot, language: QApplication, seeded: tuple[Database, Path]
) -> None:
    db, data_dir = seeded
    assert install_language(language, "zh-CN")
    counter_app = open_counter(qtbot, db, data_dir, "zh-CN")
    window = counter_app.window
    try:
        page = window.sign_in_page
        assert page.title.text() == zh("Sign in") == "登录"
        assert page.pin.placeholderText() == zh("PIN, then Enter")
        assert window.windowTitle() == zh("posapp counter")
        roles = [page.staff_model.index(r, 0).data() for r in range(page.staff_model.rowCount())]
        assert any(text.endswith("店长") for text in roles), roles

        sign_in_manager(qtbot, window)
        placeholder = window.scan_panel.query.placeholderText()
        assert placeholder == zh(
            "Scan a member code, or type a phone, its last four digits or a name"
        )
        assert HAN.search(placeholder)
        assert window.card_panel.name.text() == "散客"
        assert window.card_panel.rung.text() == "散客"
        assert window.sale_panel.record_button.text() == zh("Record sale (F4)")
        assert window.keys[0].name == zh("Keyboard help")

        window.scan_panel.query.setText(a_member_code(db))
        window.scan_panel.identify()
        qtbot.waitUntil(lambda: window.card is not None, timeout=10_000)
        assert window.scan_panel.message.text() == zh("Member recognised.")
        assert window.card_panel.title() == "会员"
        assert window.card_panel.next_step.text().startswith("下一步：")
        assert window.card_panel.rung.text() in {"会员", "老顾客", "超级会员"}

        assert counter_app.display is not None
        assert counter_app.display.welcome.text() == zh("Welcome back")

        # Nothing the .ts translates is left showing in English.
        english = {m.source for m in read_ts(ZH_TS) if m.forms[0] != m.source}
        shown = visible_texts(window) + visible_texts(counter_app.display)
        assert not [t for t in shown if t in english]
    finally:
        counter_app.stop()


def test_back_in_english_a_new_counter_window_speaks_english(
    qtbot: QtBot, language: QApplication, seeded: tuple[Database, Path]
) -> None:
    db, data_dir = seeded
    assert install_language(language, "zh-CN")
    chinese = open_counter(qtbot, db, data_dir, "zh-CN")
    assert chinese.window.sign_in_page.title.text() == "登录"
    chinese.stop()

    assert install_language(language, "en")
    counter_app = open_counter(qtbot, db, data_dir, "en")
    window = counter_app.window
    try:
        assert window.sign_in_page.title.text() == "Sign in"
        assert window.windowTitle() == "posapp counter"
        sign_in_manager(qtbot, window)
        assert window.scan_panel.query.placeholderText() == (
            "Scan a member code, or type a phone, its last four digits or a name"
        )
        assert window.card_panel.name.text() == "Walk-in"
        assert window.card_panel.rung.text() == "walk-in"
        names = [DEMO_STORE[1], *(name for _, name, _ in STAFF)]  # data, not UI words
        shown = [reduce(lambda t, n: t.replace(n, ""), names, t) for t in visible_texts(window)]
        assert not [t for t in shown if HAN.search(t)], shown
    finally:
        counter_app.stop()


def test_the_unreadable_data_box_speaks_chinese(language: QApplication, tmp_path: Path) -> None:
    from posapp.store.db import UnreadableDatabase
    from posapp.ui import startup

    assert install_language(language, "zh-CN")
    text = startup.explain(UnreadableDatabase(tmp_path / "posapp.db", "wrong_key"))
    assert "cannot be read" not in text and str(tmp_path) in text
    assert "重新开始" in text  # the Start clean button's name, as the box labels it
