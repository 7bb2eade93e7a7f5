"""Is HQ up, and how far behind is it in applying what counters pushed."""

from __future__ import annotations

from fastapi import APIRouter

from posapp import __version__
from posapp.hq.api.deps import AdminCaller, DatabaseDep, SessionDep
from posapp.hq.ingest import backlog_status
from posapp.hq.models import Store
from posapp.hq.schemas import ApplyingStatus, Health
from posapp.timefmt import utcnow

router = APIRouter(tags=["meta"])


@router.get("/v1/status/applying", operation_id="getApplyingStatus")
def applying(caller: AdminCaller, session: SessionDep) -> ApplyingStatus:
    """Events HQ has acknowledged but not applied yet: a lag of minutes needs a look."""
    return ApplyingStatus.model_validate(backlog_status(session, now=utcnow()))


@router.get("/healthz", operation_id="health")
def health(database: DatabaseDep) -> Health:
    with database.read() as session:
        session.execute(Store.__table__.select().limit(1))
    return Health(status="ok", version=__version__)
