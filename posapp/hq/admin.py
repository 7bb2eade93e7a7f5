"""What HQ's administrators do: stores, staff, device codes, partner keys, rules, erasure.

Used by the admin CLI, the admin API and the console alike, so all follow the same rules.
Each change takes ``who`` (``posapp.hq.console.audit.Who``: the person or machine asking)
and writes its audit row in the change's own transaction, with the one action name the
console, the API and the CLI share; ``who=None`` only for HQ's own setup (tests, the demo).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.follow_up import FollowUpRules
from posapp.domain.ids import new_id
from posapp.domain.invite import DEFAULT_CHANNEL_URLS
from posapp.domain.ladder import Channel, LadderRules
from posapp.domain.local_day import valid_zone, zone_for_region
from posapp.domain.member_code import new_member_code
from posapp.domain.text import clean_name
from posapp.hq.console.audit import Who, key_holder
from posapp.hq.feed import Pending, emit, staff_change
from posapp.hq.members import forget_code_references
from posapp.hq.models import (
    Change,
    Consent,
    Credential,
    Device,
    DeviceCode,
    Erasure,
    ErasureAck,
    Event,
    Member,
    MemberAlias,
    MemberStore,
    Redemption,
    RuleSet,
    RungChange,
    Staff,
    Store,
)
from posapp.hq.schemas import ConsentHistory, ErasureStatus
from posapp.hq.security import (
    credential_token,
    hash_pin,
    hash_secret,
    new_secret,
    phone_fingerprint,
    same_secret,
)
from posapp.hq.wecom.links import erase_member as erase_wecom_links
from posapp.protocol.changes import StoreAssigned

ROLES = ("cashier", "guide", "manager")
CHANNELS = tuple(c.value for c in Channel)
DEFAULT_CHANNELS = DEFAULT_CHANNEL_URLS
RULE_KINDS = ("ladder", "follow_up", "channels")


class NotFound(LookupError):
    pass


def is_web_url(url: str) -> bool:
    """An http(s) URL with a host: what a customer's phone may be sent to (no ``javascript:``,
    ``data:`` or scheme-relative tricks)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not any(ord(c) < 33 for c in url)
    )


def add_store(
    session: Session,
    *,
    store_id: str,
    name: str,
    now: datetime,
    region: str = "CN",
    currency: str = "CNY",
    timezone: str | None = None,
    who: Who | None = None,
) -> Store:
    """A new store; its days are kept in ``timezone`` (its region's zone when not given)."""
    if (
        not store_id
        or len(store_id) > 64
        or not store_id.replace("-", "").replace("_", "").isalnum()
    ):
        raise InvalidInput("store_id", "bad_format", "Store ids are letters, digits, - and _.")
    if session.get(Store, store_id) is not None:
        raise InvalidInput("store_id", "exists", f"Store {store_id} already exists.")
    clean = clean_name(name, field="name") or store_id
    number = (session.scalar(select(func.max(Store.store_no))) or 0) + 1
    store = Store(
        id=store_id, store_no=number, name=clean, region=region, currency=currency,
        created_at=now, timezone=_zone_name(timezone or zone_for_region(region)),
    )  # fmt: skip
    session.add(store)
    session.flush()
    if who is not None:
        who.record(session, action="store.add", now=now, target=store.id, store_id=store.id,
                   name=store.name, timezone=store.timezone)  # fmt: skip
    return store


def _zone_name(name: str) -> str:
    try:
        return valid_zone(name)
    except ValueError:
        raise InvalidInput(
            "timezone", "bad_format", f"{name!r} is not an IANA time zone (Asia/Shanghai)."
        ) from None


def set_store_timezone(
    session: Session, *, store_id: str, timezone: str, now: datetime, who: Who | None = None
) -> Store:
    """The store keeps its days in ``timezone`` from now on: its reports at once, its counters
    at their next sync (they recount their per-day tally in it)."""
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(f"no store {store_id}")
    store.timezone = _zone_name(timezone)
    emit(
        session,
        [Pending(store_id, "store", store_id, StoreAssigned(timezone=store.timezone))],
        now=now,
    )
    session.flush()
    if who is not None:
        who.record(session, action="store.timezone", now=now, target=store.id,
                   store_id=store.id, timezone=store.timezone)  # fmt: skip
    return store


