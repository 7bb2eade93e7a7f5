"""A counter registers with a one-time code, rotates its secret; an admin revokes it."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session

from posapp.domain.invite import store_key
from posapp.hq import admin
from posapp.hq.api.deps import (
    AdminActor,
    DatabaseDep,
    DeviceCaller,
    MasterKey,
    SettingsDep,
    count_request,
    write,
)
from posapp.hq.models import Device
from posapp.hq.proxies import client_address
from posapp.hq.schemas import RevokedDevice, RotatedSecret
from posapp.protocol.sync import RegisterRequest, RegisterResponse
from posapp.timefmt import utcnow

log = logging.getLogger("posapp.hq")
router = APIRouter(prefix="/v1/devices", tags=["devices"])


@router.post("/register", operation_id="registerDevice")
def register(
    body: RegisterRequest,
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    master_key: MasterKey,
) -> RegisterResponse:
    client = client_address(request, settings.trusted_networks)
    with database.transaction() as session:
        count_request(session, f"register:{client}", settings.register_limit_per_minute)

    def act(session: Session) -> RegisterResponse:
        done = admin.register_device(
            session, code=body.code, name=body.device_name, now=utcnow(), device_id=body.device_id,
            address=client,
        )  # fmt: skip
        return RegisterResponse(
            device_id=done.device.id,
            device_no=done.device.device_no,
            store_id=done.store.id,
            store_no=done.store.store_no,
            store_name=done.store.name,
            currency=done.store.currency,
            region=done.store.region,
            device_secret=f"d.{done.device.id}.{done.secret}",
            invite_key=store_key(master_key, done.store.id).hex(),
            hq_time=utcnow().replace(tzinfo=UTC),  # RFC 3339: with its zone
        )

    return write(database, act)


@router.post("/rotate", operation_id="rotateDeviceSecret")
def rotate(caller: DeviceCaller, database: DatabaseDep) -> RotatedSecret:
    def act(session: Session) -> RotatedSecret:
        device = session.get(Device, caller.ident)
        assert device is not None
        secret = admin.rotate_device_secret(session, device=device)
        return RotatedSecret(device_secret=f"d.{device.id}.{secret}")

    return write(database, act)


@router.post("/{device_id}/revoke", operation_id="revokeDevice")
def revoke(
    device_id: Annotated[str, Path(min_length=1, max_length=64)],
    who: AdminActor,
    database: DatabaseDep,
) -> RevokedDevice:
    """Shut a counter out: 401 for its credential from now on; what it pushed stays."""

    def act(session: Session) -> RevokedDevice:
        done = admin.revoke_device(session, device_id=device_id, now=utcnow(), who=who)
        log.info("device %s of store %s revoked", done.device_id, done.store_id)
        return RevokedDevice(
            device_id=done.device_id,
            store_id=done.store_id,
            revoked_at=done.revoked_at.replace(tzinfo=UTC).isoformat(),
            accepted_through=done.accepted_through,
        )

    return write(database, act)
