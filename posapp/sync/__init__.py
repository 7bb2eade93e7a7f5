"""The counter's side of sync: push the outbox to HQ, apply HQ's changes, never block the till."""
