"""HQ's own join page behind every invite URL (``/j/<token>``, ``/g/<token>``).

Scanned outside WeChat (phone camera, Alipay, any browser) the invite URL lands here. The
page is plain server-rendered HTML (``posapp.hq.join_page``) with a signed double-submit
CSRF token, strict security headers and per-address rate limits. The token is checked with
the same ``verify_token`` and the member is made by the same ``redeem`` as the
mini-program's ``POST /v1/invites/redeem``: one code path, one set of rules.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from posapp.domain import invite as invites
from posapp.domain.consent import Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.ladder import Channel
from posapp.domain.phone import mask_phone, parse_mobile
from posapp.hq import proxies
from posapp.hq.admin import DEFAULT_CHANNELS, is_web_url
from posapp.hq.api.deps import apply_if_quick, write
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.join_page import (
    NOTICE_LANG,
    PURPOSES,
    TEXT,
    Form,
    JoinContext,
    PageRefused,
    form_page,
    pick_language,
    refusal_page,
    welcome_page,
)
from posapp.hq.models import Member, Redemption, RuleSet
from posapp.hq.projector import Projector
from posapp.hq.ratelimit import wait_for_minute
from posapp.hq.redeem import redeem, verify_token
from posapp.hq.sms import (
    SmsRefused,
    SmsRules,
    SmsSender,
    SmsSendFailed,
    check_code,
    issue_code,
    use_code,
)
from posapp.hq.wecom.service import WeComService, attach_redeemer
from posapp.protocol.invites import RedeemRequest, RedeemResponse
from posapp.resources import current_notice
from posapp.timefmt import utcnow

CSRF_COOKIE = "join_csrf"
CSRF_MAX_AGE = 2 * 3600
NEXT_CHANNELS = (Channel.MICRO_MALL, Channel.APP)
_PHONE_CHARS = re.compile(r"[^0-9+]")
_NONCE = re.compile(r"[0-9a-f]{40}")
_CSRF = re.compile(r"([0-9a-f]{40})\.([0-9]{1,12})\.[0-9a-f]{32}", re.ASCII)


class Csrf:
    """The double-submit token: a nonce HQ made (in the cookie) and, in the form, the same
    nonce signed with the invite token and a time."""

    def __init__(self, master_key: bytes) -> None:
        self.master_key = master_key

    def value(self, token: str, nonce: str, stamp: int) -> str:
        mac = hmac.new(self.master_key, f"posapp/csrf/{nonce}/{token}/{stamp}".encode(), "sha256")
        return f"{nonce}.{stamp}.{mac.hexdigest()[:32]}"

    def new_nonce(self) -> str:
        """A nonce HQ made (random part and its MAC): no cookie set by anyone else is adopted."""
        random_part = secrets.token_hex(12)
        return random_part + self._nonce_mac(random_part)

    def _nonce_mac(self, random_part: str) -> str:
        return hmac.new(
            self.master_key, f"posapp/csrf-nonce/{random_part}".encode(), "sha256"
        ).hexdigest()[:16]

    def nonce_ok(self, nonce: str | None) -> bool:
        if nonce is None or _NONCE.fullmatch(nonce) is None:
            return False
        return hmac.compare_digest(self._nonce_mac(nonce[:24]), nonce[24:])

    def matches(self, token: str, value: str, cookie: str | None) -> bool:
        """The form's token matches HQ's own nonce in the cookie and is fresh; anything else
        (non-ASCII, other digits, missing parts) is simply not a match."""
        found = _CSRF.fullmatch(value)
        if found is None or not self.nonce_ok(cookie):
            return False
        nonce, stamp = found.group(1), int(found.group(2))
        fresh = 0 <= time.time() - stamp <= CSRF_MAX_AGE
        return (
            fresh
            and hmac.compare_digest(self.value(token, nonce, stamp), value)
            and hmac.compare_digest(nonce, str(cookie))
        )


@dataclass
class Submission:
    """One posted form, read and checked as far as the page can without the phone."""

    ctx: JoinContext
    form: Form
    action: str  # send (a code) or join
    csrf: str
    nonce: str


class JoinDesk:
    """What the join page does for one request, over HQ's shared objects."""

    def __init__(
        self,
        database: HqDatabase,
        settings: HqSettings,
        master_key: bytes,
        sender: SmsSender,
        projector: Projector,
        wecom: WeComService | None = None,
    ) -> None:
        self.database, self.settings, self.master_key = database, settings, master_key
        self.sender, self.projector = sender, projector
        self.wecom = wecom
        self.rules = SmsRules.of(settings)
        self.csrf = Csrf(master_key)

    # --- the two routes --------------------------------------------------------------------

    def show(self, request: Request, token: str) -> HTMLResponse:
        lang = _lang_of(request)
        try:
            self._limit(request)
            with self.database.read() as session:
                ctx = self._context(session, token)
        except PageRefused as refused:
            return refusal_page(lang, refused.kind)
        nonce = request.cookies.get(CSRF_COOKIE)
        if nonce is None or not self.csrf.nonce_ok(nonce):
            nonce = self.csrf.new_nonce()
        csrf = self.csrf.value(token, nonce, int(time.time()))
        response = form_page(lang, ctx, Form(), csrf, request.url.path, brand=self.brand)
        response.set_cookie(CSRF_COOKIE, nonce, max_age=CSRF_MAX_AGE, httponly=True,
                            samesite="strict", path="/", secure=self._is_https(request))  # fmt: skip
        return response

    def submit(self, request: Request, token: str, body: bytes) -> HTMLResponse:
        lang = _lang_of(request)
        t = TEXT[lang]
        try:
            posted = self._read(request, token, body)
        except PageRefused as refused:
            return refusal_page(lang, refused.kind)
        ctx, form = posted.ctx, posted.form

        def again(message: str, kind: str = "err") -> HTMLResponse:
            form.message, form.message_kind = message, kind
            return form_page(lang, ctx, form, posted.csrf, request.url.path, brand=self.brand)

        try:
            phone = parse_mobile(form.phone, ctx.region)
        except InvalidInput:
            return again(t["err.phone"])
        if posted.action == "send":
            if Purpose.MEMBERSHIP.value not in form.purposes:
                return again(t["err.membership"])
            try:
                self._send_code(token, phone, lang, referral=ctx.invite.is_referral)
            except SmsRefused as refused:
                return again(t["sms." + refused.reason].format(left=refused.left))
            except SmsSendFailed:
                return again(t["sms.send_failed"])
            masked = mask_phone(phone, ctx.region)
            return again(t["sent"].format(phone=masked, minutes=self.rules.code_minutes), "ok")
        if len(form.code) != 6:
            return again(t["err.code_format"])
        try:
            answer, links = self._join(token, phone, lang, posted)
        except PageRefused as refused:
            return refusal_page(lang, refused.kind)
        except SmsRefused as refused:  # wrong, or spent by another submission a moment ago
            return again(t["sms." + refused.reason].format(left=refused.left))
        except InvalidInput as exc:
            if exc.rule == "membership_required":
                return again(t["err.membership"])
            if exc.field == "token":
                return refusal_page(lang, "expired" if exc.rule == "expired" else "invalid")
            return again(t["err.phone"])
        return welcome_page(lang, answer, links, contact_qr=self._guide_qr(ctx, form, answer))

    # --- steps -----------------------------------------------------------------------------

    @property
    def brand(self) -> str:
        return self.settings.brand_name

    def _is_https(self, request: Request) -> bool:
        return proxies.is_https(request, self.settings.trusted_networks)

    def _limit(self, request: Request) -> None:
        client = proxies.client_address(request, self.settings.trusted_networks)
        with self.database.transaction() as session:
            wait = wait_for_minute(session, f"join:{client}",
                                   limit=self.settings.join_limit_per_minute, now=utcnow())  # fmt: skip
        if wait:
            raise PageRefused("rate")

    def _context(self, session: Session, token: str, *, allow_used: bool = False) -> JoinContext:
        try:
            invite, store = verify_token(session, token, master_key=self.master_key, today=utcnow())
        except InvalidInput as exc:
            raise PageRefused("expired" if exc.rule == "expired" else "invalid") from exc
        if not allow_used and session.get(Redemption, token) is not None:
            raise PageRefused("used")
        return JoinContext(token, store.name, store.region, invite)

    def _read(self, request: Request, token: str, body: bytes) -> Submission:
        self._limit(request)  # before the body is even parsed: a flood costs one counter each
        try:
            fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
        except ValueError as exc:  # more fields than any page of ours has
            raise PageRefused("malformed") from exc

        def one(name: str) -> str:
            return (fields.get(name) or [""])[0][:128]

        csrf = one("csrf")
        cookie = request.cookies.get(CSRF_COOKIE)
        if not self.csrf.matches(token, csrf, cookie):
            raise PageRefused("csrf")
        action = one("action")
        with self.database.read() as session:
            ctx = self._context(session, token, allow_used=action == "join")
        form = Form(
            phone=_PHONE_CHARS.sub("", one("phone"))[:20],
            code=re.sub(r"\D", "", one("code"))[:6],
            purposes={p for p in fields.get("consent", []) if p in {q.value for q in PURPOSES}},
        )
        return Submission(ctx, form, action, csrf, cookie or "")

    def _send_code(self, token: str, phone: str, lang: str, *, referral: bool) -> None:
        with self.database.transaction() as session:
            code = issue_code(session, token=token, phone_e164=phone, master_key=self.master_key,
                              now=utcnow(), rules=self.rules, referral=referral)  # fmt: skip
        self.sender.send_code(phone, code, language=NOTICE_LANG[lang])

    def _join(
        self, token: str, phone: str, lang: str, posted: Submission
    ) -> tuple[RedeemResponse, list[tuple[str, str]]]:
        """Check the SMS code (a wrong guess is counted, committed), then spend it and redeem
        in one write."""
        code, nonce, key = posted.form.code, posted.nonce, self.master_key
        refusal: SmsRefused | None = None
        with self.database.transaction() as session:
            try:
                check_code(session, token=token, phone_e164=phone, code=code, master_key=key,
                           now=utcnow(), rules=self.rules, nonce=nonce)  # fmt: skip
            except SmsRefused as refused:
                refusal = refused  # committed: a wrong guess counts
        if refusal is not None:
            raise refusal
        request_body = _redeem_request(token, phone, posted.form, lang)

        def act(session: Session) -> tuple[RedeemResponse, list[tuple[str, str]]]:
            use_code(session, token=token, phone_e164=phone, code=code, master_key=key,
                     now=utcnow(), rules=self.rules, nonce=nonce)  # fmt: skip
            earlier = session.get(Redemption, token)
            if earlier is not None:
                member = session.get(Member, earlier.member_id)
                if member is None or member.phone_e164 != phone:
                    raise PageRefused("used")
            answer = redeem(session, request_body, master_key=self.master_key, now=utcnow())
            attach_redeemer(session, token, answer.member_id)  # added the guide before joining
            return answer, self._next_links(session, token)

        apply_if_quick(self.projector)  # a counter's enrolment of this phone, pushed a moment ago
        return write(self.database, act)

    def _guide_qr(self, ctx: JoinContext, form: Form, answer: RedeemResponse) -> str | None:
        """The guide's WeCom contact QR for a guide-contact invite, once the customer has
        consented to being contacted by the guide; ``None`` (the page as before WeCom)
        without WeCom, without consent, or when WeCom makes none."""
        if (
            self.wecom is None
            or ctx.invite.channel is not Channel.GUIDE_CONTACT
            or Purpose.GUIDE_CONTACT.value not in form.purposes
        ):
            return None
        expires = datetime.combine(ctx.invite.expires_on() + timedelta(days=1), datetime.min.time())
        return self.wecom.invite_qr(ctx.token, answer.guide_id, answer.store_id, expires)

    def _next_links(self, session: Session, token: str) -> list[tuple[str, str]]:
        row = session.get(RuleSet, "channels")
        templates = {**DEFAULT_CHANNELS, **(json.loads(row.body) if row else {})}
        links = []
        for channel in NEXT_CHANNELS:
            url = invites.invite_url(templates, channel, token)
            if not is_web_url(url):  # a template stored before they were checked
                continue
            if re.search(rf"/[jg]/{token}$", url) is None:  # not this very page again
                links.append((channel.value, url))
        return links


def _lang_of(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"), request.query_params.get("lang"))


def _redeem_request(token: str, phone: str, form: Form, lang: str) -> RedeemRequest:
    """The same request the mini-program sends: each purpose granted or not, on this notice."""
    notice = current_notice(NOTICE_LANG[lang])
    return RedeemRequest.model_validate(
        {
            "token": token,
            "phone": phone,
            "consents": [
                {
                    "purpose": p.value,
                    "granted": p.value in form.purposes,
                    "notice": {
                        "notice_id": notice.notice_id,
                        "version": notice.version,
                        "language": notice.language,
                        "text_hash": notice.text_hash,
                    },
                }
                for p in PURPOSES
            ],
        }
    )
