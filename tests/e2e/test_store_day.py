"""A store day at the counter window, driven only by keys, then synced to a real HQ process.

220 customers: walk-ins who just buy (and are shown the join QR with no extra key),
walk-ins who join after paying (F3, consent ticked with Space), and returning members
recognised by one scan of their member code. Afterwards the store's records are exactly
what was typed, and after F9 HQ holds the same sales and members as the store.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from counter_harness import counter_app, press, settle, type_enter, type_text
from hq_load import hq_process
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sync_world import now

from posapp.domain.consent import Purpose
from posapp.hq import admin
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
    qtbot.keyClicks(window.receipt, receipt)
    qtbot.keyClick(window.receipt, Qt.Key.Key_Return)
    type_enter(qtbot, window.amount, amount)
    qtbot.waitUntil(lambda: receipt in window.sale_done.text(), timeout=5000)


def test_a_store_day_by_keys_then_hq_equals_the_store(
    qtbot: QtBot, store: tuple[Database, Path, HqDatabase]
) -> None:
    db, data, hq_db = store
    rng = random.Random(20261125)
    expected_sales: dict[str, tuple[int, str | None]] = {}  # receipt → (fen, phone)
    members: dict[str, str] = {}  # phone → member code
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
                type_enter(qtbot, window.query, members[phone])
                qtbot.waitUntil(lambda p=phone: window.card is not None and
                                window.card.summary.phone_masked.endswith(p[-4:]), timeout=5000)  # fmt: skip
                _sell(qtbot, window, receipt, amount)
                expected_sales[receipt] = (fen, phone)
                assert window.invite is not None  # the ladder's next rung, shown by itself
            else:
                before = window.invite.token if window.invite else None
                _sell(qtbot, window, receipt, amount)
                qtbot.waitUntil(lambda b=before: window.invite is not None and
                                window.invite.token != b, timeout=5000)  # fmt: skip
                assert window.invite.channel.value == "mini_program"  # type: ignore[union-attr]
                phone = None
                if roll > 0.75:  # the walk-in joins on the spot
                    phone = f"139{n:08d}"
                    press(qtbot, window, Qt.Key.Key_F3)
                    dialog = window.enrol_dialog
                    qtbot.waitUntil(dialog.phone.hasFocus)
                    type_text(qtbot, dialog.phone, phone)
                    qtbot.keyClick(dialog.phone, Qt.Key.Key_Tab)
                    type_text(qtbot, dialog.name, f"顾客{n}")
                    box = dialog.consents[Purpose.MEMBERSHIP]
                    box.setFocus()
                    qtbot.keyClick(box, Qt.Key.Key_Space)
                    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
                    qtbot.waitUntil(lambda d=dialog: not d.isVisible(), timeout=5000)
                    assert window.card is not None
                    members[phone] = window.card.summary.member_code
                expected_sales[receipt] = (fen, phone)
            press(qtbot, window, Qt.Key.Key_Escape)
            settle(qtbot, window)
            assert window.card is None and window.query.hasFocus()

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

        press(qtbot, window, Qt.Key.Key_F9)
        qtbot.waitUntil(lambda: sync_status(db).pending == 0, timeout=60_000)
        qtbot.waitUntil(lambda: window.sync_label.text() == "Online", timeout=10_000)

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
    assert at_hq == at_store
    assert hq_members == members
    store_visits = dict(raw.execute("SELECT member_code, visit_count FROM member").fetchall())
    assert hq_visits == store_visits
    raw.close()
