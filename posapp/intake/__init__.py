"""Sales arriving from the shop's POS: a token-protected HTTP endpoint on the loopback only."""

from __future__ import annotations

from posapp.intake.server import (
    HEALTH_PATH,
    MAX_BODY_BYTES,
    SALES_PATH,
    IntakeServer,
    SaleIn,
    check_loopback,
)

__all__ = [
    "HEALTH_PATH",
    "MAX_BODY_BYTES",
    "SALES_PATH",
    "IntakeServer",
    "SaleIn",
    "check_loopback",
]
