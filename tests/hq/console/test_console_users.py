"""The brand admin changes people, on SQLite and PostgreSQL: role and stores from the next
request, deactivation ending every session at once, reactivation, a password reset, the last
brand admin kept, only the brand admin allowed, CSRF, an audit row for each, and the CLI."""

from __future__ import annotations

import pytest
from console_world import PASSWORD, Person, World, build, client_of, csrf_of
from hq_harness import Hq, now
from sqlalchemy import func, select

from posapp.cli import main as posapp_main
from posapp.hq.console import audit, users
from posapp.hq.models import AuditEntry, ConsoleSession, ConsoleUser, ConsoleUserStore

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def world(hq: Hq) -> World:
    return build(hq)


def _id(world: World, username: str) -> str:
    with world.hq.db.read() as session:
        return users.user_id_of(session, username)


def _change(world: World, username: str, form: dict[str, str], *, by: str = "admin") -> object:
    page = "/console/users" if by == "admin" else "/console"
    return world.person(by).post(f"/console/users/{_id(world, username)}", form, page=page)


def _audit(world: World, action: str) -> list[AuditEntry]:
    with world.hq.db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _sessions(world: World, username: str) -> int:
    with world.hq.db.read() as session:
        return session.scalar(select(func.count()).select_from(ConsoleSession)
                              .where(ConsoleSession.user_id == _id(world, username))) or 0  # fmt: skip


def test_a_role_or_scope_change_holds_from_the_next_request(world: World) -> None:
    east = world.person("east")
    assert east.get("/console/stores/west").status_code == 403
    answer = _change(world, "east", {"change": "role", "role": "regional_manager",
                                     "stores": "east, west"})  # fmt: skip
    assert answer.status_code == 303
    assert east.get("/console/stores/west").status_code == 200  # the same session, wider
    _change(world, "east", {"change": "role", "role": "regional_manager", "stores": "east"})
    assert east.get("/console/stores/west").status_code == 403  # narrowed, at once
    assert east.get(f"/console/members/{world.members['west']}").status_code == 403
    assert east.get("/console/stores/east").status_code == 200
    _change(world, "east", {"change": "role", "role": "analyst", "stores": ""})
    staff = east.post("/console/stores/east/staff/east-guide-0", {"change": "deactivate"},
                      page="/console/stores/east")  # fmt: skip
    assert staff.status_code == 403  # an analyst changes nothing
    with world.hq.db.read() as session:
        assert session.scalars(select(ConsoleUserStore)
                               .where(ConsoleUserStore.user_id == _id(world, "east"))).all() == []  # fmt: skip
    entries = _audit(world, "user.role")
    assert len(entries) == 3 and entries[-1].target == _id(world, "east")
    assert entries[-1].actor == _id(world, "admin") and entries[-1].address
    assert '"previous_role": "regional_manager"' in entries[-1].detail
    bad = _change(world, "analyst", {"change": "role", "role": "regional_manager", "stores": ""})
    assert bad.status_code == 422 and 'id="message"' in bad.text
    bad = _change(world, "analyst", {"change": "role", "role": "analyst", "stores": "west"})
    assert bad.status_code == 422


def test_made_brand_admin_a_person_signs_in_again_with_two_step(world: World) -> None:
    _change(world, "analyst", {"change": "role", "role": "brand_admin"})
    analyst = world.person("analyst")
    assert analyst.get("/console").status_code == 303  # their password-only session ended
    analyst.sign_in()  # enrols a factor on the way
    assert analyst.totp and analyst.get("/console/users").status_code == 200


def test_a_deactivated_person_is_out_at_once_and_cannot_sign_in_until_reactivated(
    world: World,
) -> None:
    east = world.person("east")
    other_browser = Person(client_of(world.hq), "east")
    other_browser.sign_in()
    assert _sessions(world, "east") == 2
    assert _change(world, "east", {"change": "deactivate"}).status_code == 303
    assert _sessions(world, "east") == 0
    for browser in (east, other_browser):
        answer = browser.get("/console/stores/east")
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    refused = east.login()
    assert refused.status_code == 401 and "用户名或密码不正确" in refused.text
    page = world.person("admin").get("/console/users")
    assert 'data-user="east" data-active="no"' in page.text
    (entry,) = _audit(world, "user.deactivate")
    assert (entry.actor, entry.target) == (_id(world, "admin"), _id(world, "east"))
    assert entry.address and '"sessions_ended": 2' in entry.detail
    assert _audit(world, "login.inactive")

    assert _change(world, "east", {"change": "reactivate"}).status_code == 303
    east.sign_in()
    assert east.get("/console/stores/east").status_code == 200
    (entry,) = _audit(world, "user.reactivate")
    assert entry.target == _id(world, "east") and entry.actor == _id(world, "admin")


