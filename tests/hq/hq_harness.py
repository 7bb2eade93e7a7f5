"""Drive a real HQ app (on SQLite or PostgreSQL) the way counters, partners and admins do."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from posapp.domain.ids import new_id
from posapp.domain.member_code import new_member_code
from posapp.hq import admin
from posapp.hq.db import HqDatabase

NOTICE = {"notice_id": "privacy", "version": 1, "language": "zh-CN", "text_hash": "a" * 64}


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Counter:
    """A registered device and the events it has made so far."""

    client: TestClient
    device_id: str
    token: str
    store_id: str
    store_no: int
    invite_key: bytes
    seq: int = 0
    cursor: str | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def event(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        event = {
            "event_id": new_id(),
            "device_id": self.device_id,
            "seq": self.seq,
            "type": type_,
            "occurred_at": now().isoformat(),
            "schema_version": 1,
            "payload": payload,
        }
        self.outbox.append(event)
        return event

    def sale(self, *, member_id: str | None = None, amount_fen: int = 10_000) -> dict[str, Any]:
        return self.event(
            "sale.recorded",
            {"purchase_id": new_id(), "receipt_no": f"R{self.seq + 1}", "amount_fen": amount_fen,
             "currency": "CNY", "member_id": member_id, "occurred_at": now().isoformat()},
        )  # fmt: skip

    def enrol(
        self, phone: str, *, name: str | None = None, member_id: str | None = None
    ) -> dict[str, Any]:
        return self.event(
            "member.enrolled",
            {"member_id": member_id or new_id(), "member_code": new_member_code(), "phone_e164": phone,
             "name": name, "consents": [{"purpose": "membership", "granted": True, "notice": NOTICE}],
             "enrolled_at": now().isoformat()},
        )  # fmt: skip

    def push(self, events: list[dict[str, Any]] | None = None) -> Any:
        body = {"events": self.outbox if events is None else events}
        answer = self.client.post("/v1/sync/push", json=body, headers=self.auth)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def rejections(self) -> dict[int, str]:
        """Pull, and return HQ's refusals of this till's events that came down: seq → reason.

        A snapshot carries no refusals, so the till must have pulled once before pushing.
        """
        assert self.cursor is not None, "pull once before pushing: a snapshot has no refusals"
        return {
            c["data"]["seq"]: c["data"]["reason"]
            for c in self.pull()
            if c["kind"] == "event.rejected" and c["data"]["device_id"] == self.device_id
        }

    def pull(self, limit: int = 1000) -> list[dict[str, Any]]:
        """All pages from the cursor on; returns the changes and keeps the cursor."""
        seen: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": limit}
            if self.cursor:
                params["cursor"] = self.cursor
            answer = self.client.get("/v1/sync/changes", params=params, headers=self.auth)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            seen += page["changes"]
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return seen


class Hq:
    def __init__(self, client: TestClient, db: HqDatabase) -> None:
        self.client = client
        self.db = db
        with db.write() as session:
            self.admin_token = admin.add_credential(session, kind="admin", name="test", now=now())
            self.partner_token = admin.add_credential(
                session, kind="partner", name="mini", now=now()
            )

    def applied(self) -> None:
        """Wait until HQ has applied everything it acknowledged (what any HQ read does first)."""
        self.client.app.state.projector.catch_up()

    def as_admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def as_partner(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.partner_token}"}

    def store(self, store_id: str, *, staff: int = 1) -> None:
        with self.db.write() as session:
            admin.add_store(session, store_id=store_id, name=f"门店 {store_id}", now=now())
            for n in range(staff):
                admin.add_staff(
                    session, store_id=store_id, name=f"导购{n}", role="guide", pin="1234",
                    now=now(), staff_id=f"{store_id}-guide-{n}",
                )  # fmt: skip

    def counter(self, store_id: str) -> Counter:
        with self.db.write() as session:
            code = admin.device_code(session, store_id=store_id, now=now(), minutes=60)
        answer = self.client.post(
            "/v1/devices/register", json={"code": code, "device_name": "till"}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return Counter(
            self.client, body["device_id"], body["device_secret"], body["store_id"], body["store_no"],
            bytes.fromhex(body["invite_key"]),
        )  # fmt: skip

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """What HQ holds, read as HQ's own reads are: after what it acknowledged is applied."""
        from sqlalchemy import text

        self.applied()
        with self.db.read() as session:
            return list(session.execute(text(sql), params))


def members_in(changes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c["data"] for c in changes if c["kind"] == "member"}


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1)
