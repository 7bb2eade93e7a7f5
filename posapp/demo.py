"""``posapp --demo``: a complete store in a throwaway data dir, with no set-up.

A local HQ (``posapp hq serve`` on loopback, SQLite, the demo master key) holds the demo
store and its staff with known PINs; this counter registers with it, takes the roster in
one sync, and gets 2,000 seeded local members to recognise, two years of their purchases
and the walk-ins who never joined. The HQ process runs for as
long as the demo does, so sync, invites and the status bar all work for real.

The channel templates point at HQ's own join page, so an invite's QR opens a real page.
With ``lan`` (``posapp --demo --lan``) HQ also listens on the local network and the QR
holds this machine's LAN address: a phone on the same network joins for real, with the
SMS code from the development sender's file.

A fake WeCom (``posapp.hq.wecom.fake``, on loopback) stands in for 企业微信: every guide
has a WeCom account there, so a guide invite's join page shows the guide's contact QR;
opening it and pressing "Add" sends HQ the same encrypted callback WeCom would, and after
the next sync the counter shows the member as the guide's WeCom contact.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from posapp.domain.invite import DEMO_MASTER_KEY, DEMO_STORE_ID
from posapp.resources import current_notice
from posapp.settings import load_settings
from posapp.store.db import Database
from posapp.store.migrate import open_database
from posapp.store.seed import DEMO_STORE, STAFF, seed_store
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, register

DEMO_MEMBERS = 2_000
# Known PINs so a newcomer can sign in as each role (shown on the demo's sign-in screen).
DEMO_PINS = {"manager": "8888", "guide": "2222", "cashier": "1111"}
# The demo brand: what its customers see on the join page (HQ's POSAPP_HQ_BRAND_NAME).
DEMO_BRAND = "悦己生活"
LOOPBACK = "127.0.0.1"
# TEST-NET-1 (RFC 5737): never routed. Connecting a UDP socket sends nothing; the kernel
# only picks the interface it would route through, whose address is the one we want.
_ROUTE_PROBE = ("192.0.2.1", 9)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def lan_address() -> str:
    """This machine's IPv4 address on its local network, or 127.0.0.1 when offline."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_ROUTE_PROBE)
            address = str(s.getsockname()[0])
    except OSError:  # no route at all: offline
        return LOOPBACK
    if address.startswith(("127.", "0.")):
        return LOOPBACK
    return address


class DemoUnavailable(RuntimeError):
    """The demo's local HQ could not be set up (say why, in plain words)."""


@dataclass
class DemoWorld:
    data_dir: Path
    hq_url: str
    db: Database
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # Where invites lead: HQ's join page, ``<join_base><token>``
    # (``http://<address>:<port>/j/``; the LAN address with ``lan``, else loopback).
    join_base: str = ""
    wecom: Any = field(default=None, repr=False)  # the fake WeCom (posapp.hq.wecom.fake)

    def stop(self) -> None:
        if self.wecom is not None:
            self.wecom.stop()
            self.wecom = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _prepare_hq(hq_dir: Path, hq_base: str, wecom: Any = None) -> str:
    """The demo store and staff at a new HQ database, its channel templates pointing at
    HQ's join page under ``hq_base``, its guides connected to the fake ``wecom``; returns a
    device code."""
    try:
        from posapp.hq import admin
        from posapp.hq.db import HqDatabase
        from posapp.hq.migrate import migrate
    except ImportError as exc:  # a counter-only install has no HQ
        raise DemoUnavailable(
            f"The demo needs HQ's packages (pip install 'posapp[hq]'): {exc}"
        ) from exc
    hq_dir.mkdir(parents=True, exist_ok=True)
    hq_db = HqDatabase(f"sqlite:///{hq_dir / 'hq.db'}")
    try:
        migrate(hq_db)
        now = _now()
        with hq_db.write() as session:
            admin.add_store(session, store_id=DEMO_STORE_ID, name=DEMO_STORE[1], now=now)
            for staff_id, name, role in STAFF:
                admin.add_staff(session, store_id=DEMO_STORE_ID, name=name, role=role,
                                pin=DEMO_PINS[role], now=now, staff_id=staff_id)  # fmt: skip
            # No mini-program, micro-mall or app in a demo: every invite opens the join page.
            admin.set_rules(session, kind="channels", now=now, body={
                "mini_program": f"{hq_base}/j/{{token}}", "micro_mall": f"{hq_base}/j/{{token}}",
                "app": f"{hq_base}/j/{{token}}", "guide_contact": f"{hq_base}/g/{{token}}"})  # fmt: skip
            code = admin.device_code(session, store_id=DEMO_STORE_ID, now=now, minutes=10)
        if wecom is not None:
            _connect_guides(hq_db, wecom)
        return code
    finally:
        hq_db.close()


def _start_wecom() -> Any:
    """The fake WeCom, or ``None`` on an install without HQ's WeCom packages."""
    try:
        from posapp.hq.wecom.fake import FakeWeCom
    except ImportError:
        return None
    return FakeWeCom().start()


