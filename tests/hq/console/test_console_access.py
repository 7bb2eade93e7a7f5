"""The console's accounts and who may see what, on SQLite and PostgreSQL: sign-in with
lock-out and TOTP, cookies, CSRF, store scope by URL, masked phones, audited reveals."""

from __future__ import annotations

import re

import pyotp
import pytest
from console_world import (
    EAST_NAME,
    EAST_PHONE,
    PASSWORD,
    WEST_NAME,
    WEST_PHONE,
    Person,
    World,
    build,
    client_of,
    csrf_of,
)
from hq_harness import Hq, now
from sqlalchemy import select, text

from posapp.domain.errors import InvalidInput
from posapp.domain.phone import mask_phone
from posapp.hq.console import audit, users
from posapp.hq.models import AuditEntry, ConsoleUser


@pytest.fixture
def world(hq: Hq) -> World:
    return build(hq)


def _actions(hq: Hq) -> list[str]:
    with hq.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_console_wants_a_sign_in_first(hq: Hq) -> None:
    answer = client_of(hq).get("/console/members", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login"


def test_the_session_cookie_is_http_only_strict_and_secure_over_https(hq: Hq) -> None:
    build(hq, sign_in=False)
    for https in (True, False):
        person = Person(client_of(hq, https=https), "analyst")
        cookie = person.login().headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert ("Secure" in cookie) is https
    with hq.db.read() as session:  # the session is HQ's: a row, the cookie only names it
        assert session.scalar(text("SELECT count(*) FROM console_session")) == 2


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(hq: Hq) -> None:
    build(hq, sign_in=False)
    person = Person(client_of(hq), "analyst")
    for _ in range(users.MAX_FAILURES - 1):
        assert "用户名或密码不正确" in person.login("wrong password!").text
    assert "已暂时锁定" in person.login("wrong password!").text
    refused = person.login(PASSWORD)
    assert refused.status_code == 401 and "已暂时锁定" in refused.text
    assert person.get("/console").status_code == 303
    assert _actions(hq).count("login.failed") == users.MAX_FAILURES - 1
    assert "login.lock" in _actions(hq) and "login.locked" in _actions(hq)


def test_an_unknown_name_is_refused_as_a_wrong_password(hq: Hq) -> None:
    answer = Person(client_of(hq), "nobody").login()
    assert answer.status_code == 401 and "用户名或密码不正确" in answer.text


def test_a_brand_admin_must_enrol_totp_and_a_code_opens_one_session_only(hq: Hq) -> None:
    build(hq, sign_in=False)
    admin = Person(client_of(hq), "admin")
    admin.login()
    assert admin.get("/console").status_code == 303  # the password alone is not enough
    step = admin.get("/console/login/code")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', step.text)
    assert secret and "<svg" in step.text
    wrong = admin.client.post(
        "/console/login/code", data={"csrf": csrf_of(step.text), "code": "000000"}
    )
    assert wrong.status_code == 401 and "验证码不正确" in wrong.text
    code = pyotp.TOTP(secret.group(1)).now()
    done = admin.client.post("/console/login/code", data={"csrf": csrf_of(step.text), "code": code},
                             follow_redirects=False)  # fmt: skip
    assert done.headers["location"] == "/console"
    assert admin.get("/console").status_code == 200
    with hq.db.read() as session:
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == "admin"))
        assert user.totp_secret.startswith("v1:")  # sealed, never the secret as issued
        assert secret.group(1) not in user.totp_secret
        assert not session.scalars(text("SELECT pending_totp FROM console_session")).first()

    again = Person(client_of(hq), "admin", totp=secret.group(1))
    again.login()
    step = again.get("/console/login/code")
    assert 'id="totp-secret"' not in step.text  # enrolled: asked for a code, no new secret
    replay = again.client.post(
        "/console/login/code", data={"csrf": csrf_of(step.text), "code": code}
    )
    assert replay.status_code == 401  # the same code twice is refused
    assert again.get("/console").status_code == 303
    assert "user.totp_enrol" in _actions(hq) and "login.bad_code" in _actions(hq)


def test_a_form_without_the_sessions_csrf_token_changes_nothing(world: World) -> None:
    admin = world.person("admin")
    for token in ("", "forged-token"):
        answer = admin.client.post("/console/stores", data={"csrf": token, "store_id": "north",
                                                           "name": "北店"})  # fmt: skip
        assert answer.status_code == 403 and 'data-reason="bad_form"' in answer.text
    login = world.person("analyst").client.post(
        "/console/login", data={"csrf": "x", "username": "analyst", "password": PASSWORD}
    )
    assert login.status_code == 403
    with world.hq.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM store WHERE id = 'north'")) == 0
    assert world.person("admin").post("/console/stores", {"store_id": "north", "name": "北店"},
                                      page="/console/stores").status_code == 303  # fmt: skip


