"""WeCom's callback: verified, decrypted and stored at once; processed behind the answer.

WeCom wants an answer within 5 s and retries three times, so the route only calls
``accept_callback`` (verify, decrypt, one INSERT that ignores a duplicate) and answers;
``process_callbacks`` (a worker, or right after the answer) does the rest: it may call
WeCom (the welcome message, a contact lookup), and nothing WeCom does there can fail it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from sqlalchemy import delete, select, update
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
from posapp.hq.wecom.tokens import Sessions
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


def _decrypt(
    settings: WeComSettings, query: Mapping[str, str], body: bytes | str
) -> dict[str, Any]:
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
    return {key: value for key, value in event.items() if isinstance(value, str)} | {"_xml": plain}


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
        "change_type": (event.get("ChangeType") or event.get("Event") or event.get("MsgType", ""))[
            :48
        ],
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


def forget_processed(session: Session, before: datetime) -> int:
    """Processed events older than ``before`` go (WeCom retries within minutes; a month
    is ample to recognise a duplicate). Run it daily."""
    return session.execute(
        delete(WeComInbox).where(
            WeComInbox.status.in_(("done", "dropped")), WeComInbox.received_at < before
        )
    ).rowcount


Ended = Callable[[links.EndedLink], None]
# Told, in the transaction that records it, which members' WeCom contact changed (HQ's
# feed sends their new data down to the stores).
Touched = Callable[[Session, set[str]], None]
RECLAIM_AFTER = timedelta(minutes=5)  # a worker that took an event and died


@dataclass
class _Taken:
    id: int
    change_type: str
    event: str
    external_userid: str
    userid: str
    fields: dict[str, Any]


def process_callbacks(
    sessions: Sessions,
    gateway: WeComGateway,
    settings: WeComSettings,
    *,
    now: datetime | None = None,
    limit: int = 200,
    on_link_ended: Ended | None = None,
    on_members: Touched | None = None,
) -> int:
    """Process the waiting callbacks in arrival order; how many were taken.

    Each event is taken (one UPDATE, so two workers never take the same one), then worked
    in short transactions with WeCom called between them, never inside one. An event
    that fails is retried by a later run (five tries); the others stand.
    ``on_link_ended`` hears of every link that ended (the win-back follow-up starts from
    a ``removed`` one). ``on_members`` hears, inside the transaction that marks the event
    done, which members' contact opened or ended (so a crash before it retries both).
    """
    moment = now or utcnow()
    taken = 0
    for item in _take(sessions, moment, limit):
        taken += 1
        ended: list[links.EndedLink] = []
        touched: set[str] = set()
        try:
            status, note = _process(sessions, gateway, settings, item, moment, ended, touched)
        except Exception as exc:  # one bad event must not stop the others
            log.exception("WeCom callback %s could not be processed", item.id)
            status, note = "retry", type(exc).__name__
        with sessions() as session:
            row = session.scalar(
                select(WeComInbox).where(WeComInbox.id == item.id, WeComInbox.status == "working")
            )
            if row is None:
                continue  # erased meanwhile (SQLite may even have given its id to a new event)
            if status == "retry":
                row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "received"
            else:
                row.status, row.body = status, ""  # its facts are in the links now
            row.note, row.processed_at = note, moment
            touched.update(link.member_id for link in ended if link.member_id)
            if on_members is not None and touched and status != "retry":
                on_members(session, touched)
        if on_link_ended is not None:
            for link in ended:
                on_link_ended(link)
    with sessions() as session:
        attached: set[str] = set()
        links.resolve_pending(session, attached)
        if on_members is not None and attached:
            on_members(session, attached)
    return taken


def _take(sessions: Sessions, now: datetime, limit: int) -> list[_Taken]:
    with sessions() as session:
        session.execute(
            update(WeComInbox)
            .where(WeComInbox.status == "working", WeComInbox.processed_at < now - RECLAIM_AFTER)
            .values(status="received")
        )
        ids = list(
            session.scalars(
                select(WeComInbox.id)
                .where(WeComInbox.status == "received")
                .order_by(WeComInbox.id)
                .limit(limit)
            )
        )
    if not ids:
        return []
    with sessions() as session:  # one claim for the lot: a row another worker took is skipped
        claimed = set(
            session.scalars(
                update(WeComInbox)
                .where(WeComInbox.id.in_(ids), WeComInbox.status == "received")
                .values(status="working", attempts=WeComInbox.attempts + 1, processed_at=now)
                .returning(WeComInbox.id)
            )
        )
        rows = session.execute(
            select(WeComInbox.id, WeComInbox.change_type, WeComInbox.event,
                   WeComInbox.external_userid, WeComInbox.userid, WeComInbox.body)
            .where(WeComInbox.id.in_(claimed))
            .order_by(WeComInbox.id)
        ).all() if claimed else []  # fmt: skip
    return [
        _Taken(r.id, r.change_type, r.event, r.external_userid, r.userid,
               xmltodict.parse(r.body)["xml"] if r.body else {})
        for r in rows
    ]  # fmt: skip


def _process(
    sessions: Sessions,
    gateway: WeComGateway,
    settings: WeComSettings,
    item: _Taken,
    now: datetime,
    ended: list[links.EndedLink],
    touched: set[str],
) -> tuple[str, str | None]:
    if item.event != "change_external_contact":
        return "done", "not a customer-contact event"
    ext, userid, event = item.external_userid, item.userid, item.fields
    with sessions() as session:
        if ext and links.is_erased(session, ext):
            return "dropped", "erased"
    if item.change_type == "add_external_contact":
        return _added(sessions, gateway, settings, event, ext, userid, now, touched)
    with sessions() as session:
        if item.change_type in ("del_follow_user", "del_external_contact"):
            link = links.open_link(session, ext, userid)
            if link is None:
                return "done", "no open link"
            if event.get("Source") == "DELETE_BY_TRANSFER":
                reason = links.TRANSFERRED
            elif item.change_type == "del_follow_user":
                reason = links.REMOVED
            else:
                reason = links.DELETED
            ended.append(links.end_link(session, link, reason, now))
            return "done", None
        if item.change_type == "transfer_fail":
            transfer = session.scalar(
                select(WeComTransfer)
                .where(WeComTransfer.external_userid == ext,
                       WeComTransfer.takeover_userid == userid,
                       WeComTransfer.status == "waiting")
                .order_by(WeComTransfer.id.desc())
                .limit(1)
            )  # fmt: skip
            if transfer is None:
                return "done", "no waiting transfer"
            transfer.status = FAIL_REASONS.get(str(event.get("FailReason", "")), "refused")
            transfer.checked_at = now
    return "done", None


def _added(
    sessions: Sessions,
    gateway: WeComGateway,
    settings: WeComSettings,
    event: dict[str, Any],
    ext: str,
    userid: str,
    now: datetime,
    touched: set[str],
) -> tuple[str, str | None]:
    state = str(event.get("State") or "")[:32]
    with sessions() as session:
        origin = state_origin(session, state, userid)
        member_id = links.member_of_invite(session, origin.token) if origin.token else None
    notes = []
    unionid = None
    if member_id is None:  # perhaps a member HQ knows by their WeChat unionid
        try:
            unionid = gateway.external_contact(ext).unionid
        except WeComError as exc:
            notes.append(f"contact lookup: {exc}")
    with sessions() as session:
        if member_id is None and unionid:
            member_id = links.member_by_unionid(session, unionid)
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
        session.flush()
        link_id, welcomed = link.id, link.welcomed
        if link.member_id:
            touched.add(link.member_id)
    welcome_code = str(event.get("WelcomeCode") or "")
    join = None
    if member_id is None and origin.token:  # a walk-in: the same invite joins them
        join = WelcomeLink(
            settings.join_link_title, settings.join_url.replace("{token}", origin.token)
        )
    if welcome_code and not welcomed and (settings.welcome_text or join is not None):
        try:  # WeCom accepts the welcome code for 20 s: sent first, before any clean-up
            gateway.send_welcome(welcome_code, settings.welcome_text, join)
        except WeComError as exc:
            notes.append(f"welcome: {exc}")
        else:
            with sessions() as session:
                session.execute(
                    update(WeComLink).where(WeComLink.id == link_id).values(welcomed=True)
                )
    if origin.token:
        release_contact_way(sessions, gateway, origin.token, added=True, now=now)
    return "done", "; ".join(notes)[:256] or None
