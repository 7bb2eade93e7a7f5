"""A store day at the counter window, driven only by keys, then synced to a real HQ process.

220 customers: walk-ins who just buy (and are shown the join QR with no extra key),
walk-ins who join after paying (F3, consent ticked with Space), and returning members
recognised by one scan of their member code, some scanned while a name search's candidate
list has the keyboard. Two guides serve: the cashier picks who served (F5) for some
customers, a member is otherwise served by their own guide. Afterwards the store's records
are exactly what was typed, and after F9 HQ holds the same sales and members as the store,
each sale and enrolment credited to the guide who served, in HQ's own reports too.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from counter_harness import choose_guide, counter_app, press, settle, type_enter, type_text, wedge
from hq_load import hq_process
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sync_world import now

from posapp.domain.consent import Purpose
from posapp.hq import admin, reports
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, register
from posapp.sync.status import sync_status
from posapp.ui.counter_window import CounterWindow

CUSTOMERS = 220
CASHIER_PIN = "4826"
GUIDES = {"王芳": "jingan-guide", "李娜": "jingan-guide-2", "no guide": None}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Database, Path, HqDatabase]]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        admin.add_store(session, store_id="jingan", name="静安店", now=now())
        admin.add_staff(session, store_id="jingan", name="刘洋", role="cashier", pin=CASHIER_PIN,
                        now=now(), staff_id="jingan-cashier")  # fmt: skip
        admin.add_staff(session, store_id="jingan", name="王芳", role="guide", pin="1357",
                        now=now(), staff_id="jingan-guide")  # fmt: skip
        admin.add_staff(session, store_id="jingan", name="李娜", role="guide", pin="2468",
                        now=now(), staff_id="jingan-guide-2")  # fmt: skip
        code = admin.device_code(session, store_id="jingan", now=now(), minutes=10)
    data = tmp_path / "till"
    db = open_database(data / "posapp.db")
    with hq_process(url, tmp_path) as base:
        register(db, data, hq_url=base, code=code, name="till 1")
        SyncEngine(db, client_for(db, data)).run_once()  # the roster, with HQ's PIN hashes
        yield db, data, hq_db
    db.close()
    hq_db.close()


def _sell(qtbot: QtBot, window: CounterWindow, receipt: str, amount: str) -> None:
    press(qtbot, window, Qt.Key.Key_F2)
    qtbot.keyClicks(window.sale_panel.receipt, receipt)
    qtbot.keyClick(window.sale_panel.receipt, Qt.Key.Key_Return)
    type_enter(qtbot, window.sale_panel.amount, amount)
    qtbot.waitUntil(lambda: receipt in window.sale_panel.done.text(), timeout=5000)


def test_a_store_day_by_keys_then_hq_equals_the_store(
    qtbot: QtBot, store: tuple[Database, Path, HqDatabase]
) -> None:
    db, data, hq_db = store
    rng = random.Random(20261125)
    expected_sales: dict[str, tuple[int, str | None]] = {}  # receipt → (fen, phone)
    members: dict[str, str] = {}  # phone → member code
    served_by: dict[str, str | None] = {}  # receipt → the guide credited with the sale
    joined_with: dict[str, str | None] = {}  # phone → the guide credited with the enrolment
    own_guide: dict[str, str | None] = {}  # phone → the member's guide at the counter
    list_scans = 0
    last_chosen: str | None = None
    with counter_app(qtbot, db, data, with_display=True) as app:
        window = app.window
        settle(qtbot, window)
        page = window.sign_in_page
        page.staff.setCurrentIndex(
            page.staff_model.index(page.staff_model.row_of("jingan-cashier"), 0)
        )
        type_enter(qtbot, page.pin, CASHIER_PIN)
        qtbot.waitUntil(lambda: window.staff is not None)

        for n in range(CUSTOMERS):
            receipt = f"JA-{n:04d}"
            fen = rng.randrange(500, 200_000)
            amount = f"{fen // 100}.{fen % 100:02d}"
            roll = rng.random()
            if members and roll < 0.45:  # a returning member: one scan
                phone = rng.choice(sorted(members))
                if len(members) > 2 and rng.random() < 0.3:
                    # A name search first: the list has the keyboard, then the scanner fires.
                    type_enter(qtbot, window.scan_panel.query, "顾客")
                    qtbot.waitUntil(window.scan_panel.candidates.isVisible, timeout=5000)
                    assert window.scan_panel.candidates.hasFocus()
                    qtbot.wait(60)  # the search was typed; the scan comes a moment later
                    wedge(qtbot, members[phone])
                    list_scans += 1
                else:
                    type_enter(qtbot, window.scan_panel.query, members[phone])
                qtbot.waitUntil(lambda p=phone: window.card is not None and
                                window.card.summary.phone_masked.endswith(p[-4:]), timeout=5000)  # fmt: skip
                assert window.card.summary.member_code == members[phone]  # type: ignore[union-attr]
                guide = own_guide[phone]  # the member's own; with none, the last chosen
                assert window.sale_panel.serving_guide == (
                    guide if guide is not None else last_chosen
                )
                if rng.random() < 0.25:  # served by someone else today: the cashier says who
                    name = rng.choice(sorted(GUIDES))
                    choose_guide(qtbot, window, name)
                    last_chosen = GUIDES[name]
                served_by[receipt] = window.sale_panel.serving_guide
                _sell(qtbot, window, receipt, amount)
                expected_sales[receipt] = (fen, phone)
                assert (
                    window.invite_panel.invite is not None
                )  # the ladder's next rung, shown by itself
            else:
                if rng.random() < 0.3:
                    name = rng.choice(sorted(GUIDES))
                    choose_guide(qtbot, window, name)
                    last_chosen = GUIDES[name]
                assert window.sale_panel.serving_guide == last_chosen
                served_by[receipt] = window.sale_panel.serving_guide
                before = window.invite_panel.invite.token if window.invite_panel.invite else None
                _sell(qtbot, window, receipt, amount)
                qtbot.waitUntil(lambda b=before: window.invite_panel.invite is not None and
                                window.invite_panel.invite.token != b, timeout=5000)  # fmt: skip
                assert window.invite_panel.invite.channel.value == "mini_program"  # type: ignore[union-attr]
                phone = None
                if roll > 0.75:  # the walk-in joins on the spot
                    phone = f"139{n:08d}"
                    press(qtbot, window, Qt.Key.Key_F3)
                    dialog = window.enrol_panel.dialog
                    qtbot.waitUntil(dialog.phone.hasFocus)
                    type_text(qtbot, dialog.phone, phone)
                    qtbot.keyClick(dialog.phone, Qt.Key.Key_Tab)
                    type_text(qtbot, dialog.name, f"顾客{n}")
                    box = dialog.consents[Purpose.MEMBERSHIP]
                    box.setFocus()
                    qtbot.keyClick(box, Qt.Key.Key_Space)
                    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
                    assert dialog.guide.currentData() == served_by[receipt]
                    qtbot.waitUntil(lambda d=dialog: not d.isVisible(), timeout=5000)
                    assert window.card is not None
                    members[phone] = window.card.summary.member_code
                    joined_with[phone] = own_guide[phone] = served_by[receipt]
                expected_sales[receipt] = (fen, phone)
            press(qtbot, window, Qt.Key.Key_Escape)
            settle(qtbot, window)
            assert window.card is None and window.scan_panel.query.hasFocus()

        raw = db.raw()
        at_store = {
            r[0]: (r[1], r[2][3:] if r[2] else None)
            for r in raw.execute(
                "SELECT p.receipt_no, p.amount_fen, m.phone_e164 FROM purchase p"
                " LEFT JOIN member m ON m.id = p.member_id"
            )
        }
        assert at_store == expected_sales
        codes = dict(
            raw.execute("SELECT substr(phone_e164, 4), member_code FROM member").fetchall()
        )
        assert codes == members

        guides_at_store = dict(raw.execute("SELECT receipt_no, guide_id FROM purchase").fetchall())
        assert guides_at_store == served_by
        assert list_scans > 5

        press(qtbot, window, Qt.Key.Key_F9)
        assert "Syncing" in window.scan_panel.message.text()
        qtbot.waitUntil(lambda: sync_status(db).pending == 0, timeout=60_000)
        qtbot.waitUntil(lambda: window.sync_panel.state.text() == "Online", timeout=10_000)
        qtbot.waitUntil(
            lambda: "Synced with HQ" in window.scan_panel.message.text(), timeout=10_000
        )

    since, until = now() - timedelta(days=1), now() + timedelta(days=1)
    with hq_db.read() as session:
        conn = session.connection().connection.dbapi_connection
        assert conn is not None
        at_hq = {
            r[0]: (r[1], r[2][3:] if r[2] else None)
            for r in conn.execute(
                "SELECT s.receipt_no, s.amount_fen, m.phone_e164 FROM sale s"
                " LEFT JOIN member m ON m.id = s.member_id WHERE s.store_id = 'jingan'"
            )
        }
        hq_members = dict(
            conn.execute("SELECT substr(phone_e164, 4), member_code FROM member").fetchall()
        )
        hq_visits = dict(conn.execute("SELECT member_code, visit_count FROM member").fetchall())
        facts = conn.execute(
            "SELECT type, payload FROM event WHERE type IN ('sale.recorded', 'member.enrolled')"
        ).fetchall()
        capture = reports.capture_rate(session, store_id="jingan", since=since, until=until)
        joined = reports.enrolments(session, store_id="jingan", since=since, until=until)
    sales_at_hq = {
        p["receipt_no"]: p.get("guide_id")
        for kind, p in ((k, json.loads(v)) for k, v in facts)
        if kind == "sale.recorded"
    }
    enrolled_at_hq = {
        p["phone_e164"][3:]: p.get("guide_id")
        for kind, p in ((k, json.loads(v)) for k, v in facts)
        if kind == "member.enrolled"
    }
    assert sales_at_hq == served_by  # every sale on the guide who served, not the cashier
    assert enrolled_at_hq == joined_with
    assert capture["by_guide"] == dict(
        sorted(Counter(g or "-" for g in served_by.values()).items())
    )
    assert joined["by_guide"] == dict(
        sorted(Counter(g or "-" for g in joined_with.values()).items())
    )
    assert (
        "jingan-cashier" not in capture["by_guide"] and "jingan-cashier" not in joined["by_guide"]
    )
    assert at_hq == at_store
    assert hq_members == members
    store_visits = dict(raw.execute("SELECT member_code, visit_count FROM member").fetchall())
    assert hq_visits == store_visits
    raw.close()