def _connect_guides(hq_db: Any, wecom: Any) -> None:
    """Every guide and the manager get a WeCom account in the fake (their card QR too)."""
    from posapp.hq.wecom.config import WeComSettings
    from posapp.hq.wecom.service import WeComService

    service = WeComService(hq_db, WeComSettings(**_wecom_settings(wecom)))
    for staff_id, _name, role in STAFF:
        if role in ("guide", "manager"):
            service.set_userid(staff_id, staff_id.replace("-", "."))


def _wecom_settings(wecom: Any) -> dict[str, str]:
    prefix = "POSAPP_HQ_WECOM_"
    return {k.removeprefix(prefix).lower(): v for k, v in _wecom_env(wecom).items()}


def _wecom_env(wecom: Any) -> dict[str, str]:
    if wecom is None:
        return {}
    return wecom.settings_env() | {
        "POSAPP_HQ_WECOM_WELCOME_TEXT": f"您好，我是{DEMO_BRAND}的专属导购，有任何需要随时找我。"
    }


def _die_with_parent() -> None:
    """In the HQ child, before it runs: if the demo dies (even killed), HQ goes too."""
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _serve_hq(
    hq_dir: Path, port: int, host: str, wecom: Any = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """``posapp hq serve`` on ``host`` (loopback, or every interface for the LAN); returns
    the loopback URL this counter talks to, once HQ answers."""
    env = {
        **os.environ,
        "POSAPP_HQ_DATA_DIR": str(hq_dir),
        "POSAPP_HQ_MASTER_KEY": DEMO_MASTER_KEY.decode(),
        "POSAPP_HQ_LOG_LEVEL": "warning",
        "POSAPP_HQ_BRAND_NAME": DEMO_BRAND,
        **_wecom_env(wecom),
    }
    log = open(hq_dir / "hq.log", "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(
        [sys.executable, "-m", "posapp", "hq", "serve", "--host", host, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    log.close()
    url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, process
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = (hq_dir / "hq.log").read_text(errors="replace")[-800:]
            raise DemoUnavailable(f"The demo's local HQ did not start:\n{tail}")
        time.sleep(0.1)


def start_demo(data_dir: Path, *, members: int = DEMO_MEMBERS, lan: bool = False) -> DemoWorld:
    """HQ up, this counter registered and synced once, members seeded; the caller stops it.

    HQ listens on loopback only, unless ``lan`` asks for the local network too (and this
    machine has one): then invite URLs hold the LAN address, for phones on that network.
    """
    settings = load_settings(data_dir)
    settings.intake_port = 0  # any free port: a demo never fights the real counter's
    settings.save()
    hq_dir = data_dir / "hq"
    address = lan_address() if lan else LOOPBACK
    host = "0.0.0.0" if address != LOOPBACK else LOOPBACK  # every interface: asked for
    port = _free_port(host)
    hq_base = f"http://{address}:{port}"
    wecom = _start_wecom()
    try:
        code = _prepare_hq(hq_dir, hq_base, wecom)
        url, process = _serve_hq(hq_dir, port, host, wecom)
    except BaseException:
        if wecom is not None:
            wecom.stop()
        raise
    if wecom is not None:
        wecom.callback_url = f"{url}/wecom/callback"  # "Add" in the fake reaches this HQ
    db = open_database(settings.db_path)
    world = DemoWorld(data_dir, url, db, process, join_base=f"{hq_base}/j/", wecom=wecom)
    try:
        register(db, data_dir, hq_url=url, code=code, name="demo counter")
        SyncEngine(db, client_for(db, data_dir)).run_once()
        # Seeded after the first snapshot, which would otherwise forget members HQ never sent.
        # Walk-ins too, so the dashboard's capture rate is a store's (about 45 %), not 100 %.
        seed_store(db, members, notice=current_notice(), now=_now(), seed=2026)
    except BaseException:
        world.stop()
        db.close()
        raise
    from posapp.hq.sms import OUTBOX_NAME

    sys.stderr.write(where_invites_lead(world.join_base, hq_dir / OUTBOX_NAME, lan=lan) + "\n")
    if wecom is not None:
        sys.stderr.write(f"posapp demo: a fake WeCom runs at {wecom.base_url} (this computer):"
                         " a guide invite's page shows the guide's contact QR; open it and"
                         " press Add, and the counter shows the WeCom contact after a sync\n")  # fmt: skip
    return world


def where_invites_lead(join_base: str, outbox: Path, *, lan: bool) -> str:
    """The line the demo prints: where an invite's QR leads, and where its SMS codes go."""
    codes = f"SMS codes in {outbox}"
    if not lan:
        return (f"posapp demo: invites open HQ's join page at {join_base}… on this computer only"
                f" ({codes}; posapp --demo --lan lets phones on this network join)")  # fmt: skip
    if join_base.startswith(f"http://{LOOPBACK}:"):
        return (f"posapp demo: no local network found: invites open {join_base}… on this"
                f" computer only ({codes})")  # fmt: skip
    return f"posapp demo: customers on this network can join at {join_base}… ({codes})"
