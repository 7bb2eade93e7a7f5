"""docs/miniprogram.md's worked example, replayed against a real HQ process over HTTP.

Every ``<!-- example: NAME request|response STATUS|launch [auth=…] -->`` block of the doc is
parsed out and run in order, so the documented requests, answers and errors cannot drift
from what HQ does. The doc's tokens were signed on ``EXAMPLE_DAY`` with ``EXAMPLE_KEY``; each
is re-signed for today with this HQ's store key, keeping what made it good or bad (expired
stays expired by as many days, forged stays forged, a short one stays short).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from hq_load import MASTER_KEY, free_port, hq_process
from sync_world import now

from posapp.domain import invite as invites
from posapp.domain.errors import InvalidInput
from posapp.domain.member_code import is_member_code
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "miniprogram.md"
EXAMPLE_KEY = b"posapp docs/miniprogram.md example master key"
EXAMPLE_DAY = date(2025, 6, 2)
STORE_ID, STORE_NAME, GUIDE_ID = "sh-jingan", "静安店", "sh-jingan-g1"
TEMPLATE = "https://m.example.cn/j/{token}"
BLOCK = re.compile(
    r"^<!-- example: (?P<name>[\w-]+) (?P<role>request|response|launch)(?P<args>[^>]*?) -->"
    r"\n```json\n(?P<body>.*?)\n```",
    re.S | re.M,
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The API's own refusals around redeem (posapp/hq/api/routes/invites.py).
API_ERRORS = {
    "unauthenticated",
    "forbidden",
    "too_large",
    "invalid_request",
    "rate_limited",
    "internal",
}
# Fields HQ makes anew each run: only their shape and their consistency are checked.
VOLATILE = {"member_id": UUID.fullmatch, "member_code": is_member_code}


@dataclass(frozen=True)
class Block:
    name: str
    role: str
    args: tuple[str, ...]
    body: Any


def blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    found = [
        Block(m["name"], m["role"], tuple(m["args"].split()), json.loads(m["body"]))
        for m in BLOCK.finditer(text)
    ]
    markers = re.findall(r"^<!-- example:", text, re.M)
    assert len(found) == len(markers), "an example marker without a json block under it"
    return found


def exchanges() -> list[tuple[Block, Block]]:
    """(request, response) pairs in the doc's order; each request is followed by its answer."""
    pairs: list[tuple[Block, Block]] = []
    pending: Block | None = None
    for block in blocks():
        if block.role == "request":
            assert pending is None, f"{pending and pending.name}: request without a response"
            pending = block
        elif block.role == "response":
            assert pending is not None and pending.name == block.name, block.name
            pairs.append((pending, block))
            pending = None
    assert pending is None
    return pairs


def _mangled(token: str) -> str:
    last = invites.ALPHABET.index(token[-1])
    other = last + 1 if last < len(invites.ALPHABET) - 1 else last - 1
    return token[:-1] + invites.ALPHABET[other]


def resign(doc_token: str, key: bytes, today: date) -> str:
    """Today's counterpart of one of the doc's tokens, signed with ``key``."""
    try:
        claimed = invites.peek(doc_token)
    except InvalidInput:
        return doc_token  # malformed in the doc, malformed here
    fresh = replace(claimed, issue_day=today + (claimed.issue_day - EXAMPLE_DAY))
    doc_key = invites.store_key(EXAMPLE_KEY, STORE_ID)
    try:
        invites.verify(doc_token, doc_key, today=EXAMPLE_DAY)
    except InvalidInput as exc:
        if exc.rule == "bad_mac":
            return _mangled(invites.issue(fresh, key))
        assert exc.rule == "expired", f"{doc_token}: {exc.rule} has no counterpart here"
    return invites.issue(fresh, key)


