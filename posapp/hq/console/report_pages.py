"""HQ's five reports as the console shows them: the API's own answer (``posapp.hq.reports``,
the same call the API route makes), cut into the tables a page lists and a CSV exports,
and the chart drawn beside them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from posapp.domain.table_csv import Table
from posapp.hq import reports
from posapp.hq.console.users import Forbidden, Viewer

NAMES = ("capture", "enrolments", "rungs", "repurchase", "follow-ups")
WITH_DAYS = {"capture", "enrolments", "follow-ups"}


def report_store(viewer: Viewer, asked: str | None) -> str | None:
    """The one store a report covers (None: every store). A regional manager's report is
    always one of their stores: the first, unless they ask for another of theirs."""
    if asked:
        viewer.require_store(asked)
        return asked
    if viewer.stores is not None:
        if not viewer.stores:
            raise Forbidden("no stores")
        return sorted(viewer.stores)[0]
    return None


def answer(
    session: Session, name: str, *, store_id: str | None, days: int, now: datetime
) -> dict[str, Any]:
    since, until = reports.last_days(days, now)
    calls: dict[str, Callable[[], Any]] = {
        "capture": lambda: reports.capture_rate(session, store_id=store_id, since=since, until=until),
        "enrolments": lambda: reports.enrolments(session, store_id=store_id, since=since, until=until),
        "rungs": lambda: reports.rungs(session, store_id=store_id),
        "repurchase": lambda: reports.repurchase(session, store_id=store_id),
        "follow-ups": lambda: reports.follow_ups(session, store_id=store_id, since=since, until=until),
    }  # fmt: skip
    return dict(calls[name]())


def _pairs(name: str, key: str, mapping: dict[str, int], label: str = "count") -> Table:
    return Table(name, (key, label), sorted(mapping.items()))


def _capture_rows(rows: list[dict[str, Any]], key: str) -> list[tuple[Any, ...]]:
    return [(r[key], r["sales"], r["known"], r["capture_rate"]) for r in rows]


def tables(name: str, data: dict[str, Any]) -> list[Table]:
    """The report's tables, each one CSV file (figures as the API answers them)."""
    if name == "capture":
        cols = ("sales", "known", "capture_rate")
        return [
            Table("summary", ("figure", "value"), [(k, data[k]) for k in
                  ("since", "until", "sales", "known", "capture_rate")]),
            Table("by_store", ("store_id", *cols), _capture_rows(data["by_store"], "store_id")),
            Table("by_day", ("day", *cols), _capture_rows(data["by_day"], "day")),
            Table("by_staff", ("staff_id", *cols), _capture_rows(data["by_staff"], "staff_id")),
            _pairs("by_guide", "guide_id", data["by_guide"], "sales"),
        ]  # fmt: skip
    if name == "enrolments":
        return [Table("summary", ("figure", "value"), [("total", data["total"])]),
                _pairs("by_channel", "channel", data["by_channel"], "enrolments"),
                _pairs("by_guide", "guide_id", data["by_guide"], "enrolments")]  # fmt: skip
    if name == "rungs":
        return [_pairs("rungs", "rung", data, "members")]
    if name == "repurchase":
        return [Table("summary", ("figure", "value"), list(data.items()))]
    return [Table("summary", ("figure", "value"), [(k, data[k]) for k in ("since", "until", "total")]),
            *(_pairs(part, part.removeprefix("by_"), data[part])
              for part in ("by_staff", "by_channel", "by_outcome", "by_kind"))]  # fmt: skip


@dataclass(frozen=True)
class Chart:
    """What ``console.js`` draws with ECharts: one bar or line series over labels."""

    kind: str
    labels: list[str]
    values: list[float]
    series: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "values": self.values,
            "series": self.series,
        }


def chart(name: str, data: dict[str, Any]) -> Chart | None:
    if name == "capture":
        days = data["by_day"]
        return Chart("line", [d["day"] for d in days],
                     [round((d["capture_rate"] or 0) * 100, 1) for d in days], "capture_rate")  # fmt: skip
    if name == "enrolments":
        return Chart(
            "bar", list(data["by_channel"]), list(data["by_channel"].values()), "enrolments"
        )
    if name == "rungs":
        return Chart("bar", list(data), list(data.values()), "members")
    if name == "follow-ups":
        return Chart("bar", list(data["by_channel"]), list(data["by_channel"].values()), "total")
    return None
