"""A fake HQ answering the counter's member look-up as a test says (member, slow, 429, 500,
garbage, closed), over real HTTP on loopback; shared by the scan box's and the keypad's tests."""

from __future__ import annotations

import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from posapp.domain.member_code import new_member_code
from posapp.protocol.changes import MemberView
from posapp.protocol.sync import MemberLookupAnswer
from posapp.sync.client import HqClient
from posapp.sync.lookup import asker_of
from posapp.ui.counter_window import CounterWindow

PHONE = "13812345678"
BUDGET_S = 1.5
ANSWER = MemberLookupAnswer(
    member=MemberView(member_id="hq-member-1", member_code=new_member_code(),
                      phone_e164="+8613812345678", phone_masked="138****5678", name="王芳",
                      home_store_id="a", enrolled_at=datetime(2026, 3, 8, 10, 0),
                      consents={"membership": True}),
    enrolled_store_name="Store A",
)  # fmt: skip


class FakeHq:
    """Answers every look-up as ``mode`` says: member, slow, 429, 500, garbage, closed."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.asked = 0
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                fake.asked += 1
                if fake.mode.startswith("slow"):  # answers late: after the budget, or released
                    fake.release.wait(BUDGET_S * 2)
                status, body = {
                    "429": (429, b'{"error":"lookup_rate_limited","message":"slow down"}'),
                    "500": (500, b'{"error":"internal","message":"oops"}'),
                    "garbage": (200, b'{"member": {"member_id": 7}, "extra": [}'),
                }.get(fake.mode, (200, ANSWER.model_dump_json().encode()))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        if mode == "closed":  # nothing listens there
            self.server.server_close()
        else:
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self.mode != "closed":
            self.server.shutdown()
            self.server.server_close()


def ask_with(window: CounterWindow, fake: FakeHq) -> None:
    client = HqClient(fake.url, "d.device.secret")
    window.counter.asker = asker_of(client, budget_s=BUDGET_S)
