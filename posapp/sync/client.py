"""Talking to HQ over HTTP: one session, timeouts, backoff with jitter, answers validated strictly.

Every answer is parsed with the protocol's pydantic models; anything malformed,
truncated or oversized is a retryable error and is never applied.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from posapp import __version__
from posapp.protocol.sync import ChangesPage, PushResponse, RegisterRequest, RegisterResponse

MAX_ANSWER_BYTES = 64 * 1024 * 1024
Model = TypeVar("Model", bound=BaseModel)


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


class CursorGone(HqError):
    """HQ cannot continue from our cursor: start a fresh snapshot."""


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
        connect_timeout: float = 3.05,
        read_timeout: float = 60.0,
        attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = (connect_timeout, read_timeout)
        self.attempts = attempts
        self.sleep = sleep
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = f"posapp/{__version__}"

    def register(self, *, code: str, device_id: str, name: str) -> RegisterResponse:
        body = RegisterRequest(code=code, device_id=device_id, device_name=name)
        return self._call("POST", "/v1/devices/register", RegisterResponse, json=body.model_dump())

    def push(self, body: bytes, *, device_time: datetime) -> PushResponse:
        """POST a batch already encoded as HQ's ``PushRequest`` (see ``engine.encode_batch``)."""
        return self._call(
            "POST",
            "/v1/sync/push",
            PushResponse,
            data=body,
            headers={"X-Device-Time": device_time.isoformat(), "Content-Type": "application/json"},
        )

    def changes(self, cursor: str | None, *, limit: int = 1000) -> ChangesPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._call("GET", "/v1/sync/changes", ChangesPage, params=params)

    def _call(self, method: str, path: str, model: type[Model], **kwargs: Any) -> Model:
        last: HqError = HqUnavailable("HQ has not been reached yet.")
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self._wait(attempt, last))
            try:
                return self._once(method, path, model, **kwargs)
            except HqError as exc:
                if not exc.retryable:
                    raise
                last = exc
        raise last

    def _wait(self, attempt: int, error: HqError) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), 300.0)
        return backoff(attempt)

    def _once(self, method: str, path: str, model: type[Model], **kwargs: Any) -> Model:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            answer = self.http.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=self.timeout,
                stream=True,
                **kwargs,
            )
            body = _read_capped(answer)
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
            raise CursorGone("HQ asks for a fresh start of the member list.")
        if status == 429 or status >= 500:
            error = HqUnavailable(f"HQ is busy or failing (HTTP {status}); will retry.")
            error.retry_after = _retry_after(answer)  # type: ignore[attr-defined]
            raise error
        code, message = _error_of(body)
        raise HqRefused(status, code, message)


def _read_capped(answer: requests.Response) -> bytes:
    declared = answer.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise HqBadAnswer("HQ's answer is too large to be a valid reply.")
    chunks, size = [], 0
    for chunk in answer.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise HqBadAnswer("HQ's answer is too large to be a valid reply.")
        chunks.append(chunk)
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
