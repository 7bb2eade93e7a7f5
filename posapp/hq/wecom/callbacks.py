"""WeCom's callback: verified, decrypted and stored at once; processed behind the answer.

WeCom wants an answer within 5 s and retries three times, so the route only calls
``accept_callback`` (verify, decrypt, one INSERT that ignores a duplicate) and answers;
``process_callbacks`` (a worker, or right after the answer) does the rest: it may call
WeCom (the welcome message, a contact lookup), and nothing WeCom does there can fail it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException

from posapp.hq.wecom import links
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.contact_ways import release_contact_way, state_origin
from posapp.hq.wecom.errors import BadSignature, WeComError
from posapp.hq.wecom.gateway import WeComGateway, WelcomeLink
from posapp.hq.wecom.models import WeComInbox, WeComLink, WeComTransfer
from posapp.timefmt import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# transfer_fail's FailReason (path 92130) and what HQ records for it.
FAIL_REASONS = {"customer_refused": "refused", "customer_limit_exceed": "limit"}


def _crypto(settings: WeComSettings) -> WeChatCrypto:
    return WeChatCrypto(
        settings.callback_token.get_secret_value(),
        settings.encoding_aes_key.get_secret_value(),
        settings.corp_id,
    )


def verify_url(
    settings: WeComSettings, msg_signature: str, timestamp: str, nonce: str, echostr: str
) -> str:
    """The callback URL check: the decrypted ``echostr``, to be answered as plain text
    exactly (no quotes, no newline). ``BadSignature`` if it was not WeCom's."""
    try:
        plain = _crypto(settings).check_signature(msg_signature, timestamp, nonce, echostr)
    except (WeChatException, ValueError, TypeError, UnicodeError) as exc:
        log.warning("WeCom URL verification refused (%s)", type(exc).__name__)
        raise BadSignature("not signed by this corp's callback token") from None
    return plain.decode() if isinstance(plain, bytes) else str(plain)


def _decrypt(settings: WeComSettings, query: Mapping[str, str], body: bytes | str) -> dict[str, Any]:
    try:
        plain = _crypto(settings).decrypt_message(
            body, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        )
        event = xmltodict.parse(plain)["xml"]
    except (WeChatException, ExpatError, KeyError, TypeError, ValueError, UnicodeError) as exc:
        # Logged without the body: it may be anyone's bytes.
        log.warning("WeCom callback refused (%s)", type(exc).__name__)
        raise BadSignature("not a callback of this corp") from None
    if not isinstance(event, dict):
        raise BadSignature("not a callback of this corp")
    return {key: value for key, value in event.items() if isinstance(value, str)} | {
        "_xml": plain
    }


