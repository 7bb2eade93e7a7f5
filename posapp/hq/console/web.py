"""The console's page machinery: templates, words (Chinese first, English second), the
session cookie, CSRF, and the strict headers every page carries.

CSRF: once signed in, a synchronizer token kept with the session in the database (the
OWASP-preferred pattern, and the sessions are already there); before that, on the login
form, the join page's signed double-submit token (``posapp.hq.join.Csrf``). A library such
as fastapi-csrf-protect would add a second, cookie-only scheme beside sessions HQ already
keeps server-side, so the console uses these two and nothing else.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from posapp.hq.console.text import TEXT
from posapp.hq.console.users import Viewer
from posapp.hq.join_page import pick_language

HQ_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = HQ_DIR / "templates"
STATIC = HQ_DIR / "static"
SESSION_COOKIE = "hq_console"
LANG_COOKIE = "hq_console_lang"
LOGIN_CSRF_COOKIE = "hq_console_login"
LOGIN_CSRF_PURPOSE = "console-login"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAX_FORM_FIELDS = 40

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    """``?lang=`` (kept in a cookie), else the cookie, else the browser's preference; zh first."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return pick_language(request.headers.get("accept-language"), asked)


def words(lang: str) -> Any:
    table = TEXT[lang]

    def t(key: str, **fill: Any) -> str:
        text = table.get(key) or TEXT["en"].get(key) or key
        return text.format(**fill) if fill else text

    return t


def labels(lang: str) -> Any:
    """A report's table or column name in the page's language; the API's own name if none."""
    table = TEXT[lang]

    def label(kind: str, name: str) -> str:
        return table.get(f"{kind}.{name}") or name.replace("_", " ")

    return label


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "—"


def _money(fen: int | None) -> str:
    return f"{(fen or 0) / 100:,.2f}"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _count(n: int) -> str:
    return f"{n:,}"


def _signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


_env.filters.update(when=_when, money=_money, percent=_percent, count=_count, signed=_signed)


def page(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None,
    http_status: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = language(request)
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    other = "en" if lang == "zh" else "zh"
    html = _env.get_template("console/" + template).render(
        t=words(lang), label=labels(lang), lang=lang, viewer=viewer, path=request.url.path,
        switch_url=request.url.path + "?" + urlencode({**query, "lang": other}),
        csrf=viewer.csrf_token if viewer else context.pop("csrf", ""), **context,
    )  # fmt: skip
    response = HTMLResponse(html, status_code=http_status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in TEXT:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True,
                            samesite="strict", path="/console")  # fmt: skip
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def set_session_cookie(response: Response, token: str, *, https: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=https,
                        path="/console")  # fmt: skip


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="strict")


class BadForm(ValueError):
    """A posted form HQ will not act on: malformed, or its CSRF token is wrong."""


async def form_of(request: Request) -> dict[str, str]:
    """A posted form (urlencoded, each field once, at most 2,000 characters)."""
    body = await request.body()
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise BadForm("too many fields") from exc
    return {k: v[0][:2000] for k, v in fields.items()}


def check_csrf(viewer: Viewer, form: dict[str, str]) -> None:
    if not secrets.compare_digest(form.get("csrf", ""), viewer.csrf_token):
        raise BadForm("csrf")
