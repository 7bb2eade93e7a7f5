"""Imports point down only: no Qt below the UI, no SQL or I/O in the domain, HQ apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "posapp"
BELOW_UI = ["domain", "store", "services", "sync", "protocol", "hq", "intake", "printing"]


def _imports(folder: str) -> list[tuple[Path, str]]:
    found = []
    for source in sorted((PACKAGE / folder).rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(source, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((source, node.module))
    return found


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path, name in _imports(folder)
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]


@pytest.mark.parametrize("folder", BELOW_UI)
def test_no_qt_below_the_ui(folder: str) -> None:
    assert _offenders(folder, ("PySide6", "shiboken6", "posapp.ui")) == []


def test_domain_is_pure() -> None:
    banned = ("sqlalchemy", "alembic", "requests", "sqlite3", "posapp.store", "posapp.services",
              "posapp.sync", "posapp.intake", "posapp.hq", "posapp.settings", "socket", "http")  # fmt: skip
    assert _offenders("domain", banned) == []


def test_hq_never_imports_the_clients_store() -> None:
    banned = ("posapp.store", "posapp.services", "posapp.sync", "posapp.intake")
    assert _offenders("hq", banned) == []


def test_protocol_imports_nothing_of_ours() -> None:
    ours = [n for _, n in _imports("protocol") if n.startswith("posapp")]
    assert [n for n in ours if not n.startswith("posapp.protocol")] == []


def test_the_walk_sees_the_code() -> None:
    # Guards the guard: if the package moved, every check above would pass vacuously.
    assert any(name == "phonenumbers" for _, name in _imports("domain"))
    assert any(name.startswith("sqlalchemy") for _, name in _imports("store"))
