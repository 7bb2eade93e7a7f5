"""Crafted input at a real HQ process: the join page fuzzed with form bodies (hypothesis),
and HQ's own 404/405/400 answers. Nothing earns a 5xx or a traceback in HQ's log; the API's
refusals are ``{"error", "message"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from join_world import JoinWorld, Visitor, join_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[JoinWorld]:
    with join_world(tmp_path, POSAPP_HQ_JOIN_LIMIT_PER_MINUTE="1000000") as started:
        yield started


def _log(world: JoinWorld) -> str:
    return "".join(p.read_text(errors="replace") for p in world.data.glob("hq-*.log"))


def _post(world: JoinWorld, path: str, body: bytes, cookies: dict[str, str]) -> requests.Response:
    return requests.post(
        world.base + path,
        data=body,
        cookies=cookies,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )


def test_the_crafted_forms_that_used_to_earn_a_500(world: JoinWorld) -> None:
    visitor = Visitor(f"{world.base}/j/{world.token()}")
    visitor.open()
    nonce, stamp, mac = visitor.csrf.split(".")
    cookies = dict(visitor.session.cookies)
    path = f"/j/{world.token()}"
    crafted = {
        "non-ASCII CSRF": urlencode({"csrf": f"{nonce}.{stamp}.{mac[:-1]}é", "action": "send"}),
        "non-decimal digits in the stamp": urlencode({"csrf": f"{nonce}.²³.{mac}"}),
        "more than 20 fields": "&".join(f"f{i}=x" for i in range(25)),
    }
    for name, body in crafted.items():
        answer = _post(world, path, body.encode(), cookies)
        assert 400 <= answer.status_code < 500, (name, answer.status_code)
        assert 'id="refused"' in answer.text, name
    assert "Traceback" not in _log(world)


def test_hq_refuses_in_its_documented_shape(world: JoinWorld) -> None:
    for answer in (
        requests.get(f"{world.base}/nowhere", timeout=30),
        requests.delete(f"{world.base}/healthz", timeout=30),
        requests.post(
            f"{world.base}/v1/devices/register",
            data=b'{"code": "\xff"}',
            headers={"Content-Type": "application/json"},
            timeout=30,
        ),
    ):
        assert answer.status_code in (400, 404, 405), answer.text
        body = answer.json()
        assert set(body) == {"error", "message"}, body
        assert body["error"] in ("bad_request", "not_found", "method_not_allowed")


NAMES = st.sampled_from(["csrf", "phone", "code", "action", "consent", "lang"]) | st.text(
    max_size=8
)
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "send",
            "join",
            "membership",
            "marketing",
            "13812345678",
            "+8613812345678",
            "123456",
            "١٢٣٤٥٦",
            "²³",
            "\x00",
            "%ff",
            "é" * 200,
        ]
    ),
)


def test_the_join_page_fuzzed_with_form_bodies_never_answers_5xx(world: JoinWorld) -> None:
    token = world.token()
    visitor = Visitor(f"{world.base}/j/{token}")
    visitor.open()
    genuine = visitor.csrf
    nonce, stamp, mac = genuine.split(".")
    cookie = dict(visitor.session.cookies)
    csrfs = st.one_of(
        st.just(genuine),
        st.text(max_size=90),
        st.builds(lambda s: f"{nonce}.{s}.{mac}", st.text(max_size=14)),
        st.builds(lambda n: f"{n}.{stamp}.{mac}", st.text(max_size=44)),
        st.builds(lambda m: f"{nonce}.{stamp}.{m}", st.text(max_size=34)),
    )
    form = st.builds(
        lambda csrf, pairs: urlencode([("csrf", csrf), *pairs]).encode(),
        csrfs,
        st.lists(st.tuples(NAMES, VALUES), max_size=26),
    )
    bodies = form | st.binary(max_size=400)
    cookies = st.one_of(
        st.just(cookie), st.just({}), st.dictionaries(st.sampled_from(["join_csrf", "x"]),
                                                      st.text("abcdef0123456789-_é", max_size=48))
    )  # fmt: skip
    paths = st.one_of(
        st.just(f"/j/{token}"),
        st.just(f"/g/{token}"),
        st.builds(lambda t: "/j/" + quote(t, safe=""), st.text(min_size=1, max_size=70)),
    )

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True)  # fmt: skip
    @given(path=paths, body=bodies, jar=cookies)
    def post(path: str, body: bytes, jar: dict[str, str]) -> None:
        try:
            answer = _post(world, path, body, jar)
        except requests.exceptions.InvalidHeader:
            return  # a cookie requests itself will not send
        assert answer.status_code < 500, (path, body, jar, answer.text[:300])

    post()
    log = _log(world)
    assert "Traceback" not in log and not re.search(r"unexpected \w+", log), log[-3000:]
