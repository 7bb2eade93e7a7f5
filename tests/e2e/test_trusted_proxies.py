"""Per-address limits at a real HQ process: X-Forwarded-For is believed only from a trusted
proxy (POSAPP_HQ_TRUSTED_PROXIES, none by default), so one client cannot reset its limit by
sending a new header each time; behind a trusted proxy each real client has its own limit."""

from __future__ import annotations

from pathlib import Path

import requests
from join_world import join_world


def _opens(url: str, forwarded: list[str], proto: str | None = None) -> list[requests.Response]:
    answers = []
    for address in forwarded:
        headers = {"X-Forwarded-For": address}
        if proto:
            headers["X-Forwarded-Proto"] = proto
        answers.append(requests.get(url, headers=headers, timeout=30))
    return answers


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(tmp_path: Path) -> None:
    with join_world(tmp_path, POSAPP_HQ_JOIN_LIMIT_PER_MINUTE="3") as world:
        url = f"{world.base}/j/{world.token()}"
        answers = _opens(url, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], proto="https")
        assert [a.status_code for a in answers] == [200, 200, 200, 429]  # one client: the peer
        cookie = answers[0].headers["set-cookie"].lower()
        assert "secure" not in cookie  # plain HTTP, and the proxy header is not believed


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(tmp_path: Path) -> None:
    env = {"POSAPP_HQ_JOIN_LIMIT_PER_MINUTE": "3", "POSAPP_HQ_TRUSTED_PROXIES": "127.0.0.1/32"}
    with join_world(tmp_path, **env) as world:
        url = f"{world.base}/j/{world.token()}"
        many = _opens(url, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], proto="https")
        assert [a.status_code for a in many] == [200] * 4
        assert "secure" in many[0].headers["set-cookie"].lower()  # HTTPS at the proxy
        # A client's own X-Forwarded-For is to the left of what the proxy appends: the
        # rightmost untrusted address is the client, whatever it claims before that.
        one = _opens(url, [f"{n}.1.1.1, 10.0.0.9" for n in range(1, 5)])
        assert [a.status_code for a in one] == [200, 200, 200, 429]
