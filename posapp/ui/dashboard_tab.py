"""店长看板 (the manager's dashboard): is the store capturing its customers?

Capture rate (sales with a known member ÷ all sales) over the days of the range as a line,
per cashier as bars, with enrolments, rungs, repurchase, follow-ups and pending sync beside
them; every table exports to CSV. The figures come from ``Counter.dashboard`` on the
database thread; this tab only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QCoreApplication, QDate, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from posapp.domain.local_day import local_day
from posapp.domain.roles import Permission
from posapp.services.dashboard import Dashboard, tables, write_csv
from posapp.ui.dashboard_tables import TableModel, shown_table, table_title
from posapp.ui.panels.till import Till


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


class DashboardTab(QWidget):
    """Counts the days the manager asks for (``sig_period(first, last)``) and draws them."""

    sig_period = Signal(object, object)  # date, date

    def __init__(self, till: Till, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardTab")
        self.till = till
        self.dashboard: Dashboard | None = None
        self.range = QComboBox(objectName="dashboardRange")
        self.range.addItem(self.tr("Today"), "today")
        self.range.addItem(self.tr("This week"), "week")
        self.range.addItem(self.tr("Custom days"), "custom")
        self.first_day = QDateEdit(QDate.currentDate().addDays(-29), objectName="dashboardFirst")
        self.last_day = QDateEdit(QDate.currentDate(), objectName="dashboardLast")
        for edit in (self.first_day, self.last_day):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.export_button = QPushButton(self.tr("Export CSV…"), objectName="dashboardExport")
        self.range.currentIndexChanged.connect(self._range_changed)
        self.first_day.dateChanged.connect(lambda _: self.ask())
        self.last_day.dateChanged.connect(lambda _: self.ask())
        self.export_button.clicked.connect(self.export)

        self.figures: dict[str, QLabel] = {}
        grid = QGridLayout()
        names = {
            "capture_rate": self.tr("Capture rate"),
            "sales": self.tr("Sales"),
            "enrolments": self.tr("New members"),
            "repurchase_rate": self.tr("Repurchase rate"),
            "follow_ups": self.tr("Follow-ups done"),
            "pending": self.tr("Waiting to sync"),
        }
        for column, (key, name) in enumerate(names.items()):
            value = QLabel("–", objectName="figure")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(QLabel(name, alignment=Qt.AlignmentFlag.AlignCenter), 0, column)
            grid.addWidget(value, 1, column)
            self.figures[key] = value

        self.line_chart = QChart()
        self.line_chart.setTitle(self.tr("Capture rate by day"))
        self.line_chart.legend().hide()
        self.bar_chart = QChart()
        self.bar_chart.setTitle(self.tr("Capture rate by cashier"))
        self.bar_chart.legend().hide()
        charts = QHBoxLayout()
        for chart in (self.line_chart, self.bar_chart):
            view = QChartView(chart)
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(220)
            charts.addWidget(view)

        self.table_choice = QComboBox(objectName="dashboardTableChoice")
        self.table_model = TableModel(self)
        self.table = QTableView(objectName="dashboardTable")
        self.table.setModel(self.table_model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table_choice.currentIndexChanged.connect(self._show_table)
        self.message = QLabel(objectName="message", wordWrap=True)

        top = QHBoxLayout()
        for widget in (self.range, self.first_day, self.last_day):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.export_button)
        below = QHBoxLayout()
        below.addWidget(QLabel(self.tr("Table")))
        below.addWidget(self.table_choice, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(charts, 2)
        layout.addLayout(below)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.sig_period.connect(self.refresh)

    # ---- period ------------------------------------------------------------------------

    def _range_changed(self) -> None:
        custom = self.range.currentData() == "custom"
        self.first_day.setEnabled(custom)
        self.last_day.setEnabled(custom)
        self.ask()

    def ask(self) -> None:
        """Today and this week show their days in the date fields; custom days read them."""
        kind = self.range.currentData()
        if kind in ("today", "week"):  # the store's today, which the PC's clock may not be
            self._count(lambda: self.till.counter.dashboard(span=kind), show_days=True)
        else:
            self.sig_period.emit(self.first_day.date().toPython(), self.last_day.date().toPython())

    def signed_in(self) -> None:
        self.message.clear()

    def shown(self) -> None:
        self.ask()

    def refresh(self, first: date, last: date) -> None:
        self._count(lambda: self.till.counter.dashboard(first=first, last=last))

    def _count(self, work: Callable[[], Dashboard], *, show_days: bool = False) -> None:
        staff = self.till.staff
        if staff is None or not staff.may(Permission.VIEW_DASHBOARD):
            return
        self.message.setText(self.tr("Counting…"))

        def shown(dashboard: Dashboard) -> None:
            if show_days:  # the span's days, as the store's calendar has them
                last_moment = dashboard.period.until - timedelta(microseconds=1)
                days = (local_day(dashboard.period.since, dashboard.zone),
                        local_day(last_moment, dashboard.zone))  # fmt: skip
                for edit, day in zip((self.first_day, self.last_day), days, strict=True):
                    edit.blockSignals(True)
                    edit.setDate(QDate(day.year, day.month, day.day))
                    edit.blockSignals(False)
            self.show_dashboard(dashboard)
            self.message.clear()

        self.till.tasks.run_db(work, shown)

    # ---- drawing -----------------------------------------------------------------------

    def show_dashboard(self, d: Dashboard) -> None:
        self.dashboard = d
        self.figures["capture_rate"].setText(_percent(d.capture.capture_rate))
        self.figures["sales"].setText(f"{d.capture.sales:,}")
        self.figures["enrolments"].setText(f"{d.enrolments:,}")
        self.figures["repurchase_rate"].setText(_percent(d.repurchase.repurchase_rate))
        self.figures["follow_ups"].setText(f"{d.follow_ups_completed:,}")
        self.figures["pending"].setText(f"{d.pending_events:,}")
        self._draw_line(d)
        self._draw_bars(d)
        chosen = self.table_choice.currentData()
        self._tables = tables(d)
        self.table_choice.blockSignals(True)
        self.table_choice.clear()
        for table in self._tables:
            self.table_choice.addItem(table_title(table.name), table.name)
        self.table_choice.setCurrentIndex(max(0, self.table_choice.findData(chosen)))
        self.table_choice.blockSignals(False)
        self._show_table()

    def _draw_line(self, d: Dashboard) -> None:
        """Over days a line; a single day is one bar (a line of one point draws nothing)."""
        chart = _cleared(self.line_chart)
        rates = [100 * (day.capture_rate or 0.0) for day in d.capture_by_day]
        if len(rates) < 2:
            self._draw_rate_bars(chart, [day.key[5:] for day in d.capture_by_day], rates)
            return
        series = QLineSeries()
        for index, value in enumerate(rates):
            series.append(index, value)
        chart.addSeries(series)
        x = QCategoryAxis()  # week starts labelled, with a grid line each
        x.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        x.setRange(0, len(rates) - 1)
        for index, label in day_labels([date.fromisoformat(day.key) for day in d.capture_by_day]):
            x.append(label, index)
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        y = _rate_axis(chart)
        series.attachAxis(x)
        series.attachAxis(y)

    def _draw_bars(self, d: Dashboard) -> None:
        cashiers = d.capture_by_cashier
        self._draw_rate_bars(
            _cleared(self.bar_chart),
            [c.name for c in cashiers],
            [100 * (c.capture_rate or 0.0) for c in cashiers],
        )

    def _draw_rate_bars(self, chart: QChart, labels: list[str], rates: list[float]) -> None:
        bars = QBarSet(self.tr("Capture rate"))
        bars.append(rates)
        series = QBarSeries()
        series.append(bars)
        chart.addSeries(series)
        x, y = _percent_axes(chart, labels)
        series.attachAxis(x)
        series.attachAxis(y)

    def _show_table(self) -> None:
        index = self.table_choice.currentIndex()
        tables_now = getattr(self, "_tables", [])
        if 0 <= index < len(tables_now):
            self.table_model.set_table(shown_table(tables_now[index]))

    # ---- export ------------------------------------------------------------------------

    @classmethod
    def ask_folder(cls, parent: QWidget) -> Path | None:
        """Where to write the CSV files (tests replace this)."""
        title = QCoreApplication.translate("DashboardTab", "Export the dashboard to")
        folder = QFileDialog.getExistingDirectory(parent, title)
        return Path(folder) if folder else None

    def export(self) -> None:
        if self.dashboard is None:
            return
        folder = self.ask_folder(self)
        if folder is None:
            return
        written = [write_csv(table, folder) for table in tables(self.dashboard)]
        self.message.setText(
            self.tr("%1 CSV files written to %2")
            .replace("%1", str(len(written)))
            .replace("%2", str(folder))
        )


# A label is cut to the width between it and the one before: the chart (about 470 pixels
# in the counter window) holds about eight "11-03" labels, or five "2026-11-03".
MAX_DAY_LABELS = 8
MAX_DATE_LABELS = 5


def day_labels(days: list[date]) -> list[tuple[int, str]]:
    """Which of the chart's ``days`` are labelled, and how: every day of a range of up to
    eight; else Mondays (the week's start), every second or more of them when there are too
    many; with the year on a range longer than a year (an axis's labels must differ)."""
    if len(days) <= MAX_DAY_LABELS:
        return [(i, day.strftime("%m-%d")) for i, day in enumerate(days)]
    form, most = ("%m-%d", MAX_DAY_LABELS) if len(days) <= 366 else ("%Y-%m-%d", MAX_DATE_LABELS)
    mondays = [i for i, day in enumerate(days) if day.weekday() == 0]
    step = math.ceil(len(mondays) / most)
    return [(i, days[i].strftime(form)) for i in mondays[::step]]


def _cleared(chart: QChart) -> QChart:
    chart.removeAllSeries()
    for axis in chart.axes():
        chart.removeAxis(axis)
    return chart


def _percent_axes(chart: QChart, labels: list[str]) -> tuple[QBarCategoryAxis, QValueAxis]:
    """A category axis of ``labels`` below and a 0–100 % axis on the left of ``chart``."""
    x = QBarCategoryAxis()
    x.append(labels or [""])
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    return x, _rate_axis(chart)


def _rate_axis(chart: QChart) -> QValueAxis:
    y = QValueAxis()
    y.setRange(0, 100)
    y.setLabelFormat("%d%%")
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    return y
