"""Is the counter capturing customers, and who builds relationships: HQ's reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from posapp.hq import reports
from posapp.hq.api.deps import AppliedSession, ReportScope
from posapp.hq.schemas import (
    CaptureReport,
    EnrolmentReport,
    FollowUpReport,
    RepurchaseReport,
    RungReport,
)
from posapp.timefmt import utcnow

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Days = Annotated[int, Query(ge=1, le=366)]


def _period(days: int) -> tuple[datetime, datetime]:
    return reports.last_days(days, utcnow())


@router.get("/capture", operation_id="getCaptureReport")
def capture(store: ReportScope, session: AppliedSession, days: Days = 30) -> CaptureReport:
    since, until = _period(days)
    return reports.capture_rate(session, store_id=store, since=since, until=until)


@router.get("/enrolments", operation_id="getEnrolmentReport")
def enrolled(store: ReportScope, session: AppliedSession, days: Days = 30) -> EnrolmentReport:
    since, until = _period(days)
    return reports.enrolments(session, store_id=store, since=since, until=until)


@router.get("/rungs", operation_id="getRungReport")
def rung_report(store: ReportScope, session: AppliedSession) -> RungReport:
    return reports.rungs(session, store_id=store)


@router.get("/repurchase", operation_id="getRepurchaseReport")
def repurchase_report(store: ReportScope, session: AppliedSession) -> RepurchaseReport:
    return reports.repurchase(session, store_id=store)


@router.get("/follow-ups", operation_id="getFollowUpReport")
def follow_up_report(
    store: ReportScope, session: AppliedSession, days: Days = 30
) -> FollowUpReport:
    since, until = _period(days)
    return reports.follow_ups(session, store_id=store, since=since, until=until)
