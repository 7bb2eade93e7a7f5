"""What a route may ask for, as typed dependencies over the objects on ``app.state``.

``AppliedSession`` (and ``Applied`` before a write) is the one way a route says "apply
what counters have pushed first": derived state is never read from an unapplied log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Query, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from posapp.hq import admin
from posapp.hq.api.errors import ApiFailure, is_transient, unauthenticated
from posapp.hq.config import HqSettings
from posapp.hq.console import audit
from posapp.hq.db import HqDatabase
from posapp.hq.models import Device
from posapp.hq.projector import Projector, StillApplying
from posapp.hq.proxies import client_address
from posapp.hq.ratelimit import wait_for_minute
from posapp.hq.security import split_token
from posapp.hq.sms import SmsSender
from posapp.timefmt import utcnow

log = logging.getLogger("posapp.hq")
T = TypeVar("T")
CUSTOMER_WAIT_S = 3.0
Credential = tuple[str, str, str]  # (kind, id, secret)
CALLER_KINDS = {"p": "partner", "a": "admin"}


# Plain attribute reads: async, so no request pays a thread hop for them.
async def settings_of(request: Request) -> HqSettings:
    return request.app.state.settings


async def database_of(request: Request) -> HqDatabase:
    return request.app.state.db


async def projector_of(request: Request) -> Projector:
    return request.app.state.projector


async def master_key_of(request: Request) -> bytes:
    return request.app.state.master_key


async def sms_sender_of(request: Request) -> SmsSender:
    return request.app.state.sms_sender


SettingsDep = Annotated[HqSettings, Depends(settings_of)]
DatabaseDep = Annotated[HqDatabase, Depends(database_of)]
ProjectorDep = Annotated[Projector, Depends(projector_of)]
MasterKey = Annotated[bytes, Depends(master_key_of)]
SmsSenderDep = Annotated[SmsSender, Depends(sms_sender_of)]


# --- sessions -------------------------------------------------------------------------------


def reading(database: DatabaseDep) -> Iterator[Session]:
    with database.read() as session:
        yield session


def apply_waiting(projector: Projector, settings: HqSettings, device_id: str | None = None) -> None:
    """Every acknowledged event (of ``device_id``, or all) applied before derived state is
    read; ``StillApplying`` (503) once ``apply_wait_seconds`` have gone."""
    projector.catch_up(device_id=device_id, budget=settings.apply_wait_seconds)


def apply_if_quick(projector: Projector) -> None:
    """For a customer's page: apply what is waiting, but never keep them waiting long."""
    try:
        projector.catch_up(budget=CUSTOMER_WAIT_S)
    except StillApplying:
        log.warning("join page served while HQ is still applying pushed events")


def everything_applied(projector: ProjectorDep, settings: SettingsDep) -> None:
    apply_waiting(projector, settings)


Applied = Annotated[None, Depends(everything_applied)]


def reading_applied(_: Applied, database: DatabaseDep) -> Iterator[Session]:
    with database.read() as session:
        yield session


SessionDep = Annotated[Session, Depends(reading)]
AppliedSession = Annotated[Session, Depends(reading_applied)]


def write(database: HqDatabase, action: Callable[[Session], T], *, sequenced: bool = True) -> T:
    """Run one write transaction, retrying PostgreSQL's transient conflicts.

    ``sequenced``: serialised behind the change sequencer, as anything that adds to the
    feed must be; a push only appends to the event log and need not wait for that.
    """
    for attempt in range(4):
        try:
            with database.write() if sequenced else database.transaction() as session:
                return action(session)
        except OperationalError as exc:
            if not is_transient(exc) or attempt == 3:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


# --- callers --------------------------------------------------------------------------------


@dataclass
class Caller:
    kind: str  # device, partner, admin
    ident: str
    store_id: str | None = None
    device: Device | None = None


def credential(authorization: str | None) -> Credential:
    """``(kind, id, secret)`` from a bearer header, or 401 before anything else is done."""
    scheme, _, token = (authorization or "").partition(" ")
    parts = split_token(token.strip()) if scheme.lower() == "bearer" else None
    if parts is None:
        raise unauthenticated()
    return parts