@dataclass
class Hq:
    base: str
    credentials: dict[str, str]
    key: bytes
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, doc_token: str) -> str:
        if doc_token not in self.tokens:
            self.tokens[doc_token] = resign(doc_token, self.key, now().date())
        return self.tokens[doc_token]


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hq]:
    data = tmp_path_factory.mktemp("miniprogram-hq")
    url = f"sqlite:///{data / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        store = admin.add_store(session, store_id=STORE_ID, name=STORE_NAME, now=now())
        guide = admin.add_staff(session, store_id=STORE_ID, name="王芳", role="guide", pin="2468",
                                now=now(), staff_id=GUIDE_ID)  # fmt: skip
        assert (store.store_no, guide.staff_no) == (1, 1)  # as the doc's tokens say
        admin.set_rules(session, kind="channels", now=now(), body={"mini_program": TEMPLATE})
        partner = admin.add_credential(session, kind="partner", name="wechat", now=now())
        code = admin.device_code(session, store_id=STORE_ID, now=now(), minutes=10)
    hq_db.close()
    port = free_port()
    with hq_process(url, data, port=port) as base:
        answer = requests.post(f"{base}/v1/devices/register",
                               json={"code": code, "device_name": "counter"}, timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        yield Hq(
            base,
            {"partner": partner, "device": answer.json()["device_secret"]},
            invites.store_key(MASTER_KEY.encode(), STORE_ID),
        )


def _headers(hq: Hq, request: Block) -> dict[str, str]:
    auth = dict(a.split("=", 1) for a in request.args).get("auth", "partner")
    return {} if auth == "none" else {"Authorization": f"Bearer {hq.credentials[auth]}"}


def _check_notices(request: Block) -> None:
    """Every consent in the doc names the notice the customer really sees, by its hash."""
    for consent in request.body.get("consents", []):
        ref = consent["notice"]
        notice = current_notice(ref["language"])
        assert ref == {"notice_id": notice.notice_id, "version": notice.version,
                       "language": notice.language, "text_hash": notice.text_hash}, request.name  # fmt: skip


def _matches(name: str, documented: Any, got: Any, bound: dict[str, str]) -> None:
    assert set(got) == set(documented), f"{name}: fields {sorted(got)} != {sorted(documented)}"
    for key, want in documented.items():
        if key in VOLATILE:
            shaped = VOLATILE[key]
            assert shaped(want) and shaped(got[key]), f"{name}: {key} {want!r} / {got[key]!r}"
            if want in bound:
                assert got[key] == bound[want], f"{name}: {key} should repeat {bound[want]}"
            else:
                assert got[key] not in bound.values(), f"{name}: {key} repeats an earlier one"
                bound[want] = got[key]
        else:
            assert got[key] == want, f"{name}: {key} is {got[key]!r}, the doc says {want!r}"


def test_the_worked_example_runs_as_documented_against_a_real_hq(hq: Hq) -> None:
    pairs = exchanges()
    assert len(pairs) >= 12
    bound: dict[str, str] = {}
    session = requests.Session()
    for request, response in pairs:
        _check_notices(request)
        body = dict(request.body)
        body["token"] = hq.token(body["token"])
        answer = session.post(f"{hq.base}/v1/invites/redeem", json=body,
                              headers=_headers(hq, request), timeout=30)  # fmt: skip
        status = int(response.args[0])
        assert answer.status_code == status, f"{request.name}: {answer.status_code} {answer.text}"
        _matches(request.name, response.body, answer.json(), bound)
        if status == 401:
            assert answer.headers["WWW-Authenticate"] == "Bearer"
    # Two customers in all: the retry and the known member's second invite made no one new.
    assert len({v for k, v in bound.items() if UUID.fullmatch(k)}) == 2


def test_the_launch_options_carry_the_first_invites_token() -> None:
    token = exchanges()[0][0].body["token"]
    launches = {b.name: b.body for b in blocks() if b.role == "launch"}
    scanned, poster = launches["scanned-link"], launches["poster-code"]
    assert unquote(scanned["q"]) == TEMPLATE.replace("{token}", token)
    assert scanned["scancode_time"].isdigit()
    assert poster["scene"] == token and len(poster["scene"]) <= 32
    assert re.fullmatch(r"[0-9A-Za-z]+", poster["scene"])  # within scene's alphabet, as is
    # The page's own extraction (docs §2) finds the token in the decoded q.
    pattern = re.search(r"const IN_URL = /(.+?)/ ", DOC.read_text(encoding="utf-8"))
    assert pattern is not None
    found = re.search(pattern.group(1), unquote(scanned["q"]))
    assert found is not None and found.group(1) == token


def test_every_refusal_redeem_can_give_is_in_the_error_table() -> None:
    doc = DOC.read_text(encoding="utf-8")
    table = doc[doc.index("## 5. Errors") : doc.index("## 6.")]
    source = {p: (ROOT / "posapp" / p).read_text(encoding="utf-8") for p in
              ("domain/invite.py", "domain/phone.py", "domain/text.py", "hq/redeem.py")}  # fmt: skip
    codes = {f"token.{r}" for r in re.findall(r'_refuse\(\s*"(\w+)"', source["domain/invite.py"])}
    codes |= {f"phone.{r}" for r in re.findall(r'_refuse\(\s*"(\w+)"', source["domain/phone.py"])}
    clean_name = source["domain/text.py"].split("def clean_name", 1)[1].split("\ndef ", 1)[0]
    codes |= {f"name.{r}" for r in re.findall(r'InvalidInput\(\s*field,\s*"(\w+)"', clean_name)}
    pairs = re.findall(r'InvalidInput\(\s*"(\w+)",\s*"(\w+)"', source["hq/redeem.py"])
    codes |= {f"{f}.{r}" for f, r in pairs} | API_ERRORS
    assert len(codes) > 20
    missing = sorted(c for c in codes if f"`{c}`" not in table)
    assert not missing, f"docs/miniprogram.md §5 does not list {missing}"
    for _, response in exchanges():
        if "error" in response.body:
            assert f"`{response.body['error']}`" in table
