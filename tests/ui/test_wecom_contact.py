"""The member's WeCom contact at the counter: HQ's feed view of a member with an open WeCom
link, applied to the counter's database as a sync applies it, on the card and in My
customers (its column, its filter), in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from counter_harness import counter_app, give_pins, press, sign_in, type_enter
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from roster import GUIDE, STORE_ID

from posapp.hq.db import HqDatabase
from posapp.hq.feed import member_views
from posapp.hq.migrate import migrate
from posapp.hq.models import Member, MemberStore, Staff, Store
from posapp.hq.wecom.models import WeComLink
from posapp.protocol.changes import MemberChange
from posapp.store.db import Database
from posapp.store.hq_changes import apply_page
from posapp.store.models import Staff as CounterStaff
from posapp.timefmt import utcnow
from posapp.ui.app import CounterApp, install_language

SINCE = datetime(2026, 11, 20, 9, 30)
CONNECTED, NOT_YET = "13812345678", "13912345678"


def _hq_views(tmp_path: Path) -> list[MemberChange]:
    """Two of the guide's members as HQ's feed sends them; one is the guide's WeCom contact."""
    hq = HqDatabase(f"sqlite:///{tmp_path / 'hq.db'}")
    migrate(hq)
    now = utcnow()
    with hq.transaction() as session:
        session.add(Store(id=STORE_ID, store_no=1, name="Jing'an", created_at=now))
        session.flush()
        session.add(Staff(id=GUIDE, store_id=STORE_ID, staff_no=1, name="guide", role="guide",
                          pin_hash="x", updated_at=now))  # fmt: skip
        for member_id, phone, name in (("m-wc", CONNECTED, "王芳"), ("m-no", NOT_YET, "李娜")):
            code = "80000001" if member_id == "m-wc" else "80000002"
            session.add(Member(id=member_id, member_code=code, phone_e164=f"+86{phone}",
                               name=name, rung="member", guide_id=GUIDE, home_store_id=STORE_ID,
                               enrolled_at=now - timedelta(days=30), updated_at=now))  # fmt: skip
            session.add(MemberStore(member_id=member_id, store_id=STORE_ID))
        session.add(WeComLink(external_userid="wm-1", external_hash="h", userid="wangfang",
                              staff_id=GUIDE, member_id="m-wc", store_id=STORE_ID, since=SINCE,
                              welcomed=True))  # fmt: skip
    with hq.read() as session:
        views = member_views(session, ["m-wc", "m-no"])
    hq.close()
    return [MemberChange(seq=n, key=key, data=view) for n, (key, view) in enumerate(views.items())]


@pytest.fixture
def app(qtbot: QtBot, db: Database, db_path: Path, tmp_path: Path) -> Iterator[CounterApp]:
    give_pins(db)
    with db.write() as session:
        apply_page(session, _hq_views(tmp_path))
    with counter_app(qtbot, db, db_path.parent) as made:
        sign_in(qtbot, made.window, GUIDE)
        yield made


def _guide_name(db: Database) -> str:
    with db.read() as session:
        staff = session.get(CounterStaff, GUIDE)
        assert staff is not None
        return staff.name


def _card_text(qtbot: QtBot, app: CounterApp, phone: str) -> str:
    window = app.window
    window.card_panel.clear()
    type_enter(qtbot, window.scan_panel.query, phone)
    qtbot.waitUntil(lambda: window.card is not None)
    return window.card_panel.wecom.text()


def test_the_card_says_whose_wecom_contact_the_member_is_since_when(
    qtbot: QtBot, app: CounterApp, db: Database
) -> None:
    guide = _guide_name(db)
    assert _card_text(qtbot, app, CONNECTED) == f"WeCom contact of {guide} since 2026-11-20"
    assert _card_text(qtbot, app, NOT_YET) == "Not a WeCom contact yet"
    install_language(QApplication.instance(), "zh_CN")  # type: ignore[arg-type]
    try:
        assert _card_text(qtbot, app, CONNECTED) == f"自 2026-11-20 起为 {guide} 的企业微信好友"
        assert _card_text(qtbot, app, NOT_YET) == "尚未添加企业微信"
    finally:
        install_language(QApplication.instance(), "en")  # type: ignore[arg-type]


def test_my_customers_shows_the_wecom_column_and_filters_on_it(
    qtbot: QtBot, app: CounterApp
) -> None:
    window = app.window
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    tab = window.customers_tab
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    column = next(c for c in range(tab.model.columnCount())
                  if tab.model.headerData(c, Qt.Orientation.Horizontal) == "WeCom")  # fmt: skip
    shown = {tab.model.at(r).name: tab.model.data(tab.model.index(r, column)) for r in range(2)}
    assert shown == {"王芳": "✓ 11-20", "李娜": ""}  # the full date in its tip and the detail
    tab.not_wecom.setChecked(True)
    assert tab.proxy.rowCount() == 1
    assert tab.model.at(tab.proxy.mapToSource(tab.proxy.index(0, 0)).row()).name == "李娜"
