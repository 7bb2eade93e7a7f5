"""Talking to HQ over HTTP: one session, timeouts, backoff with jitter, answers validated strictly.

Every answer is parsed with the protocol's pydantic models; anything malformed,
truncated or oversized is a retryable error and is never applied.

Timeouts are sized for a shop's link (DSL or 4G, a few hundred kbit/s up on a bad day), not
for a data centre: a connection is given 5 s; HQ's first byte 15 s for a push (it answers
after one durable append) and 30 s for a changes page (HQ may hold it up to its
``apply_wait_seconds``, 20 s, for the counter's own events to be applied); the whole answer
at most 120 s however it trickles; and all attempts of one call 60 s, after which the round
fails with the reason and the next round tries again. Each retry is reported as it happens
(``on_progress``), so a waiting counter says what it is waiting for.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from posapp import __version__
from posapp.protocol.sync import (
    ChangesPage,
    MemberLookupAnswer,
    MemberLookupRequest,
    PushResponse,
    RegisterRequest,
    RegisterResponse,
)
from posapp.timefmt import utcnow

MAX_ANSWER_BYTES = 64 * 1024 * 1024
CONNECT_TIMEOUT_S = 5.0
PUSH_READ_TIMEOUT_S = 15.0
CHANGES_READ_TIMEOUT_S = 30.0
REGISTER_READ_TIMEOUT_S = 15.0
ANSWER_DEADLINE_S = 120.0
CALL_BUDGET_S = 60.0
# A customer is waiting at the counter: one try, connection and answer within this.
LOOKUP_BUDGET_S = 1.5
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Pushed:
    """HQ's answer to a push, with the device's clock at the attempt that got it."""

    answer: PushResponse
    sent_at: datetime  # when that attempt went out (its X-Device-Time)
    received_at: datetime


class HqError(Exception):
    """Why a call to HQ did not work, in words a store manager can read."""

    retryable = False


class HqUnavailable(HqError):
    retryable = True


class HqBadAnswer(HqError):
    retryable = True


class HqUnauthorized(HqError):
    pass


class HqRefused(HqError):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error = status, error


class SnapshotRequired(HqError):
    """HQ cannot continue from our cursor (its feed's ``CursorGone``, HTTP 410): start a
    fresh snapshot."""


def backoff(
    attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
) -> float:
    """Full-jitter exponential backoff: a random wait up to base·2^attempt, at most ``cap``."""
    return (rng or random).uniform(0, min(cap, base * 2**attempt))


class HqClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        read_timeout: float | None = None,
        attempts: int = 6,
        budget_s: float = CALL_BUDGET_S,
        answer_deadline_s: float = ANSWER_DEADLINE_S,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        """``read_timeout``: one for every call instead of each call's own (tests)."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.attempts = attempts
        self.budget_s = budget_s
        self.answer_deadline_s = answer_deadline_s
        self.sleep = sleep
        self.clock = clock or (lambda: utcnow())  # looked up per call: the OS clock now
        self.on_progress = on_progress
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = f"posapp/{__version__}"

    def register(self, *, code: str, device_id: str, name: str) -> RegisterResponse:
        body = RegisterRequest(code=code, device_id=device_id, device_name=name)
        return self._call(
            "POST",
            "/v1/devices/register",
            RegisterResponse,
            REGISTER_READ_TIMEOUT_S,
            json=body.model_dump(),
        )

    def push(self, body: bytes) -> Pushed:
        """POST a batch already encoded as HQ's ``PushRequest`` (see ``engine.encode_batch``).

        Each attempt carries its own ``X-Device-Time``, so neither HQ's recorded offset nor
        ours grows with the time spent retrying."""
        sent: list[datetime] = []

        def device_time() -> dict[str, str]:
            sent.append(self.clock())
            return {"X-Device-Time": sent[-1].isoformat()}

        answer = self._call(
            "POST",
            "/v1/sync/push",
            PushResponse,
            PUSH_READ_TIMEOUT_S,
            data=body,
            headers={"Content-Type": "application/json"},
            per_attempt=device_time,
        )
        return Pushed(answer, sent[-1], self.clock())

    def changes(self, cursor: str | None, *, limit: int = 1000) -> ChangesPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._call(
            "GET", "/v1/sync/changes", ChangesPage, CHANGES_READ_TIMEOUT_S, params=params
        )

    def lookup_member(
        self,
        *,
        phone_e164: str | None = None,
        member_code: str | None = None,
        budget_s: float = LOOKUP_BUDGET_S,
    ) -> MemberLookupAnswer:
        """HQ's member for one whole phone or member code, asked once within ``budget_s``.

        No retry and no backoff: the cashier is serving the customer now, and a look-up
        that fails is a walk-in (the counter says HQ could not be asked)."""
        body = MemberLookupRequest(phone_e164=phone_e164, member_code=member_code)
        connect = min(self.connect_timeout, budget_s / 3)
        return self._once(
            "POST",
            "/v1/members/lookup",
            MemberLookupAnswer,
            budget_s - connect,
            json=body.model_dump(exclude_none=True),
            connect_timeout=connect,
            deadline=time.monotonic() + budget_s,
        )

    def _call(
        self,
        method: str,
        path: str,
        model: type[Model],
        read_timeout: float,
        *,
        per_attempt: Callable[[], dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> Model:
        timeout = self.read_timeout or read_timeout
        started = time.monotonic()
        last: HqError = HqUnavailable("HQ has not been reached yet.")
        for attempt in range(self.attempts):
            if attempt:
                wait = self._wait(attempt, last)
                if time.monotonic() - started + wait + timeout > self.budget_s:
                    break  # this round has waited long enough: the next one tries again
                self._progress(
                    f"{last} Trying again in {wait:.0f} s (attempt {attempt + 1} of {self.attempts})."
                )
                self.sleep(wait)
            headers = dict(kwargs.get("headers", {}))
            if per_attempt is not None:
                headers.update(per_attempt())
            try:
                return self._once(method, path, model, timeout, **{**kwargs, "headers": headers})
            except HqError as exc:
                if not exc.retryable:
                    raise
                last = exc
        raise last

    def _progress(self, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(message)

    def _wait(self, attempt: int, error: HqError) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), 300.0)
        return backoff(attempt)

    def _once(
        self,
        method: str,
        path: str,
        model: type[Model],
        read_timeout: float,
        *,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> Model:
        """One attempt; ``deadline`` (monotonic): the whole answer by then, else the
        client's ``answer_deadline_s`` from now."""
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            answer = self.http.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=(connect_timeout or self.connect_timeout, read_timeout),
                stream=True,
                **kwargs,
            )
            body = _read_capped(
                answer, deadline=deadline or time.monotonic() + self.answer_deadline_s
            )
        except requests.Timeout as exc:
            raise HqUnavailable("HQ did not answer in time.") from exc
        except requests.ConnectionError as exc:
            raise HqUnavailable("HQ cannot be reached (network or server down).") from exc
        except requests.RequestException as exc:
            raise HqUnavailable("The connection to HQ broke off.") from exc
        status = answer.status_code
        if status == 200:
            try:
                return model.model_validate_json(body)
            except ValidationError as exc:
                raise HqBadAnswer("HQ answered with something that is not a valid reply.") from exc
        if status == 401:
            raise HqUnauthorized(
                "HQ does not accept this counter's credential (revoked or reset?)."
            )
        if status == 410:
            raise SnapshotRequired("HQ asks for a fresh start of the member list.")
        if status == 429 or status >= 500:
            error = HqUnavailable(f"HQ is busy or failing (HTTP {status}); will retry.")
            error.retry_after = _retry_after(answer)  # type: ignore[attr-defined]
            raise error
        code, message = _error_of(body)
        raise HqRefused(status, code, message)


def _read_capped(answer: requests.Response, *, deadline: float) -> bytes:
    """The body, at most MAX_ANSWER_BYTES, all of it by ``deadline`` (a monotonic time): the
    read timeout alone bounds only the gap between two chunks, not a trickle."""
    declared = answer.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise HqBadAnswer("HQ's answer is too large to be a valid reply.")
    # read1 returns what has arrived (iter_content would wait for a whole 64 KiB chunk, so
    # a trickle would never be checked against the deadline); urllib3 1.x has only read.
    raw = answer.raw
    read = getattr(raw, "read1", None) or getattr(raw, "read", None)
    if raw is None or read is None or getattr(answer, "_content_consumed", False):
        source: Iterator[bytes] = answer.iter_content(64 * 1024)  # a body already in memory
    else:
        source = iter(lambda: read(64 * 1024, decode_content=True), b"")
    chunks, size = [], 0
    for chunk in source:
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise HqBadAnswer("HQ's answer is too large to be a valid reply.")
        if time.monotonic() > deadline:
            raise HqUnavailable("HQ's answer came too slowly to finish in time.")
        chunks.append(chunk)
    if hasattr(raw, "release_conn"):
        raw.release_conn()  # read to the end: the connection goes back to the pool
    return b"".join(chunks)


def _retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _error_of(body: bytes) -> tuple[str, str]:
    try:
        data = json.loads(body)
        return str(data.get("error", "refused")), str(
            data.get("message", "HQ refused the request.")
        )[:300]
    except (ValueError, AttributeError):
        return "refused", "HQ refused the request."
