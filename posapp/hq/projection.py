"""The projection: HQ's received events applied, device by device, oldest first.

``project`` is one chunk of the projector's work, inside one serialised write transaction:
it takes the device whose event has waited longest, validates that device's waiting events,
hands them to one ``Applier`` and records what became of each (applied, or rejected with the
reason its store is told).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from posapp.hq.applier import Applier, Refused
from posapp.hq.feed import Pending, chunks
from posapp.hq.models import APPLIED, RECEIVED, REJECTED, Device, Event
from posapp.protocol.events import EVENT_TYPES, EventPayload
from posapp.protocol.problems import first_error


def rejected(store_id: str, *, event_id: str, device_id: str, seq: int, reason: str) -> Pending:
    """The change that tells a store HQ will never apply one of its events, and why."""
    return Pending(
        store_id,
        "event.rejected",
        event_id,
        {"event_id": event_id, "device_id": device_id, "seq": seq, "reason": reason},
    )


def project(session: Session, *, now: datetime, master_key: bytes, limit: int = 2000) -> int:
    """Apply up to ``limit`` received events, device by device, oldest first.

    Runs in a serialised write transaction. The device whose event has waited longest goes
    first, with all its waiting events in seq order, then the next such device, until the
    limit: one ``Applier`` per device, so each touched member is recomputed and announced
    once per run, however the devices' pushes interleaved in the log. (Order across devices
    is arrival order at best anyway; a device can only name what HQ already sent it.) A
    refused or invalid event is marked rejected and its reason goes down to its store.
    """
    taken = 0
    while taken < limit:
        head = session.scalar(
            select(Event.device_id).where(Event.status == RECEIVED).order_by(Event.id).limit(1)
        )
        if head is None:
            break
        run = session.execute(
            select(Event.id, Event.device_id, Event.event_id, Event.seq, Event.type,
                   Event.schema_version, Event.payload, Event.received_at)
            .where(Event.status == RECEIVED, Event.device_id == head)
            .order_by(Event.id)
            .limit(limit - taken)
        ).all()  # fmt: skip
        outcomes = _apply_run(session, run, now=now, master_key=master_key)
        plain = [
            o["row_id"] for o in outcomes if o["new_status"] == APPLIED and not o["new_reason"]
        ]
        for part in chunks(plain):  # the usual case, in a statement per 500
            session.execute(update(Event).where(Event.id.in_(part)).values(status=APPLIED))
        # Refused, or applied with a note (a sale credited anonymously, and why).
        others = [o for o in outcomes if o["new_status"] != APPLIED or o["new_reason"]]
        if others:
            session.connection().execute(
                update(Event.__table__)
                .where(Event.__table__.c.id == bindparam("row_id"))
                .values(status=bindparam("new_status"), reason=bindparam("new_reason")),
                others,
            )
        taken += len(run)
    return taken


def _apply_run(session: Session, run: list[Any], *, now: datetime, master_key: bytes
               ) -> list[dict[str, object]]:  # fmt: skip
    device = session.get(Device, run[0].device_id)
    assert device is not None
    applier = Applier(session, device, now, master_key)
    models = [_validate(row.type, row.schema_version, row.payload) for row in run]
    applier.prefetch([m for m, _ in models if m is not None])
    outcomes = []
    for row, (model, problem) in zip(run, models, strict=True):
        status, reason = APPLIED, problem
        if model is None:
            status = REJECTED
        elif device.revoked_at is not None and row.received_at > device.revoked_at:
            # Cannot be pushed (a revoked credential gets 401); said here so it never applies.
            status, reason = REJECTED, "pushed after the device was revoked"
        else:
            try:
                reason = applier.apply(model)
            except Refused as exc:
                status, reason = REJECTED, str(exc)
        if status == REJECTED:
            applier.gathered.announce_first.append(
                rejected(
                    device.store_id,
                    event_id=row.event_id,
                    device_id=device.id,
                    seq=row.seq,
                    reason=reason or "",
                )
            )
        outcomes.append({"row_id": row.id, "new_status": status, "new_reason": reason})
    applier.finish()
    return outcomes


def _validate(
    kind: str, schema_version: int, payload: str
) -> tuple[EventPayload | None, str | None]:
    model = EVENT_TYPES.get(kind)
    if model is None:
        return None, f"unknown event type {kind[:32]!r}"
    if not 1 <= schema_version <= model.latest_version:
        return None, f"unknown schema_version {schema_version}"
    try:
        parsed = model.model_validate_json(payload)
    except ValidationError as exc:
        return None, _brief(exc)
    if parsed.schema_version > schema_version:  # a newer payload's field under an old version
        return None, f"invalid payload: needs schema_version {parsed.schema_version}"
    return parsed, None


def _brief(exc: ValidationError) -> str:
    return f"invalid payload: {first_error(exc.errors())}"[:256]
