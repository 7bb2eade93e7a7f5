"""The guide's "My customers" tab: their customers and follow-ups, completed in two keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from counter_harness import counter_app, give_pins, press, settle, sign_in
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from roster import CASHIER, GUIDE

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import enrol_member
from posapp.store.db import Database
from posapp.timefmt import utcnow
from posapp.ui.app import CounterApp


def _enrol(db: Database, notice: Notice, phone: str, name: str, *, contact: bool) -> str:
    consents = {Purpose.MEMBERSHIP} | ({Purpose.GUIDE_CONTACT} if contact else set())
    with db.write() as s:
        return enrol_member(
            s, phone=phone, consents=consents, notice=notice, staff_id=GUIDE, name=name,
            now=utcnow() - timedelta(days=2),
        ).member_id  # fmt: skip


@pytest.fixture
def app(qtbot: QtBot, db: Database, db_path: Path, notice: Notice) -> Iterator[CounterApp]:
    give_pins(db)
    _enrol(db, notice, "13812345678", "王芳", contact=True)
    _enrol(db, notice, "13912345678", "李娜", contact=True)
    _enrol(db, notice, "13712345678", "张伟", contact=False)
    with counter_app(qtbot, db, db_path.parent) as made:
        sign_in(qtbot, made.window, GUIDE)
        press(qtbot, made.window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: made.window.customers_tab.model.rowCount() == 3)
        yield made


def test_the_guide_sees_their_customers_with_due_follow_ups(
    qtbot: QtBot, app: CounterApp, qtmodeltester: object
) -> None:
    tab = app.window.customers_tab
    assert app.window.tabs.currentWidget() is tab and tab.table.hasFocus()
    rows = {tab.model.at(r).name: tab.model.at(r) for r in range(3)}
    assert rows["王芳"].due and rows["李娜"].due  # the thank-you after enrolment
    assert not rows["张伟"].due and not rows["张伟"].guide_contact  # no consent, no task
    assert all("****" in row.phone_masked for row in rows.values())
    qtmodeltester.check(tab.model)  # type: ignore[attr-defined]
    qtmodeltester.check(tab.proxy)  # type: ignore[attr-defined]

    tab.filter_text.setText("李")
    assert tab.proxy.rowCount() == 1
    tab.filter_text.clear()
    tab.due_only.setChecked(True)
    assert tab.proxy.rowCount() == 2


def test_a_follow_up_is_done_in_two_keys_and_goes_to_hq(
    qtbot: QtBot, app: CounterApp, db: Database
) -> None:
    window = app.window
    tab = window.customers_tab
    tab.due_only.setChecked(True)
    tab.table.setFocus()
    tab.table.selectRow(0)
    who = tab.current()
    assert who is not None and who.due
    qtbot.keyClick(tab.table, Qt.Key.Key_2)
    qtbot.keyClick(tab.table, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: "recorded" in tab.message.text())
    settle(qtbot, window)
    events = db.raw().execute("SELECT payload FROM outbox_event WHERE type = 'follow_up.completed'")
    payloads = [row[0] for row in events]
    assert len(payloads) == 1 and '"phone"' in payloads[0] and '"reached"' in payloads[0]
    assert tab.proxy.rowCount() == 1  # done: no longer due


def test_wecom_is_offered_only_for_the_guides_wecom_contacts(
    qtbot: QtBot, app: CounterApp, db: Database
) -> None:
    window = app.window
    tab = window.customers_tab
    tab.due_only.setChecked(True)
    tab.table.setFocus()
    tab.table.selectRow(0)
    who = tab.current()
    assert who is not None and who.due and who.wecom is None
    qtbot.keyClick(tab.table, Qt.Key.Key_1)
    assert "Not a WeCom contact yet" in tab.message.text()
    qtbot.keyClick(tab.table, Qt.Key.Key_R)  # no channel taken: asked for one again
    assert "1 WeCom" in tab.message.text()
    completed = "SELECT payload FROM outbox_event WHERE type = 'follow_up.completed'"
    assert db.raw().execute(completed).fetchall() == []

    raw = db.raw()  # HQ's feed says the customer added the guide in WeCom
    raw.execute(
        "UPDATE member SET wecom_guide_id = guide_id, wecom_since = ? WHERE id = ?",
        ("2026-11-20 09:30:00.000000", who.member_id),
    )
    raw.close()
    press(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # the tab reloads
    qtbot.waitUntil(lambda: any(tab.model.at(r).wecom for r in range(tab.model.rowCount())))
    tab.table.setFocus()
    for row in range(tab.proxy.rowCount()):
        tab.table.selectRow(row)
        current = tab.current()
        if current is not None and current.member_id == who.member_id:
            break
    assert current is not None and current.member_id == who.member_id and current.wecom is not None
    qtbot.keyClick(tab.table, Qt.Key.Key_1)
    qtbot.keyClick(tab.table, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: "recorded" in tab.message.text())
    settle(qtbot, window)
    payloads = [r[0] for r in db.raw().execute(completed)]
    assert len(payloads) == 1 and '"wecom"' in payloads[0]


def test_the_guide_sees_whether_customers_can_add_them_in_wecom(
    qtbot: QtBot, app: CounterApp, db: Database
) -> None:
    window = app.window
    tab = window.customers_tab
    qtbot.waitUntil(lambda: "not on WeCom yet" in tab.wecom_state.text())
    raw = db.raw()  # HQ's feed: the guide's WeCom account is set
    guide = window.till.staff
    assert guide is not None
    raw.execute("UPDATE staff SET wecom_connected = 1 WHERE id = ?", (guide.staff_id,))
    raw.close()
    press(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "You are on WeCom" in tab.wecom_state.text())


def test_an_outcome_without_a_channel_asks_for_the_channel_first(
    qtbot: QtBot, app: CounterApp, db: Database
) -> None:
    tab = app.window.customers_tab
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_R)
    assert "1 WeCom" in tab.message.text()
    assert db.raw().execute(
        "SELECT count(*) FROM outbox_event WHERE type = 'follow_up.completed'"
    ).fetchone() == (0,)


def test_a_cashier_with_no_customers_sees_an_empty_list(
    qtbot: QtBot, db: Database, db_path: Path
) -> None:
    give_pins(db)
    with counter_app(qtbot, db, db_path.parent) as made:
        sign_in(qtbot, made.window, CASHIER)
        press(qtbot, made.window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
        settle(qtbot, made.window)
        assert made.window.customers_tab.model.rowCount() == 0


def test_a_recorded_follow_up_says_for_whom_and_the_list_keeps_its_place(
    qtbot: QtBot, app: CounterApp
) -> None:
    window = app.window
    tab = window.customers_tab
    tab.table.setFocus()
    tab.table.selectRow(2)
    last = tab.current()
    tab.table.selectRow(1)
    who = tab.current()
    assert who is not None and who.due and last is not None
    qtbot.keyClick(tab.table, Qt.Key.Key_2)
    qtbot.keyClick(tab.table, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: "recorded" in tab.message.text())
    settle(qtbot, window)
    assert (who.name or who.member_code) in tab.message.text()
    assert tab.current() is not None and tab.current().member_id == who.member_id  # no jump
    assert tab.table.currentIndex().row() == 1


def test_the_detail_follows_the_filter_and_never_shows_a_hidden_customer(
    qtbot: QtBot, app: CounterApp
) -> None:
    tab = app.window.customers_tab
    rows = [tab.model.at(r) for r in range(tab.model.rowCount())]
    shown = next(r for r in rows if r.name == "王芳")
    for r in range(tab.proxy.rowCount()):
        if tab.model.at(tab.proxy.mapToSource(tab.proxy.index(r, 0)).row()) == shown:
            tab.table.selectRow(r)
    assert "王芳" in tab.detail.text()
    tab.filter_text.setText("李")
    assert tab.proxy.rowCount() == 1 and "王芳" not in tab.detail.text()
    assert "李娜" in tab.detail.text()
    tab.filter_text.setText("nobody")
    assert tab.proxy.rowCount() == 0 and tab.detail.text() == ""
