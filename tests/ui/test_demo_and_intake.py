"""``posapp --demo`` end to end (a local HQ process, PIN sign-in, seeded members), and sales
arriving from the POS intake while the window is open."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from counter_harness import counter_app, give_pins, sign_in
from pytestqt.qtbot import QtBot
from roster import CASHIER

from posapp.demo import DEMO_PINS, start_demo
from posapp.settings import load_settings
from posapp.store.db import Database
from posapp.sync.status import sync_status
from posapp.ui.app import CounterApp


def test_the_demo_starts_its_own_hq_and_a_manager_signs_in_with_the_demo_pin(
    qtbot: QtBot, tmp_path: Path
) -> None:
    world = start_demo(tmp_path / "demo", members=300)
    try:
        assert requests.get(f"{world.hq_url}/healthz", timeout=5).status_code == 200
        made = CounterApp(load_settings(world.data_dir), world.db, sign_in_hint="PINs")
        qtbot.addWidget(made.window)
        made.start()
        window = made.window
        qtbot.waitUntil(lambda: len(window.roster) == 6)
        page = window.sign_in_page
        page.staff.setCurrentIndex(page.staff_model.index(page.staff_model.row_of("demo-mgr"), 0))
        page.pin.setText(DEMO_PINS["manager"])
        page.pin.returnPressed.emit()
        qtbot.waitUntil(lambda: window.staff is not None and window.staff.role == "manager")
        assert window.store_label.text() == "示范门店 · 静安店"
        code = world.db.raw().execute("SELECT member_code FROM member LIMIT 1").fetchone()[0]
        window.scan_panel.query.setText(code)
        window.scan_panel.identify()
        qtbot.waitUntil(lambda: window.card is not None)
        window.sync_panel.sync_now()
        qtbot.waitUntil(lambda: window.sync_panel.state.text() == "Online", timeout=15_000)
        assert sync_status(world.db).registered
        made.stop()
    finally:
        world.db.close()
        world.stop()
    assert world.process is not None and world.process.poll() is not None  # HQ stopped too


def test_a_sale_from_the_pos_appears_at_once_with_its_invite(
    qtbot: QtBot, db: Database, db_path: Path
) -> None:
    give_pins(db)
    with counter_app(qtbot, db, db_path.parent, with_intake=True) as made:
        window = made.window
        sign_in(qtbot, window, CASHIER)
        assert made.intake is not None and made.intake.running
        token = load_settings(db_path.parent).intake_token
        answer = requests.post(
            f"{made.intake.url}/v1/sales",
            data=json.dumps({"receipt_no": "POS-77", "amount": "66.00"}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=5,
        )
        assert answer.status_code in (200, 201), answer.text
        qtbot.waitUntil(lambda: "POS-77" in window.sale_panel.done.text())
        qtbot.waitUntil(lambda: window.invite_panel.invite is not None)
        assert (
            window.invite_panel.invite is not None
            and window.invite_panel.invite.purchase_id is not None
        )
        kinds = [r[0] for r in db.raw().execute("SELECT type FROM outbox_event ORDER BY seq")]
        assert kinds == ["sale.recorded", "invite.issued"]