def identify(session: Session, parts: Credential, settings: HqSettings) -> Caller:
    """Check the credential and count the request against its rate limit, in ``session``."""
    kind, ident, secret = parts
    caller: Caller | None = None
    if kind == "d":
        device = admin.authenticate_device(session, ident, secret)
        caller = Caller("device", ident, device.store_id, device) if device else None
    elif kind in CALLER_KINDS:
        name = CALLER_KINDS[kind]
        cred = admin.authenticate_credential(session, name, ident, secret)
        caller = Caller(name, ident) if cred else None
    if caller is None:
        raise unauthenticated()
    count_request(session, f"{caller.kind}:{ident}", settings.rate_limit_per_minute)
    return caller


def count_request(session: Session, key: str, limit: int) -> None:
    """429 with ``Retry-After`` once ``key`` has asked more than ``limit`` times this minute."""
    wait = wait_for_minute(session, key, limit=limit, now=utcnow())
    if wait:
        raise ApiFailure(
            429, "rate_limited", "Too many requests; slow down.", {"Retry-After": str(wait)}
        )


def authenticate(
    database: DatabaseDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Caller:
    parts = credential(authorization)
    with database.transaction() as session:
        return identify(session, parts, settings)


AnyCaller = Annotated[Caller, Depends(authenticate)]


def device_only(caller: AnyCaller) -> Caller:
    if caller.kind != "device":
        raise ApiFailure(403, "forbidden", "Only a registered counter may do this.")
    return caller


def partner_only(caller: AnyCaller) -> Caller:
    if caller.kind not in ("partner", "admin"):
        raise ApiFailure(403, "forbidden", "Only the mini-program backend may redeem invites.")
    return caller


def admin_only(caller: AnyCaller) -> Caller:
    if caller.kind != "admin":
        raise ApiFailure(403, "forbidden", "Only HQ administrators may do this.")
    return caller


DeviceCaller = Annotated[Caller, Depends(device_only)]
PartnerCaller = Annotated[Caller, Depends(partner_only)]
AdminCaller = Annotated[Caller, Depends(admin_only)]


def address_of(request: Request) -> str:
    """The client's address, as HQ believes it (``POSAPP_HQ_TRUSTED_PROXIES``): what the audit
    log and the per-address limits record, for the console and the API alike."""
    return client_address(request, request.app.state.settings.trusted_networks)


def admin_actor(caller: AdminCaller, request: Request) -> audit.Who:
    return audit.key_holder(caller.kind, caller.ident, address_of(request))


def partner_actor(caller: PartnerCaller, request: Request) -> audit.Who:
    return audit.key_holder(caller.kind, caller.ident, address_of(request))


# A changing route asks for who is calling, for its audit row: ``admin-key:<id>`` or
# ``partner-key:<id>`` (an admin key may do what a partner may) and the client's address.
AdminActor = Annotated[audit.Who, Depends(admin_actor)]
PartnerActor = Annotated[audit.Who, Depends(partner_actor)]


def report_scope(
    caller: AnyCaller, store_id: Annotated[str | None, Query(max_length=64)] = None
) -> str | None:
    """The store a report covers: admins see any store (or all), a counter only its own."""
    if caller.kind == "admin":
        return store_id
    if caller.kind == "device":
        if store_id not in (None, caller.store_id):
            raise ApiFailure(403, "forbidden", "A counter sees only its own store.")
        return caller.store_id
    raise ApiFailure(403, "forbidden", "Reports are for HQ and the store's own counters.")


ReportScope = Annotated[str | None, Depends(report_scope)]


def reading_own_applied(
    caller: DeviceCaller, projector: ProjectorDep, settings: SettingsDep, database: DatabaseDep
) -> Iterator[Session]:
    """A counter's read: its own events are in what it reads back, never an older state."""
    apply_waiting(projector, settings, caller.ident)
    with database.read() as session:
        yield session


OwnAppliedSession = Annotated[Session, Depends(reading_own_applied)]
