"""System packages some tests need, in one place.

On a developer's fresh machine (only python3 and make) a test whose system package is
missing skips, with a reason naming the package and the command that installs it; under
CI (``CI=true``, where ``.ci/run`` installs them all) the same test fails instead. The run
ends with one line saying what was skipped and why (``pytest_terminal_summary`` in
``conftest.py``).
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from posapp import qtcheck

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require(problem: str | None) -> None:
    """Nothing when ``problem`` is None; else skip here, fail in CI. ``problem`` says what
    is missing and how to install it: 'xvfb-run is missing (apt-get install xvfb)'."""
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"needed in CI: {problem}", pytrace=False)
    pytest.skip(problem)


def xvfb_problem() -> str | None:
    if shutil.which("xvfb-run") is None:
        return "xvfb-run is missing (apt-get install xvfb)"
    return None


def qt_xcb_problem() -> str | None:
    """What Qt's xcb plugin lacks here, as posapp itself would tell a shop (posapp.qtcheck)."""
    plugin = qtcheck.xcb_plugin()
    if plugin is None:
        return "PySide6's xcb platform plugin (libqxcb.so) is missing from the venv"
    missing = qtcheck.missing_libraries(plugin)
    if not missing:
        return None
    packages = qtcheck.PlatformProblem(missing=tuple(missing)).packages("debian")
    return f"Qt's xcb libraries are missing: {' '.join(missing)} (apt-get install {' '.join(packages)})"


def x_display_problem() -> str | None:
    return xvfb_problem() or qt_xcb_problem()


def browser_problem() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return f"{' and '.join(missing)} missing (apt-get install chromium chromium-driver)"
    return None


def postgres_problem() -> str | None:
    from pgcluster import pg_available

    return pg_available()


def unshare_problem() -> str | None:
    """Tests that hide system files from a process do it in a private mount namespace."""
    if shutil.which("unshare") is None:
        return "unshare is missing (apt-get install util-linux)"
    if os.geteuid() != 0:
        return "hiding system libraries needs root (a private mount namespace: unshare -m)"
    return None


def lib_dir() -> Path:
    """The folder of the system's shared libraries (Debian's multiarch one where it has it)."""
    arch = sysconfig.get_config_var("MULTIARCH")
    for folder in (Path("/usr/lib") / arch if arch else None, Path("/usr/lib64")):
        if folder is not None and folder.is_dir():
            return folder
    return Path("/usr/lib")


@contextmanager
def hiding(
    argv: list[str], *, files: dict[Path, tuple[str, ...]], folders: tuple[Path, ...] = ()
) -> Iterator[list[str]]:
    """``argv`` run in a private mount namespace where ``files`` (folder -> name patterns)
    and whole ``folders`` do not exist, as on a machine without their packages.

    Each folder with hidden files is replaced by a folder of links to the real entries
    minus the hidden ones (the real folder stays reachable beside the links, in a temp dir
    every user can traverse: the PostgreSQL server runs as another user); a hidden folder
    becomes an empty tmpfs. Only that process tree sees it; needs root (unshare -m).
    """
    work = Path(tempfile.mkdtemp(prefix="posapp-hidden-"))
    work.chmod(0o755)
    steps: list[str] = []

    def q(path: Path) -> str:
        return shlex.quote(str(path))

    try:
        for n, (folder, patterns) in enumerate(files.items()):
            real, links = work / f"real-{n}", work / f"links-{n}"
            real.mkdir()
            links.mkdir()
            for entry in os.listdir(folder):
                if not any(fnmatch.fnmatch(entry, p) for p in patterns):
                    (links / entry).symlink_to(real / entry)
            links.chmod(0o755)
            steps += [f"mount --bind {q(folder)} {q(real)}", f"mount --bind {q(links)} {q(folder)}"]
        steps += [f"mount -t tmpfs tmpfs {q(f)}" for f in folders if f.is_dir()]
        script = " && ".join([*steps, 'exec "$@"'])
        yield ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def page_replaced(page: Any) -> Callable[[Any], bool]:
    """A wait condition: the page ``page`` (its ``html`` element) has been replaced by the
    answer. Chromium reports an element of a page being torn down either as stale or as a
    node that "does not belong to the document"; both mean the old page is gone."""

    def gone(_driver: Any) -> bool:
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc.msg):
                return True
            raise
        return False

    return gone
