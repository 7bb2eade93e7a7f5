"""The manager's dashboard tab on a seeded store: figures equal a direct SQL count, charts
drawn, tables export to CSV and back, and a cashier cannot open it (and is recorded trying)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from counter_harness import counter_app, give_pins, press, settle, sign_in
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from roster import CASHIER, MANAGER

from posapp.domain.consent import Notice
from posapp.domain.local_day import DEFAULT_ZONE, day_start, local_day
from posapp.services.dashboard import read_csv, tables
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.seed import seed_members
from posapp.timefmt import to_text, utcnow
from posapp.ui.app import CounterApp, install_language
from posapp.ui.dashboard_tab import DashboardTab, TableModel, day_labels

ZONE = "Asia/Shanghai"  # the test store's, until HQ names another


@pytest.fixture
def store(db: Database, notice: Notice) -> Database:
    seed_members(db, 10_000, notice=notice, now=utcnow(), seed=5)
    give_pins(db)
    return db


@pytest.fixture
def manager_app(qtbot: QtBot, store: Database, db_path: Path) -> Iterator[CounterApp]:
    with counter_app(qtbot, store, db_path.parent) as made:
        sign_in(qtbot, made.window, MANAGER)
        yield made


def _open_custom(qtbot: QtBot, app: CounterApp, first: date, last: date) -> DashboardTab:
    window = app.window
    press(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    tab = window.dashboard_tab
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is tab)
    tab.range.setCurrentIndex(tab.range.findData("custom"))
    tab.last_day.setDate(last)
    tab.first_day.setDate(first)
    settle(qtbot, window)
    qtbot.waitUntil(
        lambda: (
            tab.dashboard is not None
            and local_day(tab.dashboard.period.since, tab.dashboard.zone) == first
        )
    )
    return tab


def test_the_figures_equal_a_direct_count_of_the_store(
    qtbot: QtBot, manager_app: CounterApp, store: Database, qtmodeltester: object
) -> None:
    today = local_day(utcnow(), ZONE)  # the store's today, not UTC's
    first = today - timedelta(days=800)
    tab = _open_custom(qtbot, manager_app, first, today)
    sales, known = (
        store.raw()
        .execute(
            "SELECT count(*), count(member_id) FROM purchase WHERE occurred_at >= ?",
            (to_text(day_start(first, ZONE)),),
        )
        .fetchone()
    )
    assert sales > 10_000
    d = tab.dashboard
    assert d is not None and (d.capture.sales, d.capture.known) == (sales, known)
    assert tab.figures["sales"].text() == f"{sales:,}"
    assert tab.figures["capture_rate"].text() == f"{known / sales:.1%}"
    assert len(d.capture_by_day) == 801
    assert tab.line_chart.series() and tab.bar_chart.series()
    qtmodeltester.check(tab.table_model)  # type: ignore[attr-defined]
    qtmodeltester.check(TableModel())  # type: ignore[attr-defined]


def test_every_table_exports_to_csv_and_reads_back(
    qtbot: QtBot, manager_app: CounterApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = local_day(utcnow(), ZONE)
    tab = _open_custom(qtbot, manager_app, today - timedelta(days=30), today)
    monkeypatch.setattr(DashboardTab, "ask_folder", classmethod(lambda cls, parent: tmp_path))
    tab.export_button.click()
    assert "CSV" in tab.message.text()
    assert tab.dashboard is not None
    for table in tables(tab.dashboard):
        back = read_csv(tmp_path / f"{table.name}.csv")
        assert back.columns == table.columns
        assert back.rows == [tuple("" if v is None else str(v) for v in row) for row in table.rows]


def test_a_cashier_cannot_open_the_dashboard_and_is_recorded_trying(
    qtbot: QtBot, store: Database, db_path: Path
) -> None:
    with counter_app(qtbot, store, db_path.parent) as made:
        window = made.window
        sign_in(qtbot, window, CASHIER)
        assert not window.tabs.isTabVisible(2)
        press(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: "manager" in window.scan_panel.message.text())
        assert window.tabs.currentWidget() is window.counter_tab
        assert window.dashboard_tab.dashboard is None
        audit = store.raw().execute("SELECT action, staff_id FROM audit_log").fetchall()
        assert ("refused:view_dashboard", CASHIER) in audit


# ---- what a store manager reads (issue 20, item 7) -------------------------------------------

RAW = re.compile(r"^[a-z]+(_[a-z]+)+$|T\d\d:\d\d|^0\.\d{3,}$")  # identifiers, ISO times, 0.9677


def _visible(tab: DashboardTab) -> list[str]:
    """Every text a manager sees in the tab: names of tables, their headers and cells."""
    texts = [tab.table_choice.itemText(i) for i in range(tab.table_choice.count())]
    for i in range(tab.table_choice.count()):
        tab.table_choice.setCurrentIndex(i)
        model = tab.table_model
        for c in range(model.columnCount()):
            texts.append(str(model.headerData(c, Qt.Orientation.Horizontal)))
            for r in range(model.rowCount()):
                texts.append(str(model.data(model.index(r, c))))
    return texts


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_dashboard_reads_as_a_manager_reads_in_both_languages(
    qtbot: QtBot, db: Database, db_path: Path, language: str
) -> None:
    give_pins(db)
    now = utcnow()
    with db.write() as s:  # sales rung up by a cashier and by the manager, today
        for n, who in enumerate([CASHIER, CASHIER, MANAGER]):
            record_sale(s, receipt_no=f"D-{n}", amount="10", staff_id=who, now=now)
    with counter_app(qtbot, db, db_path.parent) as made:
        install_language(QApplication.instance(), language)  # type: ignore[arg-type]
        window = made.window
        sign_in(qtbot, window, MANAGER)
        press(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
        tab = window.dashboard_tab
        qtbot.waitUntil(lambda: tab.dashboard is not None)
        tab.range.setCurrentIndex(tab.range.findData("today"))
        settle(qtbot, window)
        # The store's today (Shanghai), whatever the PC's clock says: from 16:00 UTC the
        # store is a day ahead of a PC kept in UTC, and the sales just made are its today's.
        today = local_day(now, DEFAULT_ZONE)
        assert tab.first_day.date().toPython() == today == tab.last_day.date().toPython()
        tab.range.setCurrentIndex(tab.range.findData("week"))
        settle(qtbot, window)
        assert tab.first_day.date().toPython() == today - timedelta(days=today.weekday())
        tab.range.setCurrentIndex(tab.range.findData("today"))
        settle(qtbot, window)
        qtbot.waitUntil(
            lambda: tab.dashboard is not None and len(tab.dashboard.capture_by_day) == 1
        )
        texts = _visible(tab)
        raw = [t for t in texts if RAW.search(t)]
        assert not raw, f"developer words on the manager's screen: {raw}"
        assert today.isoformat() in texts  # the first and last day, as dates
        assert any(t.endswith("%") for t in texts)  # rates as percentages
        if language == "zh_CN":
            assert "会员识别率" in texts and "汇总" in texts
        # A single day still draws: one bar of today's capture rate.
        (series,) = tab.line_chart.series()
        assert series.count() == 1 and series.barSets()[0].count() == 1
        # By cashier: the cashier's sales only, not the manager's at the till.
        (bars,) = tab.bar_chart.series()
        axis = next(a for a in tab.bar_chart.axes() if hasattr(a, "categories"))
        assert axis.categories() == ["刘洋"] and bars.barSets()[0].count() == 1
        install_language(QApplication.instance(), "en")  # type: ignore[arg-type]


# ---- polish (issue 18): a readable day axis, every table in the manager's language -----------

CJK = re.compile(r"[\u4e00-\u9fff]")


def _labelled_days(tab: DashboardTab, first: date, last: date) -> list[date]:
    """The by-day chart's labelled days, read back from its axis's labels."""
    (axis,) = tab.line_chart.axes(Qt.Orientation.Horizontal)
    by_label = {}
    day = first
    while day <= last:
        by_label[day.strftime("%m-%d")] = day
        day += timedelta(days=1)
    return [by_label[label] for label in axis.categoriesLabels()]  # type: ignore[attr-defined]


def test_a_quarter_labels_its_week_starts_and_every_table_reads_in_chinese(
    qtbot: QtBot, store: Database, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with counter_app(qtbot, store, db_path.parent) as made:
        install_language(QApplication.instance(), "zh_CN")  # type: ignore[arg-type]
        try:
            sign_in(qtbot, made.window, MANAGER)
            today = local_day(utcnow(), ZONE)
            first = today - timedelta(days=89)
            tab = _open_custom(qtbot, made, first, today)
            days = _labelled_days(tab, first, today)
            # Not 90 overlapping labels: every second Monday, each wide enough to be read.
            assert 6 <= len(days) <= 8, days
            assert all(d.weekday() == 0 for d in days)
            assert all((b - a).days == 14 for a, b in itertools.pairwise(days))
            (series,) = tab.line_chart.series()
            assert series.count() == 90

            # Every table's name and every column header is Chinese …
            for i in range(tab.table_choice.count()):
                tab.table_choice.setCurrentIndex(i)
                assert CJK.search(tab.table_choice.itemText(i)), tab.table_choice.itemText(i)
                model = tab.table_model
                headers = [
                    str(model.headerData(c, Qt.Orientation.Horizontal))
                    for c in range(model.columnCount())
                ]
                assert headers and all(CJK.search(h) for h in headers), headers
            # … while the CSV keeps its stable English identifiers.
            monkeypatch.setattr(
                DashboardTab, "ask_folder", classmethod(lambda cls, parent: tmp_path)
            )
            tab.export_button.click()
            by_day = read_csv(tmp_path / "capture_by_day.csv")
            assert by_day.columns == ("day", "label", "sales", "known", "capture_rate")
            assert read_csv(tmp_path / "rungs.csv").columns == ("rung", "members")

            # A month: its Mondays, a week apart; a week or less: every day.
            first = today - timedelta(days=29)
            tab = _open_custom(qtbot, made, first, today)
            days = _labelled_days(tab, first, today)
            assert 4 <= len(days) <= 5 and all(d.weekday() == 0 for d in days)
            assert all((b - a).days == 7 for a, b in itertools.pairwise(days))
            first = today - timedelta(days=6)
            tab = _open_custom(qtbot, made, first, today)
            assert len(_labelled_days(tab, first, today)) == 7
        finally:
            install_language(QApplication.instance(), "en")  # type: ignore[arg-type]


def test_a_long_range_labels_at_most_five_days_each_with_its_year() -> None:
    first = date(2024, 9, 1)
    days = [first + timedelta(days=n) for n in range(801)]
    labels = day_labels(days)
    assert 4 <= len(labels) <= 5
    assert all(days[i].weekday() == 0 and label == days[i].isoformat() for i, label in labels)
    assert len({label for _, label in labels}) == len(labels)