def add_staff(
    session: Session,
    *,
    store_id: str,
    name: str,
    role: str,
    pin: str,
    now: datetime,
    staff_id: str | None = None,
    who: Who | None = None,
) -> Staff:
    if session.get(Store, store_id) is None:
        raise NotFound(f"no store {store_id}")
    _check_role(role)
    _check_pin(pin)
    clean = clean_name(name, field="name")
    if clean is None:
        raise InvalidInput("name", "empty", "Staff need a name.")
    number = (session.scalar(select(func.max(Staff.staff_no))) or 0) + 1
    staff = Staff(
        id=staff_id or f"{store_id}-{number}",
        store_id=store_id,
        staff_no=number,
        name=clean,
        role=role,
        pin_hash=hash_pin(pin),
        active=True,
        updated_at=now,
    )
    session.add(staff)
    session.flush()
    emit(session, [staff_change(session, staff)], now=now)
    if who is not None:  # the role only: a name is personal data
        who.record(session, action="staff.add", now=now, target=staff.id,
                   store_id=staff.store_id, role=staff.role)  # fmt: skip
    return staff


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("role", "unknown", f"Role must be one of {', '.join(ROLES)}.")


def _check_pin(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise InvalidInput("pin", "bad_format", "A PIN is 4 to 12 digits.")


def update_staff(
    session: Session,
    *,
    staff_id: str,
    now: datetime,
    role: str | None = None,
    active: bool | None = None,
    pin: str | None = None,
    who: Who | None = None,
) -> Staff:
    """Change a staff member's role, deactivate or reactivate them, or reset their PIN; the
    store's counters learn it with their next pull, as they learned the staff member."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff {staff_id[:64]}")
    if role is not None:
        _check_role(role)
        staff.role = role
    if pin is not None:
        _check_pin(pin)
        staff.pin_hash = hash_pin(pin)
    if active is not None:
        staff.active = active
    staff.updated_at = now
    emit(session, [staff_change(session, staff)], now=now)
    if who is not None:  # one row per change, named as the console's forms name it
        done = [("role", {"role": staff.role})] if role is not None else []
        if active is not None:
            done.append(("activate" if active else "deactivate", {}))
        done += [("pin", {})] if pin is not None else []  # that it changed, never the PIN
        for change, detail in done:
            who.record(session, action=f"staff.{change}", now=now, target=staff.id,
                       store_id=staff.store_id, **detail)  # fmt: skip
    return staff


def edit_store(
    session: Session,
    *,
    store_id: str,
    name: str,
    region: str,
    now: datetime,
    who: Who | None = None,
) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(f"no store {store_id[:64]}")
    if not (len(region) == 2 and region.isascii() and region.isalpha()):
        raise InvalidInput("region", "bad_format", "A region is a two-letter country code (CN).")
    store.name = clean_name(name, field="name") or store.id
    store.region = region.upper()
    if who is not None:
        who.record(session, action="store.edit", now=now, target=store.id, store_id=store.id,
                   name=store.name, region=store.region)  # fmt: skip
    return store


def device_code(
    session: Session, *, store_id: str, now: datetime, minutes: int, who: Who | None = None
) -> str:
    """A one-time code a counter exchanges for its credential; only its hash is kept."""
    if session.get(Store, store_id) is None:
        raise NotFound(f"no store {store_id}")
    code = "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(12))
    session.add(
        DeviceCode(
            code_hash=hash_secret(code),
            store_id=store_id,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    if who is not None:  # never the code itself
        who.record(session, action="device.code", now=now, target=store_id, store_id=store_id)
    return code


@dataclass(frozen=True)
class Registered:
    device: Device
    store: Store
    secret: str


def register_device(
    session: Session,
    *,
    code: str,
    name: str,
    now: datetime,
    device_id: str | None = None,
    address: str | None = None,
) -> Registered:
    """``address``: where the registration came from, for its audit row (the new counter is
    its actor, ``device:<id>``); ``None`` only for HQ's own setup."""
    row = session.get(DeviceCode, hash_secret(code.strip().upper()))
    if row is None or row.used_at is not None or row.expires_at < now:
        raise InvalidInput("code", "invalid", "This registration code is unknown, used or expired.")
    if device_id is not None and session.get(Device, device_id) is not None:
        raise InvalidInput("device_id", "exists", "A counter with this id is already registered.")
    row.used_at = now
    store = session.get(Store, row.store_id)
    assert store is not None
    number = (
        session.scalar(select(func.max(Device.device_no)).where(Device.store_id == store.id)) or 0
    ) + 1
    secret = new_secret()
    device = Device(
        id=device_id or new_id(),
        store_id=store.id,
        device_no=number,
        name=(clean_name(name, field="device_name") or "")[:128],
        secret_hash=hash_secret(secret),
        last_seq=0,
        registered_at=now,
    )
    session.add(device)
    session.flush()
    if address is not None:
        key_holder("device", device.id, address).record(
            session, action="device.register", now=now, target=device.id, store_id=store.id,
            device_no=device.device_no,
        )  # fmt: skip
    return Registered(device, store, secret)


MAX_UNUSED_SECRETS = 8  # rotations in a row whose answers may have been lost


def _unused(device: Device) -> list[str]:
    return list(json.loads(device.unused_secret_hashes)) if device.unused_secret_hashes else []


def rotate_device_secret(session: Session, *, device: Device) -> str:
    """A new secret; the ones the counter may still hold keep working until it uses one.

    An answer can be lost (the counter times out, or crashes before its keyring write):
    then it still holds its old secret, or the secret of an earlier rotation whose answer
    did arrive. So the secret it last used stays valid, with every secret issued since,
    until the counter authenticates with one of them; the ones older than that are dropped.
    """
    secret = new_secret()
    if device.previous_secret_hash is None:
        device.previous_secret_hash = device.secret_hash  # the one it uses now
    else:  # the last rotation's secret was never used: the counter may hold it, or not
        unused = [*_unused(device), device.secret_hash][-MAX_UNUSED_SECRETS:]
        device.unused_secret_hashes = json.dumps(unused)
    device.secret_hash = hash_secret(secret)
    return secret


def authenticate_device(session: Session, device_id: str, secret: str) -> Device | None:
    device = session.get(Device, device_id)
    if device is None or device.revoked_at is not None:
        return None
    if same_secret(secret, device.secret_hash):
        if device.previous_secret_hash is not None or device.unused_secret_hashes:
            device.previous_secret_hash = None  # rotation completed
            device.unused_secret_hashes = None
        return device
    if same_secret(secret, device.previous_secret_hash):
        return device
    unused = _unused(device)
    for i, held in enumerate(unused):
        if same_secret(secret, held):  # this rotation's answer did reach the counter
            device.previous_secret_hash = held
            device.unused_secret_hashes = json.dumps(unused[i + 1 :]) if unused[i + 1 :] else None
            return device
    return None


@dataclass(frozen=True)
class Revoked:
    device_id: str
    store_id: str
    revoked_at: datetime
    accepted_through: int  # the last seq it pushed before revocation: applied, as every fact


def revoke_device(
    session: Session, *, device_id: str, now: datetime, who: Who | None = None
) -> Revoked:
    """Shut a counter out (stolen, retired): every request with its credential gets 401.

    What it pushed before this moment stays in the log and is applied like any fact; it can
    push nothing after. Revoking again changes nothing. A replacement till registers anew.
    """
    device = session.get(Device, device_id, with_for_update=True)
    if device is None:
        raise NotFound(f"no device {device_id[:64]}")
    if device.revoked_at is None:
        device.revoked_at = now
        device.previous_secret_hash = None
        device.unused_secret_hashes = None
    if who is not None:  # revoking again is asked again, and recorded again
        who.record(session, action="device.revoke", now=now, target=device.id,
                   store_id=device.store_id, accepted_through=device.last_seq)  # fmt: skip
    return Revoked(device.id, device.store_id, device.revoked_at, device.last_seq)


def list_devices(session: Session, *, store_id: str | None = None) -> list[Device]:
    query = select(Device).order_by(Device.store_id, Device.device_no)
    if store_id is not None:
        query = query.where(Device.store_id == store_id)
    return list(session.scalars(query))


def add_credential(
    session: Session, *, kind: str, name: str, now: datetime, who: Who | None = None
) -> str:
    """A partner (mini-program backend) or admin credential; returns the bearer token, once."""
    if kind not in ("partner", "admin"):
        raise InvalidInput("kind", "unknown", "Credential kinds are partner and admin.")
    ident = secrets.token_hex(8)
    secret = new_secret()
    session.add(
        Credential(
            id=ident, kind=kind, name=name[:128], secret_hash=hash_secret(secret), created_at=now
        )
    )
    if who is not None:  # its id, never its secret
        who.record(session, action=f"key.{kind}", now=now, target=ident)
    return credential_token(kind[0], ident, secret)


def authenticate_credential(
    session: Session, kind: str, ident: str, secret: str
) -> Credential | None:
    cred = session.get(Credential, ident)
    if cred is None or cred.kind != kind or cred.revoked_at is not None:
        return None
    return cred if same_secret(secret, cred.secret_hash) else None


def ladder_rules_of(body: dict[str, Any]) -> LadderRules:
    """Ladder thresholds from a rule body (the defaults for any it leaves out), or why not."""
    try:
        return LadderRules.from_dict({**LadderRules().to_dict(), **body})
    except (TypeError, ValueError) as exc:
        raise InvalidInput("rules", "invalid", f"Ladder rules are invalid: {exc}") from exc


def set_rules(
    session: Session, *, kind: str, body: dict[str, Any], now: datetime, who: Who | None = None
) -> dict[str, Any]:
    """Replace one rule set and push it to every store."""
    if kind not in RULE_KINDS:
        raise InvalidInput("kind", "unknown", f"Rule kinds are {', '.join(RULE_KINDS)}.")
    if kind == "ladder":
        body = ladder_rules_of(body).to_dict()
    if kind == "follow_up":
        try:
            body = FollowUpRules.from_dict({**FollowUpRules().to_dict(), **body}).to_dict()
        except (TypeError, ValueError) as exc:
            raise InvalidInput("rules", "invalid", f"Follow-up rules are invalid: {exc}") from exc
    if kind == "channels":
        unknown = set(body) - set(CHANNELS)
        if unknown or not all(isinstance(v, str) and "{token}" in v for v in body.values()):
            raise InvalidInput(
                "rules",
                "invalid",
                "Channel templates are URLs with {token}, for " + ", ".join(CHANNELS) + ".",
            )
        if not all(is_web_url(v) for v in body.values()):
            raise InvalidInput(
                "rules", "invalid", "Channel templates are http:// or https:// URLs with a host."
            )
        body = {**DEFAULT_CHANNELS, **body}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    row = session.get(RuleSet, kind)
    if row is None:
        session.add(RuleSet(kind=kind, body=text, updated_at=now))
    else:
        row.body, row.updated_at = text, now
    emit(session, [Pending(None, "rules", kind, body)], now=now)
    if who is not None:
        who.record(session, action="rules.set", now=now, target=kind, rules=body)
    return body


@dataclass(frozen=True)
class ErasureResult:
    member_id: str
    erased_at: datetime
    stores: list[str]
    phone_e164: str | None = None  # the erased phone, for what keeps it outside the database


def erase_member(
    session: Session,
    *,
    member_id: str,
    requested_by: str,
    now: datetime,
    master_key: bytes,
    who: Who | None = None,
) -> ErasureResult:
    """Scrub a member's personal data, keep anonymous sale facts, tell every store that holds them."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    stores = sorted(
        session.scalars(select(MemberStore.store_id).where(MemberStore.member_id == member_id))
    )
    if who is not None:  # asked again after it was done: asked, so recorded
        who.record(session, action="member.erase", now=now, target=member_id, stores=stores)
    if member.erased_at is not None:
        return ErasureResult(member_id, member.erased_at, stores)
    session.add(
        Erasure(
            member_id=member_id,
            phone_hash=phone_fingerprint(master_key, member.phone_e164)
            if member.phone_e164
            else None,
            erased_at=now,
            requested_by=requested_by[:64],
        )
    )
    aliases = session.execute(
        select(MemberAlias.local_id, MemberAlias.store_id).where(MemberAlias.member_id == member_id)
    ).all()
    codes = [member.member_code, *session.scalars(
        select(MemberAlias.member_code).where(MemberAlias.member_id == member_id)
    )]  # fmt: skip
    member.name = None
    member.birthday = None
    member.wechat_openid = None
    member.wechat_unionid = None
    member.guide_id = None
    member.member_code = "X" + new_member_code()[1:]  # an unused placeholder: codes identify people
    phone = member.phone_e164
    member.phone_e164 = None
    member.erased_at = now
    member.updated_at = now
    session.execute(
        update(MemberAlias).where(MemberAlias.member_id == member_id).values(member_code="")
    )
    session.execute(delete(Consent).where(Consent.member_id == member_id))
    session.execute(delete(RungChange).where(RungChange.member_id == member_id))
    local_ids = sorted({member_id, *(a.local_id for a in aliases)})
    _scrub_history(session, member_id, local_ids, phone, stores)
    forget_code_references(session, codes)
    erase_wecom_links(session, member_id, now)  # WeCom ids go; only a hash stays
    emit(
        session,
        [
            Pending(
                store,
                "member.erased",
                member_id,
                {
                    "member_id": member_id,
                    "local_ids": sorted(a.local_id for a in aliases if a.store_id == store),
                },
            )
            for store in stores
        ],
        now=now,
    )
    return ErasureResult(member_id, now, stores, phone)


ERASED_TABLES = ("member", "member_alias", "consent", "event", "change", "redemption",
                 "rung_change", "wecom_link", "wecom_inbox", "wecom_transfer")  # fmt: skip
_SCRUBBED = {"phone_e164": "", "name": None, "birthday": None, "member_code": ""}


def _scrub_history(
    session: Session, member_id: str, local_ids: list[str], phone: str | None, stores: list[str]
) -> None:
    """No copy of the member's personal data stays in HQ's history either.

    The event log keeps each enrolment fact (its payload hash still answers a replay), with
    the phone, name, birthday and code blanked, as the counters blank their outboxes; the
    feed's old ``member`` changes become ``member.erased`` changes (a counter that reads them
    late erases early); a stored redemption answer loses the member code.
    """
    mentions = [Event.payload.contains(f'"member_id":"{i}"', autoescape=True) for i in local_ids]
    if phone:
        mentions.append(Event.payload.contains(f'"phone_e164":"{phone}"', autoescape=True))
    for event in session.scalars(
        select(Event).where(Event.type == "member.enrolled", or_(*mentions))
    ):
        payload = json.loads(event.payload)
        payload.update({k: v for k, v in _SCRUBBED.items() if k in payload})
        event.payload = json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                   separators=(",", ":"))  # fmt: skip
    by_store = {
        store: {
            "member_id": member_id,
            "local_ids": sorted(
                session.scalars(
                    select(MemberAlias.local_id).where(
                        MemberAlias.member_id == member_id, MemberAlias.store_id == store
                    )
                )
            ),
        }
        for store in stores
    }
    for change in session.scalars(
        select(Change).where(Change.kind == "member", Change.key == member_id)
    ):
        change.kind = "member.erased"
        data = by_store.get(change.store_id or "", {"member_id": member_id, "local_ids": []})
        change.data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for redemption in session.scalars(select(Redemption).where(Redemption.member_id == member_id)):
        answer = json.loads(redemption.response)
        answer["member_code"] = ""
        redemption.response = json.dumps(answer, ensure_ascii=False)


def erasure_status(session: Session, member_id: str) -> ErasureStatus:
    erasure = session.get(Erasure, member_id)
    if erasure is None:
        raise NotFound(f"no erasure for {member_id}")
    stores = session.scalars(
        select(MemberStore.store_id).where(MemberStore.member_id == member_id)
    ).all()
    acks = {
        a.store_id: a.applied_at
        for a in session.scalars(select(ErasureAck).where(ErasureAck.member_id == member_id))
    }
    return {
        "member_id": member_id,
        "erased_at": erasure.erased_at.isoformat(),
        "stores": {s: (acks[s].isoformat() if s in acks else None) for s in sorted(stores)},
    }


def consent_history(session: Session, member_id: str) -> ConsentHistory:
    """Every consent decision recorded for a member, oldest first, with where and by whom:
    a grant recorded at another store (after a merge by phone) is visible as that store's."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id[:64]}")
    rows = session.scalars(
        select(Consent).where(Consent.member_id == member_id).order_by(Consent.id)
    )
    return {
        "member_id": member_id,
        "consents": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "source": c.source,
                "store_id": c.store_id,
                "staff_id": c.staff_id,
                "notice": {
                    "notice_id": c.notice_id,
                    "version": c.notice_version,
                    "language": c.notice_language,
                    "text_hash": c.notice_hash,
                },
                "recorded_at": c.recorded_at.isoformat() + "Z",
            }
            for c in rows
        ],
    }
