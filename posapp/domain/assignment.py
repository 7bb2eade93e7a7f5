"""Which guide owns a customer, and the real-world limit on moving them.

WeCom (企业微信) lets a company transfer an external contact to another staff member at
most twice in 90 days; HQ must refuse a third transfer rather than have WeCom fail it later.
A first assignment (the customer had no guide) is not a transfer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

TRANSFER_LIMIT = 2
TRANSFER_WINDOW = timedelta(days=90)


def transfers_in_window(transfers: Iterable[datetime], now: datetime) -> list[datetime]:
    """The transfers that still count against the limit at ``now``, oldest first."""
    return sorted(t for t in transfers if now - TRANSFER_WINDOW < t <= now)


def next_transfer_allowed(transfers: Iterable[datetime], now: datetime) -> datetime | None:
    """None when a transfer is allowed now; otherwise the moment the oldest counted one expires."""
    counted = transfers_in_window(transfers, now)
    if len(counted) < TRANSFER_LIMIT:
        return None
    return counted[-TRANSFER_LIMIT] + TRANSFER_WINDOW
