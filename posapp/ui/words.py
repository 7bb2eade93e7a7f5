"""The shop-floor words (``shared/GLOSSARY.md``) as the screen shows them, translated.

Services speak in rules (``field``/``rule``) with an English message; the screen shows
the translated sentence for a rule it knows and the service's own message otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from posapp.domain.errors import InvalidInput
from posapp.domain.follow_up import Kind
from posapp.domain.ladder import Channel, MoveReason, Rung
from posapp.domain.roles import Role
from posapp.printing import PrintFailed
from posapp.services.follow_ups import RungStep
from posapp.services.wecom_contacts import WeComContact
from posapp.store.db import StorageError

_UNEXPECTED = QT_TRANSLATE_NOOP("errors", "Something went wrong; nothing was lost. Details: %1")
_RUNGS = {
    Rung.WALK_IN: QT_TRANSLATE_NOOP("words", "walk-in"),
    Rung.MEMBER: QT_TRANSLATE_NOOP("words", "member"),
    Rung.REGULAR: QT_TRANSLATE_NOOP("words", "regular"),
    Rung.SUPER_MEMBER: QT_TRANSLATE_NOOP("words", "super-member"),
}
# Why HQ moved a customer between rungs (its record, shown in My customers).
_MOVE_REASONS = {
    MoveReason.ENROLLED: QT_TRANSLATE_NOOP("words", "joined"),
    MoveReason.CONSENT: QT_TRANSLATE_NOOP("words", "membership consent"),
    MoveReason.GUIDE_ASSIGNED: QT_TRANSLATE_NOOP("words", "guide assigned"),
    MoveReason.GUIDE_REMOVED: QT_TRANSLATE_NOOP("words", "guide removed"),
    MoveReason.REFERRAL: QT_TRANSLATE_NOOP("words", "referral"),
    MoveReason.PURCHASES: QT_TRANSLATE_NOOP("words", "purchases"),
    MoveReason.LAPSED: QT_TRANSLATE_NOOP("words", "no visit for a long time"),
    MoveReason.RULES: QT_TRANSLATE_NOOP("words", "ladder rules changed"),
}
_RUNG_HISTORY = QT_TRANSLATE_NOOP("words", "Rung history:")
_CHANNELS = {
    Channel.MINI_PROGRAM: QT_TRANSLATE_NOOP("words", "mini-program"),
    Channel.MICRO_MALL: QT_TRANSLATE_NOOP("words", "micro-mall"),
    Channel.APP: QT_TRANSLATE_NOOP("words", "app"),
    Channel.GUIDE_CONTACT: QT_TRANSLATE_NOOP("words", "contact your guide"),
}
# What the customer is asked to do, on the counter screen and the customer display.
_CALLS = {
    Channel.MINI_PROGRAM: QT_TRANSLATE_NOOP("words", "Scan to join as a member"),
    Channel.MICRO_MALL: QT_TRANSLATE_NOOP("words", "Scan to shop our micro-mall"),
    Channel.APP: QT_TRANSLATE_NOOP("words", "Scan to get the app"),
    Channel.GUIDE_CONTACT: QT_TRANSLATE_NOOP("words", "Scan to add your guide"),
}
_REFERRAL = QT_TRANSLATE_NOOP("words", "Your referral code: friends scan to join")
_PURPOSES = {
    "membership": QT_TRANSLATE_NOOP("words", "Membership (required)"),
    "marketing": QT_TRANSLATE_NOOP("words", "Marketing messages"),
    "guide_contact": QT_TRANSLATE_NOOP("words", "Contact by my guide"),
}
_ROLES: dict[str, str] = {
    Role.CASHIER: QT_TRANSLATE_NOOP("words", "cashier"),
    Role.GUIDE: QT_TRANSLATE_NOOP("words", "guide"),
    Role.MANAGER: QT_TRANSLATE_NOOP("words", "store manager"),
}
_KINDS = {
    Kind.THANK_YOU: QT_TRANSLATE_NOOP("words", "thank-you"),
    Kind.CARE_CHECK: QT_TRANSLATE_NOOP("words", "care check"),
    Kind.REPURCHASE: QT_TRANSLATE_NOOP("words", "repurchase reminder"),
    Kind.BIRTHDAY: QT_TRANSLATE_NOOP("words", "birthday"),
    Kind.WIN_BACK: QT_TRANSLATE_NOOP("words", "win-back"),
}
_ERRORS = {
    ("phone", "empty"): QT_TRANSLATE_NOOP("errors", "Enter a phone number."),
    ("phone", "too_short"): QT_TRANSLATE_NOOP("errors", "The phone number has too few digits."),
    ("phone", "too_long"): QT_TRANSLATE_NOOP(
        "errors", "The phone number has at most %1 characters; this has %2."
    ),
    ("phone", "mobile_too_short"): QT_TRANSLATE_NOOP(
        "errors", "A mobile number has %1 digits; this has %2 (too few digits)."
    ),
    ("phone", "mobile_too_long"): QT_TRANSLATE_NOOP(
        "errors", "A mobile number has %1 digits; this has %2 (too many digits)."
    ),
    ("phone", "bad_character"): QT_TRANSLATE_NOOP(
        "errors", "The phone number contains a character that is not a digit."
    ),
    ("phone", "extension_or_letters"): QT_TRANSLATE_NOOP(
        "errors", "The phone number has letters or an extension."
    ),
    ("phone", "unknown_country"): QT_TRANSLATE_NOOP(
        "errors", "The phone number has an unknown country code."
    ),
    ("phone", "unparseable"): QT_TRANSLATE_NOOP("errors", "This is not a phone number."),
    ("phone", "not_valid"): QT_TRANSLATE_NOOP("errors", "No such mobile number exists."),
    ("phone", "not_mobile"): QT_TRANSLATE_NOOP(
        "errors", "Only mobile numbers can be used (this is a landline)."
    ),
    ("query", "too_long"): QT_TRANSLATE_NOOP(
        "errors", "A phone, member code or name has at most %1 characters; this has %2."
    ),
    ("query", "control_character"): QT_TRANSLATE_NOOP(
        "errors", "The scan was garbled: scan it again."
    ),
    ("member_code", "check_digit"): QT_TRANSLATE_NOOP(
        "errors", "Member code failed its check digit: scan it again."
    ),
    ("consent", "membership_required"): QT_TRANSLATE_NOOP(
        "errors", "Membership needs the customer's consent: tick it only if they agree."
    ),
    ("consent", "guardian_required"): QT_TRANSLATE_NOOP(
        "errors", "Customers under 14 can join only with a guardian's consent."
    ),
    ("amount", "not_a_number"): QT_TRANSLATE_NOOP("errors", "The amount is not a number."),
    ("amount", "negative"): QT_TRANSLATE_NOOP("errors", "The amount cannot be negative."),
    ("amount", "zero"): QT_TRANSLATE_NOOP(
        "errors",
        "¥0.00 is recorded only as a free gift: type the amount paid, or press F4 again to"
        " record this gift.",
    ),
    ("amount", "too_large"): QT_TRANSLATE_NOOP("errors", "The amount is too large."),
    ("amount", "too_long"): QT_TRANSLATE_NOOP(
        "errors", "An amount has at most %1 characters; this has %2."
    ),
    ("amount", "too_precise"): QT_TRANSLATE_NOOP("errors", "Amounts have at most two decimals."),
    ("receipt_no", "empty"): QT_TRANSLATE_NOOP("errors", "Enter the receipt number."),
    ("receipt_no", "too_long"): QT_TRANSLATE_NOOP(
        "errors", "A receipt number has at most %1 characters; this has %2."
    ),
    ("receipt_no", "bad_character"): QT_TRANSLATE_NOOP(
        "errors", "Receipt numbers hold only letters, digits and . _ / -"
    ),
    ("name", "too_long"): QT_TRANSLATE_NOOP(
        "errors", "A name has at most %1 characters; this has %2."
    ),
    ("name", "control_character"): QT_TRANSLATE_NOOP(
        "errors", "The name contains a hidden control character."
    ),
    ("birthday", "in_future"): QT_TRANSLATE_NOOP("errors", "The birthday is in the future."),
    ("birthday", "too_old"): QT_TRANSLATE_NOOP("errors", "The birthday is too far in the past."),
    ("pin", "wrong"): QT_TRANSLATE_NOOP("errors", "Wrong PIN: %1 tries left."),
    ("pin", "locked"): QT_TRANSLATE_NOOP("errors", "Too many wrong PINs: locked for %1 minutes."),
    ("pin", "locked_out"): QT_TRANSLATE_NOOP(
        "errors", "Too many wrong PINs: try again in %1 minute(s)."
    ),
    ("staff", "not_allowed"): QT_TRANSLATE_NOOP(
        "errors", "Only a store manager may do this. The attempt was recorded."
    ),
    ("printer", "not_configured"): QT_TRANSLATE_NOOP(
        "errors", "No receipt printer is set up (F10, settings)."
    ),
    ("printer", "bad_config"): QT_TRANSLATE_NOOP(
        "errors", "The printer settings are not usable: check them in settings (F10)."
    ),
    ("printer", "offline"): QT_TRANSLATE_NOOP(
        "errors", "The printer does not answer: is it on, plugged in and online?"
    ),
    ("printer", "out_of_paper"): QT_TRANSLATE_NOOP("errors", "The printer is out of paper."),
    ("printer", "failed"): QT_TRANSLATE_NOOP("errors", "The printer stopped part-way."),
    ("sync", "unsynced"): QT_TRANSLATE_NOOP(
        "errors", "Some sales and members have not reached HQ yet: sync first, or ask a manager."
    ),
}


def _t(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


def rung_name(rung: str) -> str:
    try:
        return _t("words", _RUNGS[Rung(rung)])
    except ValueError:
        return rung


def move_reason_name(reason: str) -> str:
    try:
        return _t("words", _MOVE_REASONS[MoveReason(reason)])
    except ValueError:
        return reason  # a newer HQ's reason: its code, rather than nothing


def rung_step_text(step: RungStep) -> str:
    """One rung change: "2026-11-02 会员 → 老顾客 (消费)"."""
    return (
        f"{step.on:%Y-%m-%d} {rung_name(step.from_rung)} → {rung_name(step.to_rung)}"
        f" ({move_reason_name(step.reason)})"
    )


def rung_history_title() -> str:
    return _t("words", _RUNG_HISTORY)


def channel_name(channel: Channel) -> str:
    return _t("words", _CHANNELS[channel])


def call_to_action(channel: Channel, *, referral: bool = False) -> str:
    return _t("words", _REFERRAL if referral else _CALLS[channel])


def purpose_name(purpose: str) -> str:
    return _t("words", _PURPOSES.get(purpose, purpose))


def kind_name(kind: Kind) -> str:
    return _t("words", _KINDS[kind])


def role_name(role: str) -> str:
    return _t("words", _ROLES.get(role, role))


def explain(error: BaseException) -> str:
    """One sentence for the cashier: what went wrong and, where it helps, what to do."""
    if isinstance(error, InvalidInput):
        known = _ERRORS.get((error.field, error.rule))
        if known is None:
            return error.message
        first = error.limit if error.limit is not None else getattr(error, "count", "")
        second = "" if error.actual is None else error.actual
        return _t("errors", known).replace("%1", str(first)).replace("%2", str(second))
    if isinstance(error, PrintFailed):
        known = _ERRORS.get(("printer", error.rule))
        return _t("errors", known) if known else error.message
    if isinstance(error, StorageError):
        return error.message
    return _t("errors", _UNEXPECTED).replace("%1", type(error).__name__)


_WECOM_OF = QT_TRANSLATE_NOOP("words", "WeCom contact of %1 since %2")
_WECOM_NOT_YET = QT_TRANSLATE_NOOP("words", "Not a WeCom contact yet")
_WECOM_SOMEONE = QT_TRANSLATE_NOOP("words", "a guide")


def wecom_contact_text(contact: WeComContact | None) -> str:
    """HQ's word on the member's WeCom contact, as the card and My customers say it."""
    if contact is None:
        return _t("words", _WECOM_NOT_YET)
    guide = contact.guide_name or _t("words", _WECOM_SOMEONE)
    return _t("words", _WECOM_OF).replace("%1", guide).replace("%2", f"{contact.since:%Y-%m-%d}")
