"""The counter window the screen's tests drive: a real app on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from counter_harness import counter_app, give_pins, sign_in
from pytestqt.qtbot import QtBot
from roster import CASHIER

from posapp.store.db import Database
from posapp.ui.app import CounterApp
from posapp.ui.counter_window import CounterWindow


@pytest.fixture
def app(qtbot: QtBot, db: Database, db_path: Path) -> Iterator[CounterApp]:
    """The window with its display, nobody signed in (a module may give its own)."""
    give_pins(db)
    with counter_app(qtbot, db, db_path.parent) as made:
        yield made


@pytest.fixture
def window(qtbot: QtBot, app: CounterApp) -> CounterWindow:
    """The same, a cashier signed in."""
    sign_in(qtbot, app.window, CASHIER)
    return app.window
