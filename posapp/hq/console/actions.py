"""What the console changes, each with its audit row in the same transaction: stores and
their staff, a member's guide, a member's own data handed over, rule sets. The rules, and
the audit rows of the changes, are ``posapp.hq.admin``'s and ``assignment``'s (the API's and
the CLI's: ``who=viewer.who``); this adds who may."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from posapp.domain.errors import InvalidInput
from posapp.domain.table_csv import Table
from posapp.hq import admin, assignment, ladder_preview
from posapp.hq.console import audit, directory, users
from posapp.hq.console.users import Forbidden, Role, Viewer
from posapp.hq.ladder_preview import LadderPreview
from posapp.hq.models import Assignment, RuleSet, Sale, Staff


def edit_store(
    session: Session, viewer: Viewer, store_id: str, form: dict[str, str], now: datetime
) -> None:
    viewer.require_manages(store_id)
    store = admin.edit_store(session, store_id=store_id, name=form.get("name", ""),
                             region=form.get("region", "CN").strip(), now=now, who=viewer.who)  # fmt: skip
    zone = form.get("timezone", "").strip()[:64]
    if zone and zone != store.timezone:  # its days from now on; its counters at their next sync
        admin.set_store_timezone(session, store_id=store_id, timezone=zone, now=now,
                                 who=viewer.who)  # fmt: skip


STAFF_CHANGES = ("role", "deactivate", "activate", "pin")


def change_staff(
    session: Session,
    viewer: Viewer,
    store_id: str,
    staff_id: str,
    form: dict[str, str],
    now: datetime,
) -> None:
    """Role, (de)activation or a new PIN for one of the store's staff (never another store's)."""
    viewer.require_manages(store_id)
    staff = session.get(Staff, staff_id)
    if staff is None or staff.store_id != store_id:
        raise admin.NotFound(f"no staff {staff_id[:64]} in {store_id}")
    change = form.get("change", "")
    if change not in STAFF_CHANGES:
        raise InvalidInput("change", "unknown", "Unknown staff change.")
    admin.update_staff(
        session, staff_id=staff.id, now=now,
        role=form.get("role", "") if change == "role" else None,
        active={"deactivate": False, "activate": True}.get(change),
        pin=form.get("pin", "") if change == "pin" else None, who=viewer.who,
    )  # fmt: skip


def change_guide(
    session: Session, viewer: Viewer, member_id: str, guide_id: str, now: datetime
) -> None:
    """A brand admin, or a regional manager for a guide of their stores; WeCom's limit (two
    transfers in 90 days) refuses the third, as for the API."""
    member = directory.require_member(session, viewer, member_id)
    guide = session.get(Staff, guide_id.strip()[:64])
    if guide is None:
        raise InvalidInput("guide", "unknown", "No active guide with this id.")
    viewer.require_manages(guide.store_id)
    assignment.assign_guide(session, member_id=member.id, guide_id=guide.id, now=now,
                            requested_by=viewer.user_id, who=viewer.who)  # fmt: skip


def export_member(
    session: Session, viewer: Viewer, member_id: str, now: datetime
) -> dict[str, Any]:
    """A member's own data, as PIPL art. 45 gives them the right to receive it (audited)."""
    if not viewer.may_reveal_phone:
        raise Forbidden("a member's data export is for the privacy officer")
    member = directory.require_member(session, viewer, member_id)
    audit.record(session, actor=viewer.user_id, action="member.export", now=now, target=member.id,
                 address=viewer.address)  # fmt: skip
    sales = session.scalars(
        select(Sale).where(Sale.member_id == member.id).order_by(Sale.occurred_at)
    )
    moves = session.scalars(
        select(Assignment).where(Assignment.member_id == member.id).order_by(Assignment.assigned_at)
    )
    return {
        "member": {
            "member_id": member.id, "member_code": member.member_code, "name": member.name,
            "phone": member.phone_e164, "birthday": member.birthday.isoformat() if member.birthday else None,
            "rung": member.rung, "enrolled_at": member.enrolled_at.isoformat(),
            "visits": member.visit_count, "lifetime_spend_fen": member.lifetime_spend_fen,
            "guide_id": member.guide_id, "stores": directory.stores_of(session, member.id),
        },
        "consents": admin.consent_history(session, member.id)["consents"],
        "purchases": [{"store_id": s.store_id, "receipt_no": s.receipt_no, "amount_fen": s.amount_fen,
                       "currency": s.currency, "occurred_at": s.occurred_at.isoformat()} for s in sales],
        "guides": [{"from": a.from_guide_id, "to": a.to_guide_id, "at": a.assigned_at.isoformat()}
                   for a in moves],
        "exported_at": now.isoformat(),
    }  # fmt: skip


# --- rules ----------------------------------------------------------------------------------


def current_rules(session: Session) -> dict[str, dict[str, Any]]:
    """Each rule set as HQ holds it, its defaults filled in (what a form shows)."""
    from posapp.domain.follow_up import FollowUpRules
    from posapp.domain.ladder import LadderRules

    defaults = {"ladder": LadderRules().to_dict(), "follow_up": FollowUpRules().to_dict(),
                "channels": dict(admin.DEFAULT_CHANNELS)}  # fmt: skip
    stored = {r.kind: json.loads(r.body) for r in session.scalars(select(RuleSet))}
    return {kind: {**defaults[kind], **stored.get(kind, {})} for kind in admin.RULE_KINDS}


