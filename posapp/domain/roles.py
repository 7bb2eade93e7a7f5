"""What each role at the counter may do. Roles come from HQ's roster; the rules live here."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASHIER = "cashier"
    GUIDE = "guide"
    MANAGER = "manager"


class Permission(StrEnum):
    """Actions only some roles may take; every use and every refusal is audited."""

    REVEAL_PHONE = "reveal_phone"
    CHANGE_SETTINGS = "change_settings"
    REQUEST_ERASURE = "request_erasure"
    VIEW_DASHBOARD = "view_dashboard"
    OVERRIDE_SYNC_GUARD = "override_sync_guard"
    REASSIGN_CUSTOMER = "reassign_customer"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.CASHIER: frozenset(),
    Role.GUIDE: frozenset(),
    Role.MANAGER: frozenset(Permission),
}


# Who may be a customer's guide (导购): never a cashier, unless HQ's roster makes them a guide.
GUIDE_ROLES = frozenset({Role.GUIDE, Role.MANAGER})


def may_guide(role: str | None) -> bool:
    """Whether staff of this role are offered as, and credited as, a customer's guide."""
    return role in GUIDE_ROLES


def may(role: str | None, permission: Permission) -> bool:
    """Unknown roles may do nothing special: a roster typo must not grant a manager's rights."""
    try:
        return permission in _GRANTS[Role(role or "")]
    except ValueError:
        return False
