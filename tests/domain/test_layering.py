"""Imports point down only: no Qt below the UI, no SQL or I/O in the domain, HQ apart.

The walk reads every source file with ``ast`` (nothing is imported), resolves relative
imports, and also sees ``importlib.import_module("...")`` / ``__import__("...")`` with a
literal name, so a layer cannot be crossed by a spelling the check does not read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "posapp"
BELOW_UI = ["domain", "store", "services", "sync", "protocol", "hq", "intake", "printing"]
QT = ("PySide6", "shiboken6")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> list[str]:
    """Absolute names of everything ``source`` (the text of ``module``) imports."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            found.append(target)
            found += [f"{target}.{alias.name}" for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in ("import_module", "__import__") and literal:
                found.append(first.value)
    return found


def _sources(folder: str) -> list[Path]:
    target = PACKAGE / folder
    if target.is_dir():
        return sorted(target.rglob("*.py"))
    module = PACKAGE / f"{folder}.py"
    return [module] if module.exists() else []


def _imports(folder: str) -> list[tuple[Path, str]]:
    found = []
    for path in _sources(folder):
        module = _module_name(path)
        names = imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        found += [(path, name) for name in names]
    return found


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    return sorted(
        {
            f"{path.relative_to(PACKAGE)} imports {name}"
            for path, name in _imports(folder)
            if any(name == b or name.startswith(b + ".") for b in banned)
        }
    )


@pytest.mark.parametrize("folder", BELOW_UI)
def test_no_qt_below_the_ui(folder: str) -> None:
    assert _offenders(folder, (*QT, "posapp.ui")) == []


def test_domain_is_pure() -> None:
    banned = (
        "sqlalchemy",
        "alembic",
        "requests",
        "posapp.store",
        "posapp.services",
        "posapp.ui",
        "posapp.sync",
        "posapp.intake",
        "posapp.hq",
        "posapp.printing",
        "posapp.settings",
    )
    assert _offenders("domain", banned) == []


def test_hq_never_imports_the_clients_store_or_ui() -> None:
    assert _offenders("hq", ("posapp.store", "posapp.ui")) == []


def test_protocol_imports_nothing_of_ours() -> None:
    ours = [n for _, n in _imports("protocol") if n.startswith("posapp")]
    assert [n for n in ours if not n.startswith("posapp.protocol")] == []


def test_the_walk_sees_the_code() -> None:
    # Guards the guard: if the package moved, every check above would pass vacuously.
    assert len(_sources("domain")) >= 9
    assert any(name == "phonenumbers" for _, name in _imports("domain"))
    assert any(name.startswith("sqlalchemy") for _, name in _imports("store"))
    assert any(name.startswith("posapp.domain") for _, name in _imports("hq"))


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import PySide6.QtCore", "posapp.store.db", "PySide6.QtCore"),
        ("from PySide6 import QtWidgets", "posapp.store.db", "PySide6.QtWidgets"),
        ("from shiboken6 import isValid", "posapp.sync.worker", "shiboken6"),
        ("from ..store import models", "posapp.hq.feed", "posapp.store.models"),
        ("from ..ui.main import Window", "posapp.hq.feed", "posapp.ui.main"),
        ("from .. import store", "posapp.domain.phone", "posapp.store"),
        ("from .errors import InvalidInput", "posapp.domain.phone", "posapp.domain.errors"),
        (
            "import importlib\nimportlib.import_module('sqlalchemy')",
            "posapp.domain.x",
            "sqlalchemy",
        ),
        ("__import__('PySide6')", "posapp.intake.server", "PySide6"),
        ("def f():\n    import requests", "posapp.domain.x", "requests"),
    ],
)
def test_the_walk_reads_every_way_of_importing(source: str, module: str, expected: str) -> None:
    assert expected in imports_of(source, module)


def test_relative_imports_in_a_package_init_resolve_from_the_package() -> None:
    assert "posapp.hq.models" in imports_of("from .models import Member", "posapp.hq", True)
    assert "posapp.store" in imports_of("from ..store import x", "posapp.hq", True)


def _runtime_imports(source: str, module: str, is_package: bool) -> list[str]:
    """``imports_of`` without what is imported only for type checkers (``if TYPE_CHECKING:``),
    which never runs and so never closes a circle."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                node.body = [ast.Pass()]
    return imports_of(ast.unparse(tree), module, is_package)


def module_graph() -> dict[str, set[str]]:
    """Each module of posapp → the posapp modules it imports (anywhere in it, even in a function)."""
    paths = {_module_name(path): path for path in _sources("")}
    return {
        module: {
            name
            for name in _runtime_imports(
                path.read_text(encoding="utf-8"), module, path.name == "__init__.py"
            )
            # A module's own parent packages are initialised before it whatever it imports.
            if name in paths and name != module and not module.startswith(name + ".")
        }
        for module, path in paths.items()
    }


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import one another, directly or through others (the
    strongly connected components of more than one module, by Tarjan's walk)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(circles)


def test_no_import_circle_in_posapp() -> None:
    # A circle means two modules are one idea split in two, or one reaching up into its caller.
    graph = module_graph()
    assert len(graph) > 100 and "posapp.hq.ingest" in graph  # the walk sees the package
    assert import_circles(graph) == []


def test_the_circle_check_finds_circles_direct_and_through_others() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert import_circles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert import_circles({"a": {"b"}, "b": set()}) == []


def test_imports_for_type_checkers_only_close_no_circle() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from posapp.hq.models import Member\n"
        "def f():\n    from posapp.hq.feed import emit\n"
    )
    found = _runtime_imports(source, "posapp.hq.x", False)
    assert "posapp.hq.feed" in found and "posapp.hq.models" not in found
