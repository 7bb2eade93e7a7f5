"""The access token, fetched at most once per validity window across all HQ processes.

It is kept in ``wecom_token`` with its expiry. The process that finds it missing, about
to expire, or refused by WeCom takes a lease with one compare-and-set UPDATE (a row
lock on PostgreSQL, the serialised writer on SQLite): only that process calls
``gettoken``; the others wait for the row to change and use what it wrote.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posapp.hq.wecom.errors import WeComUnavailable
from posapp.hq.wecom.models import WeComToken
from posapp.timefmt import utcnow

Sessions = Callable[[], AbstractContextManager[Session]]
Fetch = Callable[[], tuple[str, int]]


def token_key(corp_id: str, secret: str) -> str:
    """One row per corp and app: a new secret is a new token (the secret itself is not kept)."""
    return f"{corp_id}:{hashlib.sha256(secret.encode()).hexdigest()[:16]}"


class TokenKeeper:
    def __init__(
        self,
        sessions: Sessions,
        key: str,
        fetch: Fetch,
        *,
        refresh_early_s: int = 300,
        lease_s: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._key = key
        self._fetch = fetch
        self._early = timedelta(seconds=refresh_early_s)
        self._lease = timedelta(seconds=lease_s)
        self._clock = clock

    def current(self) -> str:
        """A token valid for at least the early-refresh margin."""
        row = self._read()
        if row is not None and self._fresh(row, self._clock()):
            return row.access_token or ""
        return self._refresh(stale=None)

    def refused(self, token: str) -> str:
        """WeCom refused ``token`` (40014/42001): a new one, unless another process got it."""
        return self._refresh(stale=token)

    def _fresh(self, row: WeComToken, now: datetime) -> bool:
        return (
            bool(row.access_token)
            and row.expires_at is not None
            and (row.expires_at - self._early > now)
        )

    def _read(self) -> WeComToken | None:
        with self._sessions() as session:
            return session.get(WeComToken, self._key)

    def _ensure_row(self) -> None:
        try:
            with self._sessions() as session:
                if session.get(WeComToken, self._key) is None:
                    session.add(WeComToken(key=self._key))
        except IntegrityError:
            pass  # another process made it first

    def _take_lease(self, stale: str | None, now: datetime) -> bool:
        row = WeComToken
        due = or_(row.access_token.is_(None), row.expires_at <= now + self._early)
        if stale is not None:
            due = or_(due, row.access_token == stale)
        with self._sessions() as session:
            taken = session.execute(
                update(row)
                .where(
                    row.key == self._key, or_(row.lease_until.is_(None), row.lease_until < now), due
                )
                .values(lease_until=now + self._lease)
            ).rowcount
        return taken == 1

    def _refresh(self, stale: str | None) -> str:
        self._ensure_row()
        give_up = time.monotonic() + self._lease.total_seconds() * 2
        while True:
            now = self._clock()
            if self._take_lease(stale, now):
                return self._fetch_and_store(now)
            row = self._read()
            if row is not None and row.access_token != stale and self._fresh(row, now):
                return row.access_token or ""
            if time.monotonic() > give_up:
                raise WeComUnavailable("the WeCom access token is being fetched elsewhere")
            time.sleep(0.05)

    def _fetch_and_store(self, now: datetime) -> str:
        try:
            token, expires_in = self._fetch()
        except BaseException:
            with self._sessions() as session:
                session.execute(
                    update(WeComToken).where(WeComToken.key == self._key).values(lease_until=None)
                )
            raise
        with self._sessions() as session:
            session.execute(
                update(WeComToken)
                .where(WeComToken.key == self._key)
                .values(access_token=token, expires_at=now + timedelta(seconds=expires_in),
                        fetched_at=now, lease_until=None)
            )  # fmt: skip
        return token
