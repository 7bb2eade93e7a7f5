"""`posapp intake` as a running process: the POS posts, the sale lands once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from posapp.store.db import connect_raw


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, token: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/sales",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def test_intake_command_records_a_posted_sale_once(tmp_path: Path) -> None:
    data = tmp_path / "counter"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "posapp", "--data-dir", str(data), "intake", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "listening" in proc.stdout.readline()
        token = json.loads((data / "settings.json").read_text())["intake_token"]
        body = {"receipt_no": "POS-1", "amount": "99.00"}
        assert _post(port, token, body) == 201
        assert _post(port, token, body) == 200
        assert _post(port, "wrong-token-wrong-token", {"receipt_no": "POS-2", "amount": "1"}) == 401
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0  # SIGTERM stops the server and closes the database cleanly
    db = connect_raw(data / "posapp.db")
    assert db.execute("SELECT receipt_no, amount_fen, source FROM purchase").fetchall() == [
        ("POS-1", 9900, "pos")
    ]


def test_intake_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "posapp",
                "--data-dir",
                str(tmp_path),
                "intake",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    assert "cannot start" in out.stderr and "Traceback" not in out.stderr
    assert time.monotonic() - started < 30