def set_rules(
    session: Session, viewer: Viewer, kind: str, form: dict[str, str], now: datetime
) -> None:
    """A rule set from its form: each field typed as its current value is, then validated by
    ``admin.set_rules`` (the API's and the CLI's validators) and sent to every store."""
    viewer.require(Role.BRAND_ADMIN)
    admin.set_rules(session, kind=kind, body=_rules_of_form(session, kind, form), now=now,
                    who=viewer.who)  # fmt: skip


def preview_ladder(
    session: Session, viewer: Viewer, form: dict[str, str], now: datetime
) -> tuple[dict[str, Any], LadderPreview]:
    """The ladder form's thresholds, checked as saving them checks them, and how many of the
    viewer's members would stand on each rung with them today. Saves nothing, so audits
    nothing; for whoever may change the rules."""
    viewer.require(Role.BRAND_ADMIN)
    rules = admin.ladder_rules_of(_rules_of_form(session, "ladder", form))
    scope = viewer.report_scope(None)
    return rules.to_dict(), ladder_preview.preview_ladder(session, rules, now=now, store_ids=scope)


def _rules_of_form(session: Session, kind: str, form: dict[str, str]) -> dict[str, Any]:
    """A rule set's form as a body: each field typed as its current value is."""
    current = current_rules(session).get(kind)
    if current is None:
        raise admin.NotFound(f"no rule set {kind[:32]}")
    body: dict[str, Any] = {}
    for key, was in current.items():
        raw = form.get(key, "")
        if isinstance(was, bool):
            body[key] = raw == "on"
        elif isinstance(was, int):
            try:
                body[key] = int(raw)
            except ValueError as exc:
                raise InvalidInput(key, "not_a_number", f"{key} must be a whole number.") from exc
        else:
            body[key] = raw.strip()
    return body


# --- stores, counters, people ---------------------------------------------------------------


def add_store(session: Session, viewer: Viewer, form: dict[str, str], now: datetime) -> str:
    viewer.require(Role.BRAND_ADMIN)
    store = admin.add_store(session, store_id=form.get("store_id", "").strip(),
                            name=form.get("name", ""), now=now,
                            region=form.get("region", "CN")[:2] or "CN", who=viewer.who)  # fmt: skip
    return store.id


def device_code(
    session: Session, viewer: Viewer, store_id: str, now: datetime, minutes: int
) -> str:
    """A one-time registration code for a new counter: shown once, only its hash is kept."""
    viewer.require_manages(store_id)
    return admin.device_code(session, store_id=store_id, now=now, minutes=minutes, who=viewer.who)


def add_staff(
    session: Session, viewer: Viewer, store_id: str, form: dict[str, str], now: datetime
) -> None:
    viewer.require_manages(store_id)
    admin.add_staff(session, store_id=store_id, name=form.get("name", ""), role=form.get("role", ""),
                    pin=form.get("pin", ""), now=now, who=viewer.who)  # fmt: skip


def _scope(form: dict[str, str]) -> tuple[str, ...]:
    return tuple(s.strip() for s in form.get("stores", "").split(",") if s.strip())


def add_person(session: Session, viewer: Viewer, form: dict[str, str], now: datetime) -> None:
    """A new console user (the brand admin's People page); ``users.add_user`` audits it."""
    viewer.require(Role.BRAND_ADMIN)
    users.add_user(session, username=form.get("username", ""), password=form.get("password", ""),
                   role=form.get("role", ""), now=now, display_name=form.get("display_name", ""),
                   stores=_scope(form), who=viewer.who)  # fmt: skip


PERSON_CHANGES = ("role", "deactivate", "reactivate", "password")


def change_person(
    session: Session, viewer: Viewer, user_id: str, form: dict[str, str], now: datetime
) -> None:
    """Role and stores, (de)activation or a new password for a console user (brand admin
    only); ``users`` keeps the rules (one active brand admin at least) and audits each."""
    viewer.require(Role.BRAND_ADMIN)
    change = form.get("change", "")
    who: dict[str, Any] = {"now": now, "who": viewer.who}
    if change == "role":
        users.set_role(session, user_id, role=form.get("role", ""), stores=_scope(form), **who)
    elif change == "deactivate":
        users.deactivate(session, user_id, **who)
    elif change == "reactivate":
        users.reactivate(session, user_id, **who)
    elif change == "password":
        users.reset_password(session, user_id, form.get("password", ""), **who)
    else:
        raise InvalidInput("change", "unknown", "Unknown change to a person.")


def export_audit(session: Session, viewer: Viewer, now: datetime) -> Table:
    """The audit log as a CSV table (newest first); the export is itself on the log."""
    viewer.require(Role.BRAND_ADMIN)
    rows = audit.entries(session, limit=100_000)
    audit.record(session, actor=viewer.user_id, action="audit.export", now=now,
                 address=viewer.address, rows=len(rows))  # fmt: skip
    return Table("audit", ("id", "at", "actor", "action", "target", "store_id", "address", "detail"),
                 [(r.id, r.at.isoformat(), r.actor, r.action, r.target, r.store_id, r.address,
                   r.detail) for r in rows])  # fmt: skip
