"""The frozen app: build the PyInstaller bundle and run its self-test, as an installer would.

Slow (a minute or two of PyInstaller), but it runs in CI: a bundle that builds and still
cannot find its translations, stylesheet, notices or migrations only shows here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posapp import __version__
from posapp.store.migrate import head_revision

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "installers" / "posapp.spec"
EXE = ".exe" if sys.platform == "win32" else ""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not list((ROOT / "resources" / "i18n").glob("*.qm")):
        pytest.fail("no compiled translations: run 'make translations' (make test does)")
    work = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    built = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(SPEC)],
        capture_output=True, text=True, timeout=1200, cwd=ROOT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]
    sys.stderr.write(f"bundle built in {time.monotonic() - started:.0f} s\n")
    return work / "dist" / "posapp"


def _run(program: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home)}
    env.pop("POSAPP_DATA_DIR", None)
    env.pop("PYTHONPATH", None)  # the bundle must not lean on the source tree
    return subprocess.run(
        [str(program), *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_frozen_app_passes_its_self_test(bundle: Path, tmp_path: Path) -> None:
    resources = bundle / "_internal" / "resources"
    for wanted in ("i18n/posapp_zh_CN.qm", "style.qss", "icons/posapp-256.png",
                   "notices/privacy-v1.zh-CN.md", "notices/privacy-v1.en.md"):  # fmt: skip
        assert (resources / wanted).is_file(), wanted
    assert not list(resources.rglob("*.ts"))  # sources stay behind
    assert not (bundle / "_internal" / "fastapi").exists()  # no HQ server in a counter
    size_mb = (
        sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    )
    sys.stderr.write(f"bundle size {size_mb:.0f} MB\n")
    assert size_mb < 400

    started = time.monotonic()
    result = _run(bundle / f"posapp{EXE}", "--self-test", home=tmp_path)
    sys.stderr.write(f"frozen self-test {time.monotonic() - started:.2f} s\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "self-test identify: ok", "self-test sale: ok", "self-test invite: ok",
    ]  # fmt: skip
    assert "no compiled translation" not in result.stderr


@pytest.mark.slow
def test_the_frozen_command_migrates_and_reports(bundle: Path, tmp_path: Path) -> None:
    cli = bundle / f"posapp-cli{EXE}"
    version = _run(cli, "--version", home=tmp_path)
    assert version.returncode == 0 and __version__ in version.stdout
    data = tmp_path / "counter"
    doctor = _run(cli, "--data-dir", str(data), "doctor", home=tmp_path)
    assert doctor.returncode == 0, doctor.stderr
    assert f"schema:     {head_revision()}" in doctor.stdout  # Alembic found its scripts
    assert f"log:        {data / 'logs' / 'posapp.log'}" in doctor.stdout
    # An old database upgrades in the frozen app too.
    old = tmp_path / "old"
    old.mkdir()
    shutil.copyfile(ROOT / "tests" / "fixtures" / "schemas" / "posapp-0001.db", old / "posapp.db")
    upgraded = _run(cli, "--data-dir", str(old), "doctor", home=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "member:         3" in upgraded.stdout and "pending sync:   5" in upgraded.stdout
    assert list((old / "backups").glob("pre-migrate-0001-*.db"))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")
def test_the_frozen_window_checks_qts_xcb_libraries_before_qt(bundle: Path, tmp_path: Path) -> None:
    """The installed app runs the same start-up check: with libxcb-cursor gone from the
    system (a private mount namespace), it names the package, unless it carries its own."""
    from sysdeps import hiding, lib_dir, require, unshare_problem

    require(unshare_problem())
    own = list((bundle / "_internal").rglob("libxcb-cursor.so*"))
    env = {k: v for k, v in os.environ.items() if k not in {"POSAPP_DATA_DIR", "PYTHONPATH"}}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=":97", HOME=str(tmp_path))
    argv = [str(bundle / f"posapp-cli{EXE}"), "--self-test"]
    with hiding(argv, files={lib_dir(): ("libxcb-cursor.so*",)}) as command:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if own:  # bundled beside Qt: nothing for the shop to install, and nothing is said
        assert "libxcb-cursor.so.0" not in run.stderr, run.stderr
    else:
        assert run.returncode == 1, run.stderr[-2000:]
        assert "sudo apt-get install libxcb-cursor0" in run.stderr
