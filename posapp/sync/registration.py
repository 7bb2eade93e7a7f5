"""Registering this counter with HQ, once, with a one-time code from HQ's administrator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from posapp.domain.invite import DEMO_SIGNER, Signer
from posapp.store.db import Database
from posapp.store.models import Device, Store, SyncState
from posapp.sync import credentials
from posapp.sync.client import HqClient
from posapp.timefmt import utcnow


class AlreadyRegistered(RuntimeError):
    pass


@dataclass(frozen=True)
class Registration:
    store_id: str
    store_name: str
    device_id: str
    secret_kept_in: str


def register(
    db: Database, data_dir: Path, *, hq_url: str, code: str, name: str = ""
) -> Registration:
    with db.read() as session:
        state = session.scalars(select(SyncState).where(SyncState.id == 1)).one()
        device_id, store_id = state.device_id, state.store_id
    if store_id is not None and credentials.load(data_dir, device_id) is not None:
        raise AlreadyRegistered(f"This counter is already registered with store {store_id}.")
    answer = HqClient(hq_url).register(code=code, device_id=device_id, name=name)
    where = credentials.save(data_dir, answer.device_id, answer.device_secret, answer.invite_key)
    now = utcnow()
    with db.write() as session:
        store = session.get(Store, answer.store_id)
        if store is None:
            session.add(
                Store(
                    id=answer.store_id,
                    name=answer.store_name,
                    region=answer.region,
                    currency=answer.currency,
                    store_no=answer.store_no,
                )
            )
        else:
            store.name, store.region, store.currency, store.store_no = (
                answer.store_name,
                answer.region,
                answer.currency,
                answer.store_no,
            )
        session.flush()
        device = session.get(Device, answer.device_id)
        if device is None:
            session.add(
                Device(id=answer.device_id, store_id=answer.store_id, name=name, created_at=now,
                       device_no=answer.device_no)
            )  # fmt: skip
        else:
            device.store_id, device.device_no = answer.store_id, answer.device_no
        session.execute(
            update(SyncState)
            .where(SyncState.id == 1)
            .values(store_id=answer.store_id, hq_url=hq_url.rstrip("/"))
        )
    return Registration(answer.store_id, answer.store_name, answer.device_id, where)


def client_for(db: Database, data_dir: Path) -> HqClient:
    """The HQ client of a registered counter, or a ``NotRegistered`` error saying what to do."""
    with db.read() as session:
        state = session.scalars(select(SyncState).where(SyncState.id == 1)).one()
    creds = credentials.load(data_dir, state.device_id)
    if state.hq_url is None or creds is None:
        raise NotRegistered("This counter is not registered with HQ yet: run 'posapp register'.")
    return HqClient(state.hq_url, creds.token)


class NotRegistered(RuntimeError):
    pass


def invite_signer(db: Database, data_dir: Path) -> Signer:
    """How this counter signs invites: its store's key from registration, or, before it is
    registered, the demo identity (``Signer.demo`` tells the caller to say so)."""
    with db.read() as session:
        state = session.scalars(select(SyncState).where(SyncState.id == 1)).one()
        store = session.get(Store, state.store_id) if state.store_id else None
        device = session.get(Device, state.device_id)
    creds = credentials.load(data_dir, state.device_id)
    if store is None or creds is None or store.store_no is None or device is None:
        return DEMO_SIGNER
    return Signer(store.store_no, device.device_no or 0, creds.invite_key)