def test_a_regional_manager_cannot_open_another_regions_store_or_member_by_url(
    world: World,
) -> None:
    east = world.person("east")
    assert east.get("/console/stores/east").status_code == 200
    assert east.get(f"/console/members/{world.members['east']}").status_code == 200
    for path in (
        "/console/stores/west",
        f"/console/members/{world.members['west']}",
        "/console/reports/capture?store=west",
        "/console/reports/capture/by_day.csv?store=west",
        "/console/members?store=west",
        "/console/audit",
        "/console/users",
    ):
        answer = east.get(path)
        assert answer.status_code == 403, path
        assert WEST_NAME not in answer.text
    code = east.post("/console/stores/west/code", {}, page="/console/stores/east")
    assert code.status_code == 403 and 'id="code"' not in code.text
    listed = east.get("/console/members").text
    assert world.codes["east"] in listed and world.codes["west"] not in listed
    assert (
        f'data-member="{world.members["east"]}"'
        in east.get(f"/console/members?q={world.codes['east']}").text
    )
    searched = east.get(f"/console/members?q={world.codes['west']}")
    assert (
        searched.status_code == 200
        and f'data-member="{world.members["west"]}"' not in searched.text
    )
    assert "west" not in re.sub(r"<nav.*?</nav>", "", east.get("/console/stores").text, flags=re.S)
    assert _actions(world.hq).count("refused") >= 8  # each attempt is on record


def test_an_analyst_never_sees_a_name_or_a_full_phone(world: World) -> None:
    analyst = world.person("analyst")
    pages = [
        analyst.get("/console/members").text,
        analyst.get(f"/console/members/{world.members['east']}").text,
        analyst.get(f"/console/members?q={world.codes['east']}").text,
        analyst.get("/console/reports/capture").text,
    ]
    assert world.codes["east"] in pages[0]
    for html in pages:
        for secret in (EAST_PHONE, EAST_PHONE[3:], EAST_NAME, mask_phone(EAST_PHONE), WEST_NAME):
            assert secret not in html
    assert analyst.get(f"/console/members?q={EAST_PHONE[3:]}").status_code == 403
    reveal = analyst.post(f"/console/members/{world.members['east']}/reveal", {},
                          page=f"/console/members/{world.members['east']}")  # fmt: skip
    assert reveal.status_code == 403 and EAST_PHONE[3:] not in reveal.text


def test_phones_are_masked_for_a_manager_and_revealed_to_the_privacy_officer_on_record(
    world: World,
) -> None:
    east_page = world.person("east").get(f"/console/members/{world.members['east']}").text
    assert mask_phone(EAST_PHONE) in east_page and EAST_PHONE[3:] not in east_page
    assert EAST_NAME in east_page
    assert world.person("east").get(f"/console/members?q={EAST_PHONE[3:]}").status_code == 403

    privacy = world.person("privacy")
    member = f"/console/members/{world.members['west']}"
    masked = privacy.get(member).text
    assert mask_phone(WEST_PHONE) in masked and WEST_PHONE[3:] not in masked
    shown = privacy.post(f"{member}/reveal", {}, page=member)
    assert shown.status_code == 200 and WEST_PHONE in shown.text
    found = privacy.get(f"/console/members?q={WEST_PHONE[3:]}")
    assert found.status_code == 200 and WEST_PHONE in found.text and WEST_NAME in found.text
    with world.hq.db.read() as session:
        reveals = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
            .where(AuditEntry.action.in_(("member.reveal_phone", "member.search_phone")))
        ).all()  # fmt: skip
        privacy_id = session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == "privacy"))
        everything = " ".join(str(v) for row in session.execute(select(AuditEntry)).scalars()
                              for v in (row.detail, row.target))  # fmt: skip
    assert [(a, t) for a, t, *_ in [(r.action, r.target, r.actor) for r in reveals]] == [
        ("member.reveal_phone", world.members["west"]), ("member.search_phone", ""),
    ]  # fmt: skip
    assert {r.actor for r in reveals} == {privacy_id}
    assert WEST_PHONE[3:] not in everything  # the log names whose phone, never the phone


def test_the_audit_log_refuses_update_and_delete(world: World) -> None:
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), world.hq.db.write() as session:
            session.execute(text(statement))
    assert len(_actions(world.hq)) > 0


def test_user_names_passwords_roles_and_stores_are_checked(hq: Hq) -> None:
    hq.store("east")
    cases = [
        ({"username": "a b"}, "username"), ({"password": "short"}, "password"),
        ({"role": "root"}, "role"), ({"role": "regional_manager"}, "stores"),
        ({"stores": ("east",)}, "stores"), ({"role": "regional_manager", "stores": ("nowhere",)}, "stores"),
    ]  # fmt: skip
    for change, field in cases:
        args = {"username": "ok", "password": PASSWORD, "role": "analyst", "stores": (), **change}
        with pytest.raises(InvalidInput) as refused, hq.db.write() as session:
            users.add_user(session, now=now(), who=audit.Who("test"), **args)  # type: ignore[arg-type]
        assert refused.value.field == field


def test_the_brand_admin_exports_the_audit_log_and_the_export_is_logged(world: World) -> None:
    answer = world.person("admin").get("/console/audit.csv")
    assert answer.status_code == 200 and answer.content.startswith("\ufeff".encode())
    assert b"login.ok" in answer.content
    assert world.person("east").get("/console/audit.csv").status_code == 403
    assert _actions(world.hq)[-1] == "refused" and "audit.export" in _actions(world.hq)


def test_one_address_trying_many_passwords_is_slowed_down(hq: Hq) -> None:
    hq.client.app.state.settings.join_limit_per_minute = 3
    person = Person(client_of(hq), "nobody")
    answers = [person.login("guess").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
