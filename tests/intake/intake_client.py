"""Talking to a real intake server the way a POS would: plain HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from posapp.store.db import Database

TOKEN = "intake-test-token-0123456789abcdef"
JSON = "application/json"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def error(self) -> dict[str, Any]:
        assert isinstance(self.body, dict) and "error" in self.body, self.raw
        error = self.body["error"]
        assert set(error) == {"field", "rule", "message"}, error
        assert error["message"], error
        return error


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        return Reply(
            resp.status,
            json.loads(raw) if raw else None,
            {k.lower(): v for k, v in resp.getheaders()},
            raw,
        )
    finally:
        conn.close()


def post_sale(
    port: int,
    payload: Any,
    *,
    token: str | None = TOKEN,
    content_type: str | None = JSON,
) -> Reply:
    """POST ``payload`` (a JSON value, or bytes sent as they are) to /v1/sales."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if content_type is not None:
        headers["Content-Type"] = content_type
    return request(port, "POST", "/v1/sales", body, headers)


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send bytes as they are (no client fixing up headers) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def count(db: Database, table: str) -> int:
    raw = db.raw()
    try:
        return raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        raw.close()


def counts(db: Database) -> tuple[int, int, int]:
    """Everything a sale could write: purchases, outbox events, members' visits."""
    raw = db.raw()
    try:
        return (
            raw.execute("SELECT count(*) FROM purchase").fetchone()[0],
            raw.execute("SELECT count(*) FROM outbox_event").fetchone()[0],
            raw.execute("SELECT coalesce(sum(visit_count), 0) FROM member").fetchone()[0],
        )
    finally:
        raw.close()
