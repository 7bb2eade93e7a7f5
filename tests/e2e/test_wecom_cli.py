"""``posapp hq wecom …`` against the fake WeCom: a guide's userid (their card QR made at
the fake), a departure, one round of the worker's work; without WeCom configured, a plain
refusal and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from posapp.hq.wecom.fake import FakeWeCom


def hq(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POSAPP_HQ_")}
    clean |= {"POSAPP_HQ_DATA_DIR": str(home), **(env or {})}
    return subprocess.run([sys.executable, "-m", "posapp", "hq", *args], capture_output=True,
                          text=True, env=clean, timeout=120)  # fmt: skip


def test_the_wecom_commands_set_a_userid_mark_a_departure_and_run_a_round(tmp_path: Path) -> None:
    home = tmp_path / "hq"
    off = hq(home, "wecom", "run")
    assert off.returncode == 2 and "not configured" in off.stderr and "Traceback" not in off.stderr
    assert hq(home, "store", "add", "s1", "--name", "静安店").returncode == 0
    assert hq(home, "staff", "add", "s1", "--name", "王芳", "--role", "guide", "--pin", "2468",
              "--id", "g1").returncode == 0  # fmt: skip
    with FakeWeCom() as fake:
        env = fake.settings_env()
        done = hq(home, "wecom", "userid", "g1", "wangfang", env=env)
        assert done.returncode == 0 and "card QR http" in done.stdout, done.stderr
        assert [w["user"] for w in fake.ways.values()] == [["wangfang"]]
        unknown = hq(home, "wecom", "userid", "nobody", "x", env=env)
        assert unknown.returncode == 2 and "no staff" in unknown.stderr
        gone = hq(home, "wecom", "departed", "g1", env=env)
        assert gone.returncode == 0 and "departed" in gone.stdout
        round_ = hq(home, "wecom", "run", env=env)
        assert round_.returncode == 0 and "callbacks processed: 0" in round_.stdout, round_.stderr
