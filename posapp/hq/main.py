"""HQ's HTTP API (FastAPI). Stateless: everything that matters lives in the database.

Credentials: ``Authorization: Bearer <kind>.<id>.<secret>`` with kind ``d`` (a registered
counter, scoped to its store), ``p`` (the mini-program backend) or ``a`` (HQ admin).
The routes are in ``api/routes`` (one file per resource), what they may ask for in
``api/deps``, and how every error is answered in ``api/errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from posapp import __version__
from posapp.hq.api import errors
from posapp.hq.api.middleware import BodyLimit, SafeHeaders
from posapp.hq.api.routes import ROUTERS
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.projector import Projector
from posapp.hq.sms import SmsSender, sender_for
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.service import WeComService
from posapp.hq.wecom.worker import WeComWorker
from posapp.timefmt import utcnow


@asynccontextmanager
async def _projecting(app: FastAPI) -> AsyncIterator[None]:
    """The projector's thread (and the WeCom worker's, when configured) runs while the app
    serves."""
    app.state.projector.start()
    worker: WeComWorker | None = app.state.wecom_worker
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()
        app.state.projector.stop()


def create_app(
    settings: HqSettings | None = None,
    db: HqDatabase | None = None,
    sms_sender: SmsSender | None = None,
    wecom_settings: WeComSettings | None = None,
) -> FastAPI:
    settings = settings or HqSettings()
    database = db or HqDatabase(settings.db_url)
    sender = sms_sender if sms_sender is not None else sender_for(settings)
    master_key = settings.master_key_bytes()
    app = FastAPI(
        lifespan=_projecting,
        title="posapp HQ",
        version=__version__,
        description="The brand's headquarters: sync, invite redemption, erasure, reports.",
        responses=errors.ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.master_key = master_key
    app.state.sms_sender = sender
    app.state.projector = Projector(
        database,
        master_key,
        utcnow,
        quiet=settings.apply_quiet_seconds,
        max_lag=settings.apply_max_lag_seconds,
    )
    # WeCom only when configured (POSAPP_HQ_WECOM_*): otherwise nothing calls it.
    app.state.wecom = WeComService.configured(database, wecom_settings)
    wecom = app.state.wecom
    app.state.wecom_worker = (
        WeComWorker(wecom, quiet=wecom.settings.worker_quiet_s,
                    max_lag=wecom.settings.worker_max_lag_s)
        if wecom is not None
        else None
    )  # fmt: skip
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SafeHeaders)
    return app
