"""posapp: the counter companion that recognises members and invites walk-ins to join."""

__version__ = "0.1.0"
