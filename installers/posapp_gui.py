"""Frozen entry point of the counter window (windowed: no console on Windows)."""

from posapp.cli import main

raise SystemExit(main())
