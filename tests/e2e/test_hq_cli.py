"""`posapp hq …` as an administrator uses it: zero set-up serve, and the admin commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from hq_load import free_port

OPERATIONS = {
    "health", "registerDevice", "rotateDeviceSecret", "pushEvents", "getChanges", "redeemInvite",
    "eraseMember", "getErasure", "getCaptureReport", "getEnrolmentReport", "getRungReport",
    "getRepurchaseReport", "assignGuide", "getFollowUpReport", "getApplyingStatus", "revokeDevice",
    "getMemberConsents",
    "lookUpMember", "listMemberLookups",  # the look-up of another store's member (issue 15)
    "setGuideWeComUserid", "markGuideDeparted", "getWeComReport",  # WeCom (issue 16)
}  # fmt: skip


def hq(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSAPP_HQ_")}
    env["POSAPP_HQ_DATA_DIR"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "posapp", "hq", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_serve_needs_no_set_up_and_publishes_stable_operation_ids(tmp_path: Path) -> None:
    home = tmp_path / "hq"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSAPP_HQ_")}
    env["POSAPP_HQ_DATA_DIR"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "posapp", "hq", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        spec = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        ops = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
        assert ops == OPERATIONS
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert (home / "hq.db").exists() and (home / "master.key").exists()
    assert oct((home / "master.key").stat().st_mode)[-3:] == "600"


def test_admin_commands(tmp_path: Path) -> None:
    home = tmp_path / "hq"
    assert hq(home, "store", "add", "sh-01", "--name", "上海静安店").returncode == 0
    again = hq(home, "store", "add", "sh-01", "--name", "again")
    assert again.returncode == 2 and "already exists" in again.stderr
    staff = hq(home, "staff", "add", "sh-01", "--name", "王芳", "--role", "guide", "--pin", "2468")
    assert staff.returncode == 0 and "guide" in staff.stdout
    weak = hq(home, "staff", "add", "sh-01", "--name", "李", "--role", "cashier", "--pin", "12")
    assert weak.returncode == 2 and "PIN" in weak.stderr
    code = hq(home, "device-code", "sh-01").stdout.strip()
    assert len(code) == 12 and code.isalnum()
    assert hq(home, "device-code", "nowhere").returncode == 2
    partner = hq(home, "partner-key").stdout.strip()
    assert partner.startswith("p.") and len(partner) > 40
    rules = hq(home, "rules", "set", "ladder", '{"regular_min_purchases": 3}')
    assert rules.returncode == 0 and json.loads(rules.stdout)["regular_min_purchases"] == 3
    bad = hq(home, "rules", "set", "channels", '{"app": "https://no-token.example"}')
    assert bad.returncode == 2 and "{token}" in bad.stderr
    garbage = hq(home, "rules", "set", "ladder", "{not json")
    assert garbage.returncode == 2 and "Traceback" not in garbage.stderr


def test_assign_a_customer_to_a_guide_and_the_wecom_transfer_limit(tmp_path: Path) -> None:
    from sqlalchemy import text

    from posapp.hq.db import HqDatabase

    home = tmp_path / "hq"
    assert hq(home, "store", "add", "sh-01", "--name", "上海静安店").returncode == 0
    for n in range(3):
        added = hq(home, "staff", "add", "sh-01", "--name", f"导购{n}", "--role", "guide",
                   "--pin", "2468", "--id", f"g{n}")  # fmt: skip
        assert added.returncode == 0
    db = HqDatabase(f"sqlite:///{home / 'hq.db'}")
    with db.write() as session:
        session.execute(
            text(
                "INSERT INTO member (id, member_code, rung, enrolled_at, visit_count,"
                " lifetime_spend_fen, referrals, updated_at) VALUES ('m1', '9200000000017',"
                " 'member', '2026-11-01 10:00:00', 0, 0, 0, '2026-11-01 10:00:00')"
            )
        )
    db.close()
    first = hq(home, "assign", "--member", "9200000000017", "--guide", "g0")
    assert first.returncode == 0 and "now with guide g0" in first.stdout, first.stderr
    for guide in ("g1", "g2"):
        assert hq(home, "assign", "--member", "9200000000017", "--guide", guide).returncode == 0
    third = hq(home, "assign", "--member", "9200000000017", "--guide", "g0")
    assert third.returncode == 2 and "twice in the last 90 days" in third.stderr
    unknown = hq(home, "assign", "--member", "nobody", "--guide", "g0")
    assert unknown.returncode == 2 and "no member" in unknown.stderr


def test_list_and_revoke_a_counter(tmp_path: Path) -> None:
    from posapp.hq import admin
    from posapp.hq.db import HqDatabase

    home = tmp_path / "hq"
    assert hq(home, "store", "add", "sh-01", "--name", "上海静安店").returncode == 0
    db = HqDatabase(f"sqlite:///{home / 'hq.db'}")
    from datetime import UTC, datetime

    with db.write() as session:
        code = admin.device_code(session, store_id="sh-01", now=datetime.now(UTC).replace(tzinfo=None),
                                 minutes=5)  # fmt: skip
        device = admin.register_device(
            session, code=code, name="till 1", now=datetime.now(UTC).replace(tzinfo=None)
        ).device.id
    listed = hq(home, "device", "list", "--store", "sh-01")
    assert listed.returncode == 0 and device in listed.stdout and "active" in listed.stdout
    revoked = hq(home, "device", "revoke", device)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    assert "revoked" in hq(home, "device", "list").stdout
    with db.read() as session:
        assert admin.authenticate_device(session, device, "anything") is None
        assert admin.list_devices(session)[0].revoked_at is not None
    db.close()
    unknown = hq(home, "device", "revoke", "nobody")
    assert unknown.returncode == 2 and "no device" in unknown.stderr


def test_a_store_keeps_its_days_in_the_zone_given_at_hq(tmp_path: Path) -> None:
    home = tmp_path / "hq"
    added = hq(home, "store", "add", "sh-01", "--name", "上海静安店")
    assert added.returncode == 0 and "Asia/Shanghai" in added.stdout  # region CN's
    berlin = hq(home, "store", "add", "be-01", "--name", "Berlin", "--timezone", "Europe/Berlin")
    assert berlin.returncode == 0 and "Europe/Berlin" in berlin.stdout
    bad = hq(home, "store", "add", "x-01", "--name", "x", "--timezone", "Shanghai")
    assert bad.returncode == 2 and "IANA" in bad.stderr and "Traceback" not in bad.stderr
    moved = hq(home, "store", "timezone", "sh-01", "Asia/Urumqi")
    assert moved.returncode == 0 and "Asia/Urumqi" in moved.stdout
    assert hq(home, "store", "timezone", "nowhere", "Asia/Urumqi").returncode == 2
