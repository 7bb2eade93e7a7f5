"""Frozen entry point of the ``posapp`` command (console), beside the windowed one."""

from posapp.cli import main

raise SystemExit(main())
