"""The console's door: sign in (password, then a TOTP code or its enrolment), sign out,
and the console's own static files (no CDN: HQ often runs on an intranet)."""

from __future__ import annotations

import mimetypes
import secrets
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from posapp.hq.api.deps import (
    DatabaseDep,
    MasterKey,
    SettingsDep,
    address_of,
    count_request,
    write,
)
from posapp.hq.console import users
from posapp.hq.console.routing import LOGIN, ConsoleRoute, https_of
from posapp.hq.console.web import (
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_PURPOSE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    STATIC,
    BadForm,
    clear_session_cookie,
    form_of,
    page,
    redirect,
    set_session_cookie,
)
from posapp.hq.join import CSRF_MAX_AGE, Csrf
from posapp.hq.join_page import qr_svg
from posapp.timefmt import utcnow

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
CODE_PAGE = "/console/login/code"


def _login_page(
    request: Request, master_key: bytes, error: str = "", status: int = 200
) -> Response:
    csrf = Csrf(master_key)
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not csrf.nonce_ok(nonce):
        nonce = csrf.new_nonce()
    token = csrf.value(LOGIN_CSRF_PURPOSE, str(nonce), int(time.time()))
    response = page(request, "login.html", viewer=None, csrf=token, error=error, http_status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, str(nonce), max_age=CSRF_MAX_AGE, httponly=True,
                        samesite="strict", secure=https_of(request), path="/console")  # fmt: skip
    return response


@router.get("/console/login")
def login_form(request: Request, master_key: MasterKey) -> Response:
    return _login_page(request, master_key)


@router.post("/console/login")
async def login(
    request: Request, database: DatabaseDep, master_key: MasterKey, settings: SettingsDep
) -> Response:
    form = await form_of(request)
    if not Csrf(master_key).matches(
        LOGIN_CSRF_PURPOSE, form.get("csrf", ""), request.cookies.get(LOGIN_CSRF_COOKIE)
    ):
        raise BadForm("csrf")
    address = address_of(request)
    with database.transaction() as session:  # one address trying many accounts is slowed too
        count_request(session, f"console-login:{address}", settings.join_limit_per_minute)

    def act(session: Session) -> str | users.SignInRefused:
        now = utcnow()
        try:
            user = users.check_password(session, username=form.get("username", ""),
                                        password=form.get("password", ""), now=now,
                                        address=address)  # fmt: skip
        except users.SignInRefused as refused:
            return refused  # answered, and the failure kept (not rolled back)
        users.drop_expired(session, now=now)
        return users.open_session(session, user=user, now=now, address=address)

    done = write(database, act, sequenced=False)
    if isinstance(done, users.SignInRefused):
        return _login_page(request, master_key, error=f"login.{done.reason}", status=401)
    response = redirect("/console/login/code")
    set_session_cookie(response, done, https=https_of(request))
    return response


def _pending(session: Session, request: Request) -> users.Found | None:
    return users.find_session(session, request.cookies.get(SESSION_COOKIE), now=utcnow())


@router.get(CODE_PAGE)
def code_form(request: Request, database: DatabaseDep, master_key: MasterKey) -> Response:
    """The second factor: a code, or (first time) a new secret to add to an authenticator."""

    def act(session: Session) -> Step:
        found = _pending(session, request)
        if found is None:
            return Step("gone")
        if found.row.second_factor_done:
            return Step("done")
        if found.user.totp_secret is not None:
            return Step("code", found.user.username, found.row.csrf_token)
        secret = users.start_enrolment(session, found, master_key)
        return Step("enrol", found.user.username, found.row.csrf_token, secret)

    return _answer(request, write(database, act, sequenced=False))


@dataclass(frozen=True)
class Step:
    """Where a sign-in stands: gone (no session), done, code (owed) or enrol (a new factor)."""

    mode: str
    username: str = ""
    csrf: str = ""
    secret: str | None = None
    error: str = ""


def _answer(request: Request, step: Step) -> Response:
    if step.mode == "gone":
        return redirect(LOGIN)
    if step.mode == "done":
        return redirect("/console")
    uri = users.enrolment_uri(step.secret, step.username) if step.secret else ""
    return page(request, "code.html", viewer=None, csrf=step.csrf, mode=step.mode,
                secret=step.secret or "", qr=qr_svg(uri) if uri else "", error=step.error,
                http_status=401 if step.error else 200)  # fmt: skip


@router.post(CODE_PAGE)
async def code(request: Request, database: DatabaseDep, master_key: MasterKey) -> Response:
    form = await form_of(request)
    address = address_of(request)

    def act(session: Session) -> Step:
        found = _pending(session, request)
        if found is None or found.row.second_factor_done:
            return Step("gone" if found is None else "done")
        if not secrets.compare_digest(form.get("csrf", ""), found.row.csrf_token):
            return Step("csrf")
        mode = "code" if found.user.totp_secret is not None else "enrol"
        try:
            users.second_factor(session, found, form.get("code", ""), master_key=master_key,
                                now=utcnow(), address=address)  # fmt: skip
        except users.SignInRefused as refused:  # answered, and the failure kept (not rolled back)
            return Step(mode, found.user.username, found.row.csrf_token,
                        users.pending_secret(found, master_key), f"login.{refused.reason}")  # fmt: skip
        return Step("done")

    step = write(database, act, sequenced=False)
    if step.mode == "csrf":
        raise BadForm("csrf")
    return _answer(request, step)


@router.post("/console/logout")
async def logout(request: Request, database: DatabaseDep) -> Response:
    form = await form_of(request)
    address = address_of(request)
    token = request.cookies.get(SESSION_COOKIE)

    def act(session: Session) -> None:
        found = users.find_session(session, token, now=utcnow())
        if found is not None and secrets.compare_digest(form.get("csrf", ""), found.row.csrf_token):
            users.close_session(session, token, now=utcnow(), address=address)

    write(database, act, sequenced=False)
    response = redirect(LOGIN)
    clear_session_cookie(response)
    return response


@router.get("/console/static/{name:path}")
def static(name: str) -> Response:
    """A file of ``posapp/hq/static`` (never outside it)."""
    path = (STATIC / name).resolve()
    if STATIC.resolve() not in path.parents or not path.is_file():
        return Response(status_code=404)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=kind, headers=SECURITY_HEADERS)
