"""One table from every error HQ knows to its answer: a status and ``{"error", "message"}``.

Routes raise what the domain raises (``InvalidInput``, ``NotFound``, ``CursorGone`` ...) and
never map it themselves; an error only an HTTP route can have is an ``ApiFailure``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from posapp.domain.errors import InvalidInput
from posapp.hq.admin import NotFound
from posapp.hq.assignment import TransferLimit
from posapp.hq.feed import CursorGone
from posapp.hq.lookup import TooManyLookups
from posapp.hq.projector import StillApplying
from posapp.protocol.problems import first_error
from posapp.protocol.sync import ApiError

log = logging.getLogger("posapp.hq")
RETRYABLE_PG = {"40001", "40P01"}  # serialization failure, deadlock: try the transaction again
HTTP_ERRORS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
HTTP_MESSAGES = {
    400: "HQ could not read this request.",
    404: "There is nothing at this address.",
    405: "This address does not take this method.",
}
# What the OpenAPI document says any route may answer besides its own model.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ApiError} for status in (400, 401, 403, 404, 413, 422, 429)
}


@dataclass(frozen=True)
class Failure:
    """An answer HQ gives instead of the route's model."""

    status: int
    error: str
    message: str
    headers: dict[str, str] | None = None


class ApiFailure(Exception):
    """A refusal only the HTTP layer knows (credentials, rate limits, request shape)."""

    def __init__(
        self, status: int, error: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.failure = Failure(status, error, message, headers)


def unauthenticated() -> ApiFailure:
    """The one 401: a missing, malformed, unknown or revoked credential all look the same."""
    return ApiFailure(
        401, "unauthenticated", "A valid credential is needed.", {"WWW-Authenticate": "Bearer"}
    )


def is_transient(exc: OperationalError) -> bool:
    """A PostgreSQL conflict that the same transaction, run again, may not meet."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in RETRYABLE_PG


def _http(exc: StarletteHTTPException) -> Failure:
    error = HTTP_ERRORS.get(exc.status_code, f"http_{exc.status_code}")
    message = HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)[:300]
    return Failure(exc.status_code, error, message, getattr(exc, "headers", None))


def _not_found(exc: NotFound) -> Failure:
    text = str(exc)[:300]
    return Failure(404, "not_found", f"{text[:1].upper()}{text[1:]}.")


def _database(exc: OperationalError) -> Failure:
    if is_transient(exc):  # still conflicting after the write's own retries
        return Failure(503, "busy", "HQ is busy; try again shortly.", {"Retry-After": "1"})
    return _unexpected(exc)


def _unexpected(exc: Exception) -> Failure:
    log.error("unexpected %s", type(exc).__name__, exc_info=exc)
    return Failure(500, "internal", "HQ could not do this; try again.")


def _invalid_request(exc: RequestValidationError) -> Failure:
    return Failure(422, "invalid_request", str(first_error(exc.errors()))[:300])


TABLE: dict[type[Exception], Callable[[Any], Failure]] = {
    ApiFailure: lambda exc: exc.failure,
    InvalidInput: lambda exc: Failure(422, f"{exc.field}.{exc.rule}", exc.message),
    TransferLimit: lambda exc: Failure(409, "transfer_limit", exc.message),
    TooManyLookups: lambda exc: Failure(
        429, "lookup_rate_limited", str(exc), {"Retry-After": str(exc.wait_s)}
    ),
    NotFound: _not_found,
    CursorGone: lambda _: Failure(410, "cursor_gone", "Start again from a fresh snapshot."),
    StillApplying: lambda _: Failure(
        503,
        "still_applying",
        "HQ is still applying the events it has received; try again shortly.",
        {"Retry-After": "1"},
    ),
    RequestValidationError: _invalid_request,  # a body read by hand raises it too
    StarletteHTTPException: _http,  # FastAPI's and the router's own (404, 405)
    OperationalError: _database,
    Exception: _unexpected,
}


def answer(failure: Failure) -> JSONResponse:
    body = ApiError(error=failure.error, message=failure.message).model_dump()
    return JSONResponse(body, failure.status, headers=failure.headers)


def _handler(describe: Callable[[Any], Failure]) -> Callable[[Request, Any], Awaitable[Response]]:
    async def handle(_: Request, exc: Exception) -> Response:
        return answer(describe(exc))

    return handle


def install(app: FastAPI) -> None:
    for kind, describe in TABLE.items():
        app.add_exception_handler(kind, _handler(describe))
