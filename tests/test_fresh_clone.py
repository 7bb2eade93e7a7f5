"""A fresh machine: a temporary clone, its own venv, ``make test``, with the system packages
that ``.ci/run`` installs hidden from it (xvfb, chromium, PostgreSQL, Qt's xcb libraries).

It must pass, with the tests that need those packages skipped and named in the run's last
lines. The nested run is a subset (``PYTEST_ARGS``): the tests that need a system package,
PostgreSQL through the pgserver wheel, the CLI and the domain; the full suite again would
double CI's time for no new answer (the outer run is the same code).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sysdeps import hiding, lib_dir, require, unshare_problem

ROOT = Path(__file__).resolve().parent.parent
SUBSET = " ".join(
    [
        "tests/domain",
        "tests/test_cli.py",
        "tests/test_qtcheck.py",
        "tests/e2e/test_join_browser.py",
        "tests/hq/test_hq_push.py",
        "-p no:cacheprovider",
    ]
)
# What a new Debian machine of ours lacks until .ci/run installs it.
HIDDEN_BINARIES = ("xvfb-run", "Xvfb", "chromium", "chromedriver")
HIDDEN_LIBRARIES = ("libxcb-cursor.so*", "libxcb-icccm.so*", "libxcb-keysyms.so*")
HIDDEN_FOLDERS = (Path("/usr/lib/postgresql"), Path("/usr/lib/chromium"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_make_test_passes_on_a_fresh_clone_with_only_python_and_make(tmp_path: Path) -> None:
    require(unshare_problem())
    clone = tmp_path / "posapp"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CI", "VIRTUAL_ENV", "PYTHONPATH", "QT_QPA_PLATFORM", "DISPLAY"}
        and not k.startswith(("POSAPP_", "PYTEST_"))
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    started = time.monotonic()
    with hiding(
        ["make", "-C", str(clone), "test", f"PYTEST_ARGS={SUBSET}"],
        files={Path("/usr/bin"): HIDDEN_BINARIES, lib_dir(): HIDDEN_LIBRARIES},
        folders=HIDDEN_FOLDERS,
    ) as command:
        run = subprocess.run(command, capture_output=True, text=True, timeout=1700, env=env)
    took = time.monotonic() - started
    out = run.stdout
    sys.stderr.write(f"fresh clone: make test in {took:.0f} s\n{out[-1500:]}\n")
    assert run.returncode == 0, out[-4000:] + run.stderr[-4000:]
    lines = [line for line in out.splitlines() if line.strip()]
    summary = next(line for line in reversed(lines) if line.startswith("skipped "))
    assert lines.index(summary) > len(lines) - 4  # among the run's last lines
    assert "apt-get install xvfb" in summary
    assert "apt-get install chromium chromium-driver" in summary
    assert "PostgreSQL" not in summary  # the pgserver wheel brought one
    closing = next(line for line in reversed(lines) if line.startswith("=") and " in " in line)
    assert " passed" in closing and "failed" not in closing and "error" not in closing, closing
    assert (clone / ".venv" / "bin" / "posapp").exists()
