"""The POS intake over real HTTP on 127.0.0.1, writing to a real SQLite file."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from intake_client import JSON, TOKEN, count, counts, post_sale, raw_exchange, request
from roster import CASHIER, GUIDE

from posapp.domain.consent import Notice, Purpose
from posapp.domain.member_code import new_member_code
from posapp.intake import IntakeServer, check_loopback
from posapp.services.members import enrol_member
from posapp.services.sales import SaleResult
from posapp.store.db import Database

PHONE = "13812345678"


@pytest.fixture
def announced() -> list[SaleResult]:
    return []


@pytest.fixture
def intake(db: Database, announced: list[SaleResult]) -> Iterator[IntakeServer]:
    server = IntakeServer(db, token=TOKEN, port=0, on_sale=announced.append)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def member(db: Database, notice: Notice) -> tuple[str, str]:
    """``(member_id, member_code)`` of an enrolled member whose phone is PHONE."""
    with db.write() as session:
        enrolment = enrol_member(
            session, phone=PHONE, consents={Purpose.MEMBERSHIP}, notice=notice, staff_id=GUIDE
        )
    return enrolment.member_id, enrolment.member_code


# --- one sale, exactly once ----------------------------------------------------------------


def test_a_sale_posted_twice_is_recorded_once(
    db: Database, intake: IntakeServer, announced: list[SaleResult]
) -> None:
    sale = {"receipt_no": "POS-0001", "amount": "128.00", "staff_id": CASHIER}
    first = post_sale(intake.port, sale)
    again = post_sale(intake.port, sale)
    assert first.status == 201 and first.body["created"] is True
    assert again.status == 200 and again.body["created"] is False
    assert again.body["purchase_id"] == first.body["purchase_id"]
    assert first.body["amount"] == "128.00" and first.body["amount_fen"] == 12800
    assert first.body["currency"] == "CNY"
    assert counts(db) == (1, 1, 0)
    raw = db.raw()
    row = raw.execute("SELECT receipt_no, amount_fen, source, staff_id FROM purchase").fetchone()
    raw.close()
    assert row == ("POS-0001", 12800, "pos", CASHIER)
    assert [s.purchase_id for s in announced] == [first.body["purchase_id"]]  # new sales only


@pytest.mark.parametrize(("amount", "fen"), [("128", 12800), ("0.5", 50), ("99.99", 9999)])
def test_amount_is_yuan_as_a_decimal_string(
    db: Database, intake: IntakeServer, amount: str, fen: int
) -> None:
    reply = post_sale(intake.port, {"receipt_no": "A-1", "amount": amount})
    assert reply.status == 201 and reply.body["amount_fen"] == fen


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        ("-5.00", "negative"),
        ("12.345", "too_precise"),
        ("¥12.00", "format"),
        ("1,000.00", "format"),
        ("1e3", "format"),
        (" 12.00", "format"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("999999999999.00", "too_large"),
    ],
)
def test_other_amount_forms_are_refused(
    db: Database, intake: IntakeServer, amount: str, rule: str
) -> None:
    reply = post_sale(intake.port, {"receipt_no": "A-2", "amount": amount})
    assert reply.status == 422
    assert reply.error["field"] == "amount" and reply.error["rule"] == rule
    assert counts(db) == (0, 0, 0)


def test_same_receipt_with_a_different_amount_conflicts(db: Database, intake: IntakeServer) -> None:
    assert post_sale(intake.port, {"receipt_no": "C-1", "amount": "10.00"}).status == 201
    reply = post_sale(intake.port, {"receipt_no": "C-1", "amount": "11.00"})
    assert reply.status == 409
    assert reply.error == {
        "field": "receipt_no",
        "rule": "duplicate",
        "message": reply.error["message"],
    }
    other_currency = post_sale(
        intake.port, {"receipt_no": "C-1", "amount": "10", "currency": "HKD"}
    )
    assert other_currency.status == 409
    assert counts(db) == (1, 1, 0)


def test_concurrent_posts_of_one_receipt_make_one_purchase(
    db: Database, intake: IntakeServer, announced: list[SaleResult]
) -> None:
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    replies = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        reply = post_sale(intake.port, {"receipt_no": "RACE-1", "amount": "66.60"})
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=send) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.status for r in replies) == [200] * (threads_n - 1) + [201]
    assert len({r.body["purchase_id"] for r in replies}) == 1
    assert counts(db) == (1, 1, 0)
    assert len(announced) == 1


# --- the token -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-wrong-token-wrong-tok"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": TOKEN},
    ],
    ids=["missing", "wrong", "longer", "basic", "empty", "no-scheme"],
)
def test_without_the_right_token_nothing_is_written(
    db: Database, intake: IntakeServer, headers: dict[str, str]
) -> None:
    body = json.dumps({"receipt_no": "T-1", "amount": "1.00"}).encode()
    reply = request(intake.port, "POST", "/v1/sales", body, {"Content-Type": JSON, **headers})
    assert reply.status == 401
    assert reply.error["rule"] == "unauthorized"
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert counts(db) == (0, 0, 0)


def test_the_token_is_checked_before_the_body(db: Database, intake: IntakeServer) -> None:
    assert post_sale(intake.port, b"\xff garbage", token="nope").status == 401
    assert post_sale(intake.port, b"x" * 100_000, token=None).status == 401


def test_health_needs_no_token_and_tells_nothing(intake: IntakeServer) -> None:
    reply = request(intake.port, "GET", "/healthz")
    assert reply.status == 200 and reply.body == {"status": "ok"}
    assert "python" not in reply.headers["server"].lower()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/sales", 405),
        ("PUT", "/v1/sales", 405),
        ("DELETE", "/v1/sales", 405),
        ("POST", "/healthz", 405),
        ("GET", "/", 404),
        ("POST", "/v1/sales/13812345678", 404),
        ("BREW", "/v1/sales", 501),
    ],
)
def test_other_routes_answer_json_errors(
    db: Database, intake: IntakeServer, method: str, path: str, status: int
) -> None:
    reply = request(intake.port, method, path, b"{}", {"Authorization": f"Bearer {TOKEN}"})
    assert reply.status == status
    assert reply.error["rule"]
    assert counts(db) == (0, 0, 0)


# --- only the loopback ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "192.168.1.10", "10.0.0.1", "::", "", "example.com", "fe80::1"]
)
def test_binding_beyond_the_loopback_is_refused(db: Database, host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        IntakeServer(db, token=TOKEN, host=host, port=0)


@pytest.mark.parametrize(
    ("host", "bound"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("::1", "::1")]
)
def test_loopback_names_are_accepted(host: str, bound: str) -> None:
    assert check_loopback(host) == bound


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_it_serves_on_ipv6_loopback_too(db: Database) -> None:
    server = IntakeServer(db, token=TOKEN, host="::1", port=0)
    if not _ipv6_loopback_available():
        # A machine without ::1 gets a clear OSError at start, never a half-started server.
        with pytest.raises(OSError):
            server.start()
        assert not server.running
        return
    server.start()
    try:
        with socket.create_connection(("::1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.0 200")
    finally:
        server.stop()


@pytest.mark.parametrize("token", ["", "   ", "short"])
def test_a_weak_token_is_refused(db: Database, token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        IntakeServer(db, token=token, port=0)


def test_stop_releases_the_port_and_may_be_called_twice(db: Database) -> None:
    server = IntakeServer(db, token=TOKEN, port=0)
    server.start()
    port = server.port
    assert port != 0 and server.running
    with pytest.raises(RuntimeError):
        server.start()
    server.stop()
    server.stop()
    assert not server.running
    again = IntakeServer(db, token=TOKEN, port=port)
    with again:
        assert request(port, "GET", "/healthz").status == 200


# --- whatever arrives, a clear 4xx and nothing written -------------------------------------

SALE = {"receipt_no": "G-1", "amount": "1.00"}
GARBAGE = [
    ("random-bytes", bytes(range(256)) * 4, 400, "bad_json"),
    ("truncated-json", b'{"receipt_no": "G-1", "amount": "1', 400, "bad_json"),
    ("empty", b"", 400, "bad_json"),
    ("latin-1", '{"receipt_no": "Ä", "amount": "1"}'.encode("latin-1"), 400, "bad_json"),
    ("nan", b'{"receipt_no": "G-1", "amount": NaN}', 400, "bad_json"),
    ("duplicate-key", b'{"receipt_no": "G-1", "receipt_no": "G-2", "amount": "1"}', 400, None),
    ("deep-nesting", b"[" * 5000 + b"]" * 5000, 400, "bad_json"),
    ("json-array", json.dumps([SALE]).encode(), 422, "not_an_object"),
    ("json-string", b'"G-1"', 422, "not_an_object"),
    ("long-receipt", json.dumps({**SALE, "receipt_no": "R" * 10_000}).encode(), 422, "too_long"),
    ("emoji-receipt", json.dumps({**SALE, "receipt_no": "🧾-1"}).encode(), 422, "bad_character"),
    ("sql-receipt", json.dumps({**SALE, "receipt_no": "1; DROP TABLE purchase"}).encode(), 422,
     "bad_character"),
    ("blank-receipt", json.dumps({**SALE, "receipt_no": "  "}).encode(), 422, "empty"),
    ("negative", json.dumps({**SALE, "amount": "-1.00"}).encode(), 422, "negative"),
    ("amount-number", json.dumps({**SALE, "amount": 1.0}).encode(), 422, "string_type"),
    ("amount-fen-int", json.dumps({**SALE, "amount": 100}).encode(), 422, "string_type"),
    ("receipt-number", json.dumps({**SALE, "receipt_no": 1}).encode(), 422, "string_type"),
    ("missing-amount", json.dumps({"receipt_no": "G-1"}).encode(), 422, "missing"),
    ("extra-field", json.dumps({**SALE, "source": "typed"}).encode(), 422, "extra_forbidden"),
    ("unknown-currency", json.dumps({**SALE, "currency": "XXX"}).encode(), 422, "unknown"),
    ("unknown-staff", json.dumps({**SALE, "staff_id": "nobody"}).encode(), 422, "unknown"),
    ("huge-body", json.dumps({**SALE, "pad": "x" * (1 << 19)}).encode(), 413, "too_large"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "rule"), [g[1:] for g in GARBAGE], ids=[g[0] for g in GARBAGE]
)
def test_garbage_gets_a_clear_4xx_and_changes_nothing(
    db: Database, intake: IntakeServer, body: bytes, status: int, rule: str | None
) -> None:
    reply = post_sale(intake.port, body)
    assert reply.status == status, reply.raw
    if rule is not None:
        assert reply.error["rule"] == rule
    assert b"Traceback" not in reply.raw
    assert counts(db) == (0, 0, 0)
    assert post_sale(intake.port, SALE).status == 201  # the table is there and still works
    assert count(db, "purchase") == 1


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                     "application/json; charset=latin-1"]
)  # fmt: skip
def test_only_json_is_accepted(
    db: Database, intake: IntakeServer, content_type: str | None
) -> None:
    reply = post_sale(intake.port, SALE, content_type=content_type)
    assert reply.status == 415
    assert counts(db) == (0, 0, 0)


def test_json_with_utf8_charset_is_accepted(intake: IntakeServer) -> None:
    assert (
        post_sale(intake.port, SALE, content_type="application/json; charset=UTF-8").status == 201
    )


def _raw_post(port: int, headers: str, body: bytes = b"") -> bytes:
    head = f"POST /v1/sales HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
    return raw_exchange(port, (head + headers + "\r\n").encode() + body)


def test_a_lying_content_length_is_refused_without_waiting(
    db: Database, intake: IntakeServer
) -> None:
    answer = _raw_post(
        intake.port, f"Content-Type: {JSON}\r\nContent-Length: 1000000000\r\n", b"{}"
    )
    assert answer.startswith(b"HTTP/1.0 413")
    short = _raw_post(intake.port, f"Content-Type: {JSON}\r\nContent-Length: 100\r\n", b"{}")
    assert short.startswith(b"HTTP/1.0 400")
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    "headers",
    ["", "Transfer-Encoding: chunked\r\n"],
    ids=["no-length", "chunked"],
)
def test_a_body_without_content_length_is_refused(
    db: Database, intake: IntakeServer, headers: str
) -> None:
    body = b'1e\r\n{"receipt_no":"G-1","amount":"1"}\r\n0\r\n\r\n' if headers else b"{}"
    answer = _raw_post(intake.port, f"Content-Type: {JSON}\r\n{headers}", body)
    assert answer.startswith(b"HTTP/1.0 411")
    assert counts(db) == (0, 0, 0)


def test_a_malformed_request_line_gets_json(intake: IntakeServer) -> None:
    answer = raw_exchange(intake.port, b"\x16\x03\x01 not http at all\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 400")
    assert b'"rule"' in answer and b"Traceback" not in answer


# --- members -------------------------------------------------------------------------------


def test_a_sale_attaches_to_a_member_by_member_code(
    db: Database, intake: IntakeServer, member: tuple[str, str]
) -> None:
    member_id, code = member
    reply = post_sale(intake.port, {"receipt_no": "M-1", "amount": "100.00", "member_code": code})
    assert reply.status == 201 and reply.body["member_id"] == member_id
    raw = db.raw()
    assert raw.execute("SELECT member_id FROM purchase").fetchone() == (member_id,)
    assert raw.execute("SELECT visit_count, lifetime_spend_fen FROM member").fetchone() == (
        1,
        10000,
    )
    raw.close()
    again = post_sale(intake.port, {"receipt_no": "M-1", "amount": "100.00", "member_code": code})
    assert again.status == 200 and again.body["member_id"] == member_id
    assert counts(db)[2] == 1  # the replay counted no second visit


def test_a_sale_attaches_to_a_member_by_phone(
    db: Database, intake: IntakeServer, member: tuple[str, str]
) -> None:
    reply = post_sale(intake.port, {"receipt_no": "M-2", "amount": "5", "phone": "138 1234 5678"})
    assert reply.status == 201 and reply.body["member_id"] == member[0]


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"member_code": "9000000000000"}, "member_code", "check_digit"),
        ({"member_code": PHONE}, "member_code", "wrong_kind"),
        ({"member_code": ""}, "member_code", "empty"),
        ({"phone": "13900001111"}, "phone", "unknown"),
        ({"phone": "5678"}, "phone", "wrong_kind"),
        ({"phone": "12345"}, "phone", None),
        ({"phone": PHONE, "member_code": "__known__"}, "member_code", "ambiguous"),
    ],
)
def test_an_unknown_or_unclear_member_writes_nothing(
    db: Database,
    intake: IntakeServer,
    member: tuple[str, str],
    extra: dict[str, str],
    field: str,
    rule: str | None,
) -> None:
    unknown = new_member_code()
    while unknown == member[1]:
        unknown = new_member_code()
    names = {"__unknown__": unknown, "__known__": member[1]}
    extra = {key: names.get(value, value) for key, value in extra.items()}
    before = counts(db)
    reply = post_sale(intake.port, {"receipt_no": "M-3", "amount": "1.00", **extra})
    assert reply.status == 422, reply.raw
    assert reply.error["field"] == field
    if rule is not None:
        assert reply.error["rule"] == rule
    assert counts(db) == before


def test_a_member_code_of_another_store_is_recorded_as_a_reference_for_hq(
    db: Database, intake: IntakeServer, member: tuple[str, str]
) -> None:
    """The POS scanned a valid code nobody here holds: recorded as at the counter (issue 15),
    with the code for HQ to credit; a replay naming someone else still conflicts."""
    other = new_member_code()
    while other == member[1]:
        other = new_member_code()
    sale = {"receipt_no": "M-5", "amount": "20.00", "member_code": other}
    reply = post_sale(intake.port, sale)
    assert reply.status == 201 and reply.body["member_id"] is None
    assert reply.body["member_code_ref"] == other
    assert post_sale(intake.port, sale).status == 200
    raw = db.raw()
    assert raw.execute("SELECT member_id, member_code_ref FROM purchase").fetchall() == [
        (None, other)
    ]
    kind, version, payload = raw.execute(
        "SELECT type, schema_version, payload FROM outbox_event WHERE type = 'sale.recorded'"
    ).fetchone()
    raw.close()
    assert (kind, version, json.loads(payload)["member_code_ref"]) == ("sale.recorded", 2, other)
    conflict = post_sale(intake.port, {**sale, "member_code": member[1]})
    assert conflict.status == 409 and conflict.error["rule"] == "duplicate_member"
    assert counts(db)[2] == 0  # nobody's visit counted here: HQ credits it


def test_a_replay_naming_another_member_conflicts(
    db: Database, intake: IntakeServer, member: tuple[str, str]
) -> None:
    assert post_sale(intake.port, {"receipt_no": "M-4", "amount": "1.00"}).status == 201
    reply = post_sale(
        intake.port, {"receipt_no": "M-4", "amount": "1.00", "member_code": member[1]}
    )
    assert reply.status == 409 and reply.error["rule"] == "duplicate_member"
    assert counts(db)[2] == 0


# --- storage trouble, callbacks, logs ------------------------------------------------------


def test_a_storage_error_is_503_with_its_message(db: Database, db_path: Path) -> None:
    read_only = Database(db_path, read_only=True)
    try:
        with IntakeServer(read_only, token=TOKEN, port=0) as server:
            reply = post_sale(server.port, SALE)
    finally:
        read_only.close()
    assert reply.status == 503
    assert reply.error["rule"] == "read_only"
    assert "nothing was saved" in reply.error["message"]
    assert reply.headers["retry-after"] == "1"
    assert counts(db) == (0, 0, 0)


def test_a_failing_callback_does_not_lose_the_sale(db: Database) -> None:
    def broken(_sale: SaleResult) -> None:
        raise RuntimeError("the GUI is gone")

    with IntakeServer(db, token=TOKEN, port=0, on_sale=broken) as server:
        reply = post_sale(server.port, SALE)
    assert reply.status == 201
    assert count(db, "purchase") == 1


def test_logs_never_hold_the_phone_or_the_token(
    db: Database,
    intake: IntakeServer,
    member: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="posapp.intake")
    post_sale(intake.port, {"receipt_no": "L-1", "amount": "1", "phone": PHONE})
    post_sale(intake.port, {"receipt_no": "L-2", "amount": "1", "phone": "13900001111"})
    post_sale(intake.port, {"receipt_no": "L-3", "amount": "1", "phone": PHONE}, token=PHONE * 3)
    post_sale(intake.port, {"receipt_no": "L-4", "amount": "1", PHONE: TOKEN})
    request(intake.port, "GET", f"/{PHONE}?token={TOKEN}")
    text = caplog.text
    assert "L-1" in text  # receipt numbers may be logged
    for secret in (PHONE, "13900001111", TOKEN):
        assert secret not in text
