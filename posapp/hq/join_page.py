"""The join page as HTML: its words in Chinese and English, its style and security headers,
and the form, refusal and welcome pages (no scripts, no external resources: some networks
block CDNs). What the page does is in ``posapp.hq.join``.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse

from posapp.domain import invite as invites
from posapp.domain.consent import Purpose
from posapp.domain.ladder import Channel
from posapp.protocol.invites import RedeemResponse
from posapp.qr import qr_matrix
from posapp.resources import NOTICE_LINES, current_notice, notice_text

PURPOSES = (Purpose.MEMBERSHIP, Purpose.MARKETING, Purpose.GUIDE_CONTACT)
NOTICE_LANG = {"zh": "zh-CN", "en": "en"}

CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"PingFang SC",
"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f6f4f0;color:#222}
main{max-width:30rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.5rem 0}
.card{background:#fff;border-radius:12px;padding:1rem;margin:.8rem 0;box-shadow:0 1px 3px #0002}
.muted{color:#666;font-size:.9rem}label.c{display:flex;gap:.6rem;align-items:flex-start;margin:.6rem 0}
label.c input{width:1.3rem;height:1.3rem;margin-top:.15rem;flex:none}
input[type=tel],input[type=text]{width:100%;font-size:1.1rem;padding:.6rem;border:1px solid #bbb;
border-radius:8px}.row{display:flex;gap:.5rem;margin:.6rem 0}.row input{flex:1}
button,a.btn{font-size:1rem;padding:.65rem 1rem;border-radius:8px;border:0;background:#b8860b;
color:#fff;text-decoration:none;display:inline-block}button.alt{background:#555}
button.main{width:100%;font-size:1.15rem;margin-top:.6rem}.err{color:#b00020}.ok{color:#176b2c}
details .notice{white-space:pre-wrap;font-size:.85rem;max-height:50vh;overflow:auto}
svg.qr,img.qr{width:14rem;height:14rem;display:block;margin:.5rem auto}.code{text-align:center;
font:1.3rem monospace;letter-spacing:.1em}ul.next{padding-left:1.2rem}ul.next li{margin:.5rem 0}.lang{text-align:right}
"""
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "brand.none": "",  # no brand set: 加入会员, never our software's name
        "title": "加入{brand}会员",
        "invited": "{store} 邀请您加入会员",
        "referred": "您的朋友邀请您加入{brand}会员（{store}）",
        "guide": "加入会员，由 {store} 的专属导购为您服务",
        "notice_intro": NOTICE_LINES["zh-CN"],
        "notice_full": "阅读隐私政策全文",
        "purpose.membership": "我同意加入会员，并按隐私政策处理我的信息（必需）",
        "purpose.marketing": "我愿意接收优惠和新品信息（可选）",
        "purpose.guide_contact": "我愿意由导购通过企业微信或电话联系我（可选）",
        "phone": "手机号码",
        "send": "获取验证码",
        "code": "短信验证码",
        "join": "加入会员",
        "no_purchase": "不加入会员也可以正常购物。",
        "sent": "验证码已发送至 {phone}，{minutes} 分钟内有效。",
        "err.membership": "请勾选“同意加入会员”，这是加入的前提。",
        "err.phone": "请输入正确的手机号码。",
        "err.code_format": "请输入 6 位数字验证码。",
        "sms.too_soon": "验证码刚刚发过，请稍候再试。",
        "sms.phone_limit": "这个号码的验证码发送次数太多，请一小时后再试。",
        "sms.invite_limit": "这个二维码发送的验证码太多，请向收银员索取新的二维码。",
        "sms.locked": "验证码错误次数太多，已锁定。请向收银员索取新的二维码。",
        "sms.no_code": "请先点击“获取验证码”。",
        "sms.expired": "验证码已过期，请重新获取。",
        "sms.used": "这个验证码已经用过了，请重新获取。",
        "sms.wrong": "验证码不正确，还可以再试 {left} 次。",
        "sms.send_failed": "短信暂时发送失败，请稍后再试。",
        "welcome": "欢迎加入！",
        "welcome_back": "欢迎回来！您已是会员。",
        "member_code": "您的会员码：下次到店时向收银员出示即可识别。",
        "next": "更多会员服务",
        "channel.micro_mall": "逛逛微商城，随时复购",
        "channel.app": "下载品牌 App",
        "channel.mini_program": "打开会员小程序",
        "channel.guide_contact": "添加专属导购",
        "wecom.title": "添加您的专属导购为企业微信好友",
        "wecom.hint": "用微信扫一扫，或长按识别二维码，添加后导购会第一时间为您服务。",
        "bad.title": "无法使用这个二维码",
        "bad.invalid": "这个二维码无法识别。",
        "bad.expired": "这个二维码已过期。",
        "bad.used": "这个二维码已经使用过了。如果刚才是您本人加入的，您已是会员。",
        "bad.csrf": "页面已过期，请重新扫描二维码。",
        "bad.rate": "操作太频繁，请稍候一分钟再试。",
        "bad.malformed": "无法处理这个请求，请重新扫描二维码。",
        "bad.ask": "请向收银员索取新的入会二维码。",
        "lang_switch": "English",
    },
    "en": {
        "brand.none": "us",
        "title": "Join {brand}",
        "invited": "{store} invites you to become a member",
        "referred": "A friend invites you to join {brand} ({store})",
        "guide": "Join and get a personal guide at {store}",
        "notice_intro": NOTICE_LINES["en"],
        "notice_full": "Read the full privacy notice",
        "purpose.membership": "I agree to become a member and to the processing described in the notice (required)",
        "purpose.marketing": "Send me offers and news (optional)",
        "purpose.guide_contact": "My guide may contact me by WeCom or phone (optional)",
        "phone": "Mobile number",
        "send": "Send code",
        "code": "SMS code",
        "join": "Join",
        "no_purchase": "You can shop without joining.",
        "sent": "We sent a code to {phone}; it is valid for {minutes} minutes.",
        "err.membership": "Please tick “agree to become a member”: it is needed to join.",
        "err.phone": "Please enter a valid mobile number.",
        "err.code_format": "Please enter the 6-digit code.",
        "sms.too_soon": "A code was just sent; please wait a moment.",
        "sms.phone_limit": "Too many codes for this number; please try again in an hour.",
        "sms.invite_limit": "Too many codes for this QR; please ask the cashier for a new one.",
        "sms.locked": "Too many wrong codes: locked. Please ask the cashier for a new QR.",
        "sms.no_code": "Please tap “Send code” first.",
        "sms.expired": "The code has expired; please get a new one.",
        "sms.used": "This code has already been used; please get a new one.",
        "sms.wrong": "That code is not right; {left} tries left.",
        "sms.send_failed": "The SMS could not be sent just now; please try again.",
        "welcome": "Welcome!",
        "welcome_back": "Welcome back! You are already a member.",
        "member_code": "Your member code: show it at the counter next time.",
        "next": "More for members",
        "channel.micro_mall": "Shop again in the micro-mall",
        "channel.app": "Get the brand app",
        "channel.mini_program": "Open the member mini-program",
        "channel.guide_contact": "Add your personal guide",
        "wecom.title": "Add your personal guide on WeCom",
        "wecom.hint": "Scan with WeChat, or press and hold the code, to add your guide as a contact.",
        "bad.title": "This QR cannot be used",
        "bad.invalid": "This QR code is not recognised.",
        "bad.expired": "This QR code has expired.",
        "bad.used": "This QR code has already been used. If you just joined with it, you are a member.",
        "bad.csrf": "This page has expired; please scan the QR code again.",
        "bad.rate": "Too many attempts; please wait a minute.",
        "bad.malformed": "This request could not be read; please scan the QR code again.",
        "bad.ask": "Please ask the cashier for a new join QR code.",
        "lang_switch": "中文",
    },
}