def test_a_password_reset_ends_the_persons_sessions(world: World) -> None:
    analyst = world.person("analyst")
    assert analyst.get("/console").status_code == 200
    short = _change(world, "analyst", {"change": "password", "password": "short"})
    assert short.status_code == 422 and analyst.get("/console").status_code == 200
    done = _change(world, "analyst", {"change": "password", "password": NEW_PASSWORD})
    assert done.status_code == 303
    assert analyst.get("/console").status_code == 303
    assert analyst.login(PASSWORD).status_code == 401
    assert analyst.login(NEW_PASSWORD).status_code == 303
    assert analyst.get("/console").status_code == 200
    (entry,) = _audit(world, "user.password")
    assert entry.target == _id(world, "analyst") and NEW_PASSWORD not in entry.detail


def test_the_last_active_brand_admin_cannot_step_down(world: World) -> None:
    admin = world.person("admin")
    for form in ({"change": "deactivate"}, {"change": "role", "role": "analyst"}):
        refused = _change(world, "admin", form)
        assert refused.status_code == 422, form
        assert (
            'data-rule="last_admin"' in refused.text
            and "至少要保留一名在用的品牌管理员" in refused.text
        )
    english = admin.client.post(
        f"/console/users/{_id(world, 'admin')}?lang=en",
        data={"csrf": csrf_of(admin.get("/console/users").text), "change": "deactivate"},
    )
    assert "HQ keeps at least one active brand admin" in english.text
    with world.hq.db.read() as session:
        me = session.get(ConsoleUser, _id(world, "admin"))
        assert me.active and me.role == "brand_admin"
    assert admin.get("/console/users").status_code == 200
    assert not _audit(world, "user.deactivate") and not _audit(world, "user.role")

    with world.hq.db.write() as session:  # a second brand admin: now the first may step down
        users.add_user(session, username="boss2", password=PASSWORD, role="brand_admin",
                       now=now(), who=audit.Who("test"))  # fmt: skip
    assert _change(world, "admin", {"change": "role", "role": "analyst"}).status_code == 303
    assert admin.get("/console/users").status_code == 403  # an analyst from the next request
    assert len(_audit(world, "user.role")) == 1


def test_only_the_brand_admin_changes_people(world: World) -> None:
    target = _id(world, "analyst")
    for role in ("east", "analyst", "privacy"):
        person = world.person(role)
        assert person.get("/console/users").status_code == 403, role
        for form in ({"change": "deactivate"}, {"change": "password", "password": NEW_PASSWORD},
                     {"change": "role", "role": "brand_admin"}):  # fmt: skip
            answer = person.post(f"/console/users/{target}", form, page="/console")
            assert answer.status_code == 403 and 'data-reason="forbidden"' in answer.text, role
    with world.hq.db.read() as session:
        analyst = session.get(ConsoleUser, target)
        assert analyst.active and analyst.role == "analyst"
    assert not [e for e in _audit(world, "refused") if e.actor == "-"]
    assert len(_audit(world, "refused")) >= 9
    assert not _audit(world, "user.deactivate") and not _audit(world, "user.password")


def test_a_people_form_without_the_sessions_csrf_token_changes_nothing(world: World) -> None:
    admin = world.person("admin")
    target = _id(world, "analyst")
    for token in ("", "forged-token"):
        answer = admin.client.post(f"/console/users/{target}",
                                   data={"csrf": token, "change": "deactivate"})  # fmt: skip
        assert answer.status_code == 403 and 'data-reason="bad_form"' in answer.text
    with world.hq.db.read() as session:
        assert session.get(ConsoleUser, target).active
    assert _sessions(world, "analyst") == 1
    assert world.person("analyst").get("/console").status_code == 200


def test_unknown_people_and_changes_are_refused(world: World) -> None:
    admin = world.person("admin")
    assert admin.post("/console/users/nobody", {"change": "deactivate"},
                      page="/console/users").status_code == 404  # fmt: skip
    assert _change(world, "analyst", {"change": "promote"}).status_code == 422


def test_posapp_hq_user_deactivate_and_reactivate(world: World, hq_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    east = world.person("east")
    assert posapp_main(["hq", "--db", hq_url, "user", "deactivate", "East"]) == 0
    assert "east deactivated" in capsys.readouterr().out
    assert east.get("/console").status_code == 303 and east.login().status_code == 401
    assert posapp_main(["hq", "--db", hq_url, "user", "reactivate", "east"]) == 0
    east.sign_in()
    assert posapp_main(["hq", "--db", hq_url, "user", "deactivate", "nobody"]) == 2
    assert posapp_main(["hq", "--db", hq_url, "user", "deactivate", "admin"]) == 2  # the last
    assert "HQ keeps at least one active brand admin" in capsys.readouterr().err
    for action in ("user.deactivate", "user.reactivate"):
        (entry,) = _audit(world, action)
        assert entry.actor.startswith("cli:") and entry.target == _id(world, "east")
