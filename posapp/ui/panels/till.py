"""What every panel of the counter works with, and the few facts they share."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import QWidget

from posapp.domain.roles import Role, may_guide
from posapp.services.counter import Counter
from posapp.services.members import MemberCard
from posapp.services.staff import SignedIn
from posapp.ui.customer_display import CustomerDisplay
from posapp.ui.tasks import TaskManager


@dataclass(eq=False)
class Till:
    """The counter's services and its one database thread, plus who is at it: the window
    sets ``staff`` and the session panel ``roster``; the card panel sets ``card``."""

    counter: Counter
    tasks: TaskManager
    display: CustomerDisplay | None = None
    staff: SignedIn | None = None
    roster: list[SignedIn] = field(default_factory=list)
    card: MemberCard | None = None  # the member on screen; None: a walk-in
    # With no card: another store's member code scanned offline, which the sale carries.
    code_ref: str | None = None

    @property
    def guides(self) -> list[SignedIn]:
        """Who may be credited as the customer's guide: never a cashier (HQ's roster decides)."""
        guides = [p for p in self.roster if may_guide(p.role)]
        return sorted(guides, key=lambda p: p.role != Role.GUIDE)  # guides, then managers


def mark(widget: QWidget, name: str, value: object) -> None:
    """Set a property the stylesheet selects on, and restyle the widget for it."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
