"""The counter window checks, before Qt aborts, that Qt's xcb platform plugin can load.

The libraries are made unavailable for real: the process runs in a private mount
namespace where they are not in the system's library folder, so the dynamic loader cannot
find them, exactly as on a machine without their packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sysdeps import hiding, lib_dir, qt_xcb_problem, require, unshare_problem

CURSOR = ("libxcb-cursor.so*",)


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"QT_QPA_PLATFORM", "POSAPP_DATA_DIR"}}
    env["DISPLAY"] = ":97"  # nothing listens there: the check must answer before Qt connects
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _without(
    patterns: tuple[str, ...], argv: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    require(unshare_problem())
    with hiding(argv, files={lib_dir(): patterns}) as command:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_without_libxcb_cursor_the_window_names_the_package_and_exits_before_qt(
    tmp_path: Path,
) -> None:
    data = tmp_path / "till"
    run = _without(CURSOR, [sys.executable, "-m", "posapp", "--data-dir", str(data)], _env())
    assert run.returncode == 1, run.stderr
    assert "libxcb-cursor.so.0" in run.stderr
    assert "Debian/Ubuntu: sudo apt-get install libxcb-cursor0" in run.stderr
    assert "Fedora:        sudo dnf install xcb-util-cursor" in run.stderr
    assert "platform plugin could be initialized" not in run.stderr  # Qt never got to abort
    assert not data.exists()  # nothing was created on the way out


def test_the_same_hidden_library_makes_qt_itself_abort() -> None:
    """The check's answer is the loader's: without the check, Qt aborts in that world."""
    code = "from PySide6.QtWidgets import QApplication; QApplication([])"
    run = _without(CURSOR, [sys.executable, "-c", code], _env(QT_QPA_PLATFORM="xcb"))
    assert run.returncode != 0
    assert "xcb-cursor0 or libxcb-cursor0 is needed" in run.stderr


def test_the_self_test_checks_xcb_when_asked_for_and_runs_off_screen_without_it() -> None:
    argv = [sys.executable, "-m", "posapp", "--self-test"]
    on_xcb = _without(CURSOR, argv, _env(QT_QPA_PLATFORM="xcb"))
    assert on_xcb.returncode == 1 and "sudo apt-get install libxcb-cursor0" in on_xcb.stderr
    off_screen = _without(CURSOR, argv, _env(DISPLAY=None))
    assert off_screen.returncode == 0, off_screen.stderr[-2000:]
    assert "self-test invite: ok" in off_screen.stdout


def test_with_the_libraries_but_no_display_it_says_so(tmp_path: Path) -> None:
    require(qt_xcb_problem())
    run = subprocess.run(
        [sys.executable, "-m", "posapp", "--data-dir", str(tmp_path / "till")],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(DISPLAY=None, WAYLAND_DISPLAY=None),
    )
    assert run.returncode == 1
    assert "DISPLAY is not set" in run.stderr


@pytest.mark.parametrize("platform", ["offscreen", "wayland", "minimal"])
def test_other_platforms_are_not_checked_for_xcb(platform: str) -> None:
    from posapp.qtcheck import platform_problem

    assert platform_problem({"QT_QPA_PLATFORM": platform, "PATH": os.environ["PATH"]}) is None
