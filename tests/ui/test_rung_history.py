"""A customer's rung history in My customers: HQ's record of each move on the ladder, as it
comes down with the member and a sync applies it, on the store's days, in English and
Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from counter_harness import counter_app, give_pins, press, sign_in
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from roster import GUIDE, STORE_ID

from posapp.protocol.changes import MemberChange, MemberView, RungMove
from posapp.store.db import Database
from posapp.store.hq_changes import apply_page
from posapp.ui.app import CounterApp, install_language

JOINED = datetime(2026, 10, 3, 2)
REGULAR_ON = datetime(2026, 11, 1, 18)  # 02:00 on 2 November in Shanghai: the store's day


def _member(
    member_id: str, code: str, phone: str, name: str, history: list[RungMove]
) -> MemberView:
    return MemberView(member_id=member_id, member_code=code, phone_e164=phone, name=name,
                      rung=history[-1].to_rung if history else "member", guide_id=GUIDE,
                      home_store_id=STORE_ID, enrolled_at=JOINED, visit_count=2,
                      consents={"membership": True}, rung_history=history)  # fmt: skip


@pytest.fixture
def app(qtbot: QtBot, db: Database, db_path: Path) -> Iterator[CounterApp]:
    give_pins(db)
    history = [
        RungMove(at=JOINED, from_rung="walk_in", to_rung="member", reason="enrolled"),
        RungMove(at=REGULAR_ON, from_rung="member", to_rung="regular", reason="purchases"),
    ]
    views = [
        _member("m-up", "80000001", "+8613812345678", "王芳", history),
        _member("m-new", "80000002", "+8613912345678", "李娜", []),
    ]
    with db.write() as session:
        apply_page(
            session, [MemberChange(seq=n, key=v.member_id, data=v) for n, v in enumerate(views)]
        )
    with counter_app(qtbot, db, db_path.parent) as made:
        sign_in(qtbot, made.window, GUIDE)
        yield made


def _detail_of(qtbot: QtBot, app: CounterApp, name: str) -> str:
    tab = app.window.customers_tab
    for row in range(tab.proxy.rowCount()):
        if tab.model.at(tab.proxy.mapToSource(tab.proxy.index(row, 0)).row()).name == name:
            tab.table.selectRow(row)
            break
    else:
        raise AssertionError(f"{name} is not listed")
    return tab.detail.text()


def test_my_customers_shows_a_customers_rung_history_newest_first(
    qtbot: QtBot, app: CounterApp
) -> None:
    press(qtbot, app.window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    tab = app.window.customers_tab
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    lines = _detail_of(qtbot, app, "王芳").splitlines()
    at = lines.index("Rung history:")
    assert lines[at + 1 :] == [
        "  2026-11-02 member → regular (purchases)",
        "  2026-10-03 walk-in → member (joined)",
    ]
    assert "Rung history:" not in _detail_of(qtbot, app, "李娜")  # HQ recorded none yet
    install_language(QApplication.instance(), "zh_CN")  # type: ignore[arg-type]
    try:
        lines = _detail_of(qtbot, app, "李娜").splitlines()  # the detail is written anew
        lines = _detail_of(qtbot, app, "王芳").splitlines()
        assert "阶梯变化：" in lines
        assert "  2026-11-02 会员 → 老顾客 (消费次数)" in lines
        assert "  2026-10-03 散客 → 会员 (入会)" in lines
    finally:
        install_language(QApplication.instance(), "en")  # type: ignore[arg-type]