def pick_language(accept_language: str | None, override: str | None) -> str:
    """``zh`` unless asked for ``en`` (``?lang=``) or the browser prefers English to Chinese."""
    if override in TEXT:
        return str(override)
    best, best_q = "zh", -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in TEXT and q > best_q:
            best, best_q = lang, q
    return best


def qr_svg(data: str) -> str:
    """The member code as an inline SVG QR: drawn server-side, no image request, no script."""
    matrix = qr_matrix(data)
    path = "".join(
        f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    n = len(matrix)
    return (
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '
        f'shape-rendering="crispEdges" role="img" aria-label="QR"><rect width="{n}" height="{n}" '
        f'fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


class PageRefused(Exception):
    """The page cannot go on: ``invalid``, ``expired``, ``used``, ``csrf``, ``rate`` or
    ``malformed`` (a form no page of ours sends)."""

    STATUS: ClassVar[dict[str, int]] = {
        "malformed": 400,
        "invalid": 404,
        "expired": 410,
        "used": 410,
        "csrf": 403,
        "rate": 429,
    }

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Form:
    """What the customer has entered so far (kept across the send-code round trip)."""

    phone: str = ""
    code: str = ""
    purposes: set[str] = field(default_factory=set)
    message: str = ""
    message_kind: str = "err"


@dataclass
class JoinContext:
    token: str
    store_name: str
    region: str
    invite: invites.Invite


def page(lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width,'
        f'initial-scale=1"><meta name="referrer" content="no-referrer"><title>'
        f"{html.escape(title)}</title><style>{CSS}</style></head><body><main>{body}"
        "</main></body></html>"
    )
    return HTMLResponse(doc, status, headers=SECURITY_HEADERS)


def refusal_page(lang: str, kind: str) -> HTMLResponse:
    t = TEXT[lang]
    extra = "" if kind in ("csrf", "rate", "malformed") else f"<p>{html.escape(t['bad.ask'])}</p>"
    body = (
        f'<div class="card" id="refused" data-kind="{kind}"><h1>{html.escape(t["bad.title"])}'
        f"</h1><p>{html.escape(t['bad.' + kind])}</p>{extra}</div>"
    )
    return page(lang, t["bad.title"], body, PageRefused.STATUS[kind])


def form_page(
    lang: str, ctx: JoinContext, form: Form, csrf: str, path: str, *, brand: str
) -> HTMLResponse:
    t = TEXT[lang]
    e = html.escape
    fill = {"brand": brand or t["brand.none"], "store": ctx.store_name}
    if ctx.invite.is_referral:
        lead = t["referred"].format(**fill)
    elif ctx.invite.channel is Channel.GUIDE_CONTACT:
        lead = t["guide"].format(**fill)
    else:
        lead = t["invited"].format(**fill)
    notice_lang = NOTICE_LANG[lang]
    notice = current_notice(notice_lang)
    boxes = "".join(
        f'<label class="c"><input type="checkbox" name="consent" value="{p.value}" '
        f'id="consent-{p.value}"{" checked" if p.value in form.purposes else ""}>'
        f"<span>{e(t['purpose.' + p.value])}</span></label>"
        for p in PURPOSES
    )
    message = (
        f'<p id="message" class="{form.message_kind}" role="status">{e(form.message)}</p>'
        if form.message
        else ""
    )
    other = "en" if lang == "zh" else "zh"
    body = (
        f'<p class="muted lang"><a href="{path}?lang={other}">'
        f"{e(t['lang_switch'])}</a></p>"
        f"<h1>{e(t['title'].format(**fill))}</h1><p>{e(lead)}</p>"
        f'<form method="post" action="{path}?lang={lang}" id="join">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        f'<div class="card"><p class="muted">{e(t["notice_intro"].format(version=notice.version))}</p>'
        f'<details id="notice"><summary>{e(t["notice_full"])}</summary>'
        f'<div class="notice">{e(notice_text(notice_lang, notice.version))}</div></details>'
        f"{boxes}</div>"
        f'<div class="card"><label for="phone">{e(t["phone"])}</label>'
        f'<div class="row"><input type="tel" id="phone" name="phone" inputmode="tel" '
        f'autocomplete="tel" maxlength="20" value="{e(form.phone)}">'
        f'<button class="alt" type="submit" name="action" value="send" id="send">'
        f"{e(t['send'])}</button></div>"
        f'<label for="code">{e(t["code"])}</label><input type="text" id="code" name="code" '
        f'inputmode="numeric" autocomplete="one-time-code" maxlength="6" value="{e(form.code)}">'
        f"{message}"
        f'<button class="main" type="submit" name="action" value="join" id="submit">'
        f"{e(t['join'])}</button></div></form>"
        f'<p class="muted">{e(t["no_purchase"])}</p>'
    )
    return page(lang, t["title"].format(**fill), body)


def welcome_page(
    lang: str,
    answer: RedeemResponse,
    links: list[tuple[str, str]],
    *,
    contact_qr: str | None = None,
) -> HTMLResponse:
    """``contact_qr``: the guide's WeCom contact QR (an image WeCom serves) made for this
    invite, shown once the customer consented to guide contact; its origin alone is added
    to the page's ``img-src``."""
    t = TEXT[lang]
    e = html.escape
    items = "".join(
        f'<li><a class="btn" href="{e(url)}" rel="noopener">{e(t["channel." + ch])}</a></li>'
        for ch, url in links
    )
    next_block = f'<h2>{e(t["next"])}</h2><ul class="next">{items}</ul>' if items else ""
    origin = _image_origin(contact_qr) if contact_qr else None
    guide = (  # the reason this invite was shown: first after the member's own code
        f'<div class="card" id="wecom-contact"><h2>{e(t["wecom.title"])}</h2>'
        f'<img class="qr" id="wecom-qr" src="{e(contact_qr)}" alt="{e(t["wecom.title"])}">'
        f"<p>{e(t['wecom.hint'])}</p></div>"
        if contact_qr and origin
        else ""
    )
    body = (
        f'<div class="card" id="welcome" data-member-code="{e(answer.member_code)}">'
        f"<h1>{e(t['welcome'] if answer.created else t['welcome_back'])}</h1>"
        f"<p>{e(t['member_code'])}</p>{qr_svg(answer.member_code)}"
        f'<p class="code" id="member-code">{e(answer.member_code)}</p></div>'
        + guide
        + (f'<div class="card">{next_block}</div>' if next_block else "")
    )
    response = page(lang, t["welcome"], body)
    if guide:
        policy = SECURITY_HEADERS["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace(
            "img-src 'self' data:", f"img-src 'self' data: {origin}"
        )
    return response


def _image_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL with nothing that could break the header."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    return origin if all(c.isalnum() or c in ":/.-[]" for c in origin) else None
