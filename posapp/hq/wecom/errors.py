"""What a WeCom failure becomes at HQ: refused (a rule of ours) or unavailable (try later)."""

from __future__ import annotations

# WeCom's codes for a refusal HQ can name, and the name (global error codes, path 90313).
RULES = {
    40001: "bad_secret",
    40013: "bad_corp_id",
    40096: "unknown_customer",
    40098: "guide_not_verified",
    40100: "transfer_in_progress",
    40128: "transfer_limit",
    40129: "transfer_in_progress",
    41054: "guide_not_active",
    60111: "unknown_guide",
    84061: "not_a_contact",
    84074: "no_contact_permission",
    41001: "no_access_token",
    48002: "api_forbidden",
    60020: "ip_not_allowed",
}
# "Too many calls" and "system busy": worth another try after a wait.
RETRYABLE = frozenset({45009, 45033, -1})
# The access token is wrong or expired: fetched again at once (it was kept too long, or
# another process's refresh made it stale).
TOKEN_REFUSED = frozenset({40014, 42001})


class WeComError(Exception):
    """Anything WeCom did not do; callers catch this, never let it reach sync or redeem."""


class WeComRefused(WeComError):
    """WeCom answered and said no: retrying will not help."""

    def __init__(self, code: int, message: str = "") -> None:
        self.code = code
        self.rule = RULES.get(code, "refused")
        super().__init__(f"WeCom refused ({code}, {self.rule}){': ' + message if message else ''}")


class WeComUnavailable(WeComError):
    """WeCom could not be reached, was busy every time, or answered garbage: try later."""


class BadSignature(WeComError):
    """A callback that was not signed with the corp's token and key: answered 403."""