def accept_callback(
    session: Session,
    settings: WeComSettings,
    query: Mapping[str, str],
    body: bytes | str,
    *,
    now: datetime | None = None,
) -> bool:
    """Verify, decrypt and keep the event (True), or recognise a retry or duplicate (False)."""
    event = _decrypt(settings, query, body)
    try:
        create_time = int(event.get("CreateTime", "0"))
    except ValueError:
        create_time = 0
    row = {
        "external_userid": event.get("ExternalUserID", "")[:64],
        "userid": event.get("UserID", "")[:64],
        "change_type": (event.get("ChangeType") or event.get("Event") or event.get("MsgType", ""))[:48],
        "create_time": create_time,
        "event": event.get("Event", "")[:48],
        "body": event["_xml"],
        "status": "received",
        "attempts": 0,
        "received_at": now or utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stored = session.execute(
        insert(WeComInbox).values(**row).on_conflict_do_nothing().returning(WeComInbox.id)
    ).scalar()
    return stored is not None


Ended = Callable[[links.EndedLink], None]


def process_callbacks(
    session: Session,
    gateway: WeComGateway,
    settings: WeComSettings,
    *,
    now: datetime | None = None,
    limit: int = 200,
    on_link_ended: Ended | None = None,
) -> int:
    """Process the waiting callbacks in arrival order; how many were taken.

    Each runs in a savepoint: one that fails is retried next time (at most five times),
    the others stand. ``on_link_ended`` hears of every link that ended (for the
    win-back follow-up when the customer removed the guide).
    """
    moment = now or utcnow()
    query = select(WeComInbox).where(WeComInbox.status == "received").order_by(WeComInbox.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.scalars(query.limit(limit)).all()
    for row in rows:
        ended: list[links.EndedLink] = []
        try:
            with session.begin_nested():
                row.status, row.note = _process(session, gateway, settings, row, moment, ended)
        except Exception as exc:  # one bad event must not stop the others
            log.exception("WeCom callback %s could not be processed", row.id)
            row.attempts += 1
            row.note = type(exc).__name__
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            continue
        row.attempts += 1
        row.processed_at = moment
        row.body = ""  # what it said is in the links now; the XML is not kept
        if on_link_ended is not None:
            for link in ended:
                on_link_ended(link)
    links.resolve_pending(session)
    return len(rows)


def _process(
    session: Session,
    gateway: WeComGateway,
    settings: WeComSettings,
    row: WeComInbox,
    now: datetime,
    ended: list[links.EndedLink],
) -> tuple[str, str | None]:
    if row.event != "change_external_contact":
        return "done", "not a customer-contact event"
    event = xmltodict.parse(row.body)["xml"]
    ext, userid = row.external_userid, row.userid
    if ext and links.is_erased(session, ext):
        return "dropped", "erased"
    if row.change_type == "add_external_contact":
        return _added(session, gateway, settings, event, ext, userid, now)
    if row.change_type in ("del_follow_user", "del_external_contact"):
        link = links.open_link(session, ext, userid)
        if link is None:
            return "done", "no open link"
        transfer = event.get("Source") == "DELETE_BY_TRANSFER"
        reason = links.TRANSFERRED if transfer else (
            links.REMOVED if row.change_type == "del_follow_user" else links.DELETED
        )  # fmt: skip
        ended.append(links.end_link(session, link, reason, now))
        return "done", None
    if row.change_type == "transfer_fail":
        outcome = FAIL_REASONS.get(str(event.get("FailReason", "")), "refused")
        transfer = session.scalar(
            select(WeComTransfer)
            .where(WeComTransfer.external_userid == ext, WeComTransfer.takeover_userid == userid,
                   WeComTransfer.status == "waiting")
            .order_by(WeComTransfer.id.desc())
            .limit(1)
        )  # fmt: skip
        if transfer is None:
            return "done", "no waiting transfer"
        transfer.status, transfer.checked_at = outcome, now
        return "done", None
    return "done", None


def _added(
    session: Session,
    gateway: WeComGateway,
    settings: WeComSettings,
    event: dict[str, Any],
    ext: str,
    userid: str,
    now: datetime,
) -> tuple[str, str | None]:
    state = str(event.get("State") or "")[:32]
    origin = state_origin(session, state, userid)
    member_id = links.member_of_invite(session, origin.token) if origin.token else None
    note = None
    if member_id is None:
        try:
            contact = gateway.external_contact(ext)
        except WeComError as exc:
            contact, note = None, f"contact lookup: {exc}"[:256]
        if contact is not None and contact.unionid:
            member_id = links.member_by_unionid(session, contact.unionid)
    if member_id is not None and links.member_is_erased(session, member_id):
        return "dropped", "erased"
    link = links.open_link(session, ext, userid)
    if link is None:
        link = WeComLink(
            external_userid=ext, external_hash=links.external_hash(ext), userid=userid,
            staff_id=origin.staff_id, member_id=member_id, store_id=origin.store_id,
            invite_token=origin.token, state=state or None, since=now, welcomed=False,
        )  # fmt: skip
        session.add(link)
    else:
        link.member_id = link.member_id or member_id
        link.staff_id = link.staff_id or origin.staff_id
    welcome_code = str(event.get("WelcomeCode") or "")
    if welcome_code and not link.welcomed:
        join = None
        if member_id is None and origin.token:  # a walk-in: the same invite joins them
            join = WelcomeLink(settings.join_link_title, settings.join_url.replace("{token}", origin.token))
        if settings.welcome_text or join is not None:
            try:
                gateway.send_welcome(welcome_code, settings.welcome_text, join)
                link.welcomed = True
            except WeComError as exc:
                note = f"welcome: {exc}"[:256]
    if origin.token:
        release_contact_way(session, gateway, origin.token, now=now, added=True)
    session.flush()
    return "done", note

