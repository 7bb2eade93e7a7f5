"""The console's pages, on SQLite and PostgreSQL: reports equal to the API's answers (page
and CSV), every changing request on the audit log, names escaped, the schema as migrated."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from console_world import World, build
from hq_harness import Hq, now
from sqlalchemy import func, select

from posapp.cli import main as posapp_main
from posapp.domain.ladder import LadderRules
from posapp.domain.table_csv import BOM, from_csv
from posapp.hq import admin
from posapp.hq.api.routes import console_members, console_pages, console_stores, console_users
from posapp.hq.console import report_pages
from posapp.hq.models import AuditEntry, Base, ConsoleUser, RungChange, Staff

CONSOLE_TABLES = {"console_user", "console_user_store", "console_session", "audit_log"}
API = {"capture": "capture", "enrolments": "enrolments", "rungs": "rungs",
       "repurchase": "repurchase", "follow-ups": "follow-ups"}  # fmt: skip


@pytest.fixture
def world(hq: Hq) -> World:
    return build(hq)


def _html_tables(html: str) -> dict[str, list[list[str]]]:
    found = {}
    for name, body in re.findall(r'data-table="([^"]+)">(.*?)</table>', html, flags=re.S):
        found[name] = [[unescape(c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)]
                       for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]  # fmt: skip
    return found


def _csv_rows(raw: bytes) -> list[list[str]]:
    """The CSV read back as the counter reads its own (a quoted formula-like cell unquoted)."""
    assert raw.startswith(BOM.encode()), "no UTF-8 BOM: Excel would garble Chinese"
    table = from_csv("t", raw.decode("utf-8"))
    return [list(table.columns), *(list(row) for row in table.rows)]


def _text(value: object) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("name", report_pages.NAMES)
def test_each_report_page_and_csv_show_the_apis_numbers(world: World, name: str) -> None:
    for store in ("", "east"):
        query = f"?days=30&store={store}" if store else "?days=30"
        api = world.hq.client.get(f"/v1/reports/{API[name]}", headers=world.hq.as_admin(),
                                  params={"days": 30, **({"store_id": store} if store else {})})  # fmt: skip
        assert api.status_code == 200, api.text
        expected = {t.name: [list(t.columns), *([_text(v) for v in row] for row in t.rows)]
                    for t in report_pages.tables(name, api.json())}  # fmt: skip
        # since/until differ by the moment each was asked: compare them to the minute
        shown = _html_tables(world.person("admin").get(f"/console/reports/{name}{query}").text)
        assert set(shown) == set(expected)
        for table, rows in expected.items():
            # the page labels columns in its language; the CSV keeps the API's names
            assert _minutes(shown[table][1:]) == _minutes(rows[1:]), (name, table)
            assert len(shown[table][0]) == len(rows[0])
            raw = world.person("admin").get(f"/console/reports/{name}/{table}.csv{query}")
            assert raw.headers["content-type"].startswith("text/csv")
            assert _minutes(_csv_rows(raw.content)) == _minutes(rows), (name, table)
    if name == "capture":  # not vacuous: the sales pushed are there
        assert expected["by_store"][1][:3] == ["east", "2", "1"]


def _minutes(rows: list[list[str]]) -> list[list[str]]:
    return [[re.sub(r"(T\d\d:\d\d):\d\d(\.\d+)?", r"\1", c) for c in row] for row in rows]


def test_a_csv_cell_that_looks_like_a_formula_is_quoted(world: World) -> None:
    with world.hq.db.write() as session:
        admin.add_staff(session, store_id="east", name="=HYPERLINK(1)", role="guide", pin="1234",
                        now=now(), staff_id="=cmd")  # fmt: skip
    till = world.hq.counter("east")
    sale = till.sale()
    sale["payload"]["staff_id"] = "=cmd"
    till.push()
    raw = world.person("admin").get("/console/reports/capture/by_staff.csv?store=east").content
    assert b"'=cmd" in raw and b"\n=cmd" not in raw


def test_names_with_markup_and_emoji_are_shown_as_text(world: World) -> None:
    nasty = '<script>alert("x")</script>😀 店员'
    with world.hq.db.write() as session:
        admin.add_store(session, store_id="odd", name=nasty, now=now())
    admin_page = world.person("admin")
    added = admin_page.post("/console/stores/odd/staff", {"name": nasty, "role": "guide", "pin": "2468"},
                            page="/console/stores/odd")  # fmt: skip
    assert added.status_code == 303
    for path in ("/console/stores", "/console/stores/odd", "/console"):
        html = admin_page.get(path).text
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;😀 店员" in html, path


# Every console route that changes something, with a form that makes it succeed (in order:
# the guide change needs the guide still active, the person changed is the one just added,
# the erasure comes last).
LADDER = {k: ("on" if v is True else "" if v is False else str(v)) for k, v in
          {**LadderRules().to_dict(), "regular_min_purchases": 3}.items()}  # fmt: skip
PERSON = "/console/users/{user_id}"
CHANGES = [
    ("/console/stores", {"store_id": "north", "name": "北店"}, "/console/stores", "store.add"),
    ("/console/stores/{store_id}", {"name": "东店", "region": "CN"}, "/console/stores/east", "store.edit"),
    ("/console/stores/{store_id}/code", {}, "/console/stores/east", "device.code"),
    ("/console/stores/{store_id}/staff", {"name": "新人", "role": "cashier", "pin": "1357"},
     "/console/stores/east", "staff.add"),
    ("/console/members/{member_id}/guide", {"guide_id": "east-guide-0"}, "/console/members/{member_id}",
     "member.guide"),
    ("/console/stores/{store_id}/staff/{staff_id}", {"change": "deactivate"}, "/console/stores/east",
     "staff.deactivate"),
    ("/console/users", {"username": "newbie", "password": "long enough password", "role": "analyst"},
     "/console/users", "user.add"),
    (PERSON, {"change": "role", "role": "regional_manager", "stores": "east"}, "/console/users",
     "user.role"),
    (PERSON, {"change": "password", "password": "another long password"}, "/console/users",
     "user.password"),
    (PERSON, {"change": "deactivate"}, "/console/users", "user.deactivate"),
    (PERSON, {"change": "reactivate"}, "/console/users", "user.reactivate"),
    ("/console/rules/{kind}", LADDER, "/console/rules", "rules.set"),
    ("/console/members/{member_id}/reveal", {}, "/console/members/{member_id}", "member.reveal_phone"),
    ("/console/members/{member_id}/erase", {"confirm": "{code}"}, "/console/members/{member_id}",
     "member.erase"),
]  # fmt: skip
# Posted forms that change nothing (so write no audit row): tested in test_console_rules_preview.
UNCHANGING = {"/console/rules/ladder/preview"}


def test_every_changing_console_request_writes_an_audit_row(world: World) -> None:
    routers = (console_pages.router, console_stores.router, console_members.router,
               console_users.router)  # fmt: skip
    posts = {r.path for rt in routers for r in rt.routes if "POST" in getattr(r, "methods", ())}
    assert posts == {route for route, *_ in CHANGES} | UNCHANGING, (
        "a new changing route: add it here, with its audit action"
    )
    admin = world.person("admin")
    for route, form, origin, action in CHANGES:
        with world.hq.db.read() as session:
            newbie = session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == "newbie"))
        fill = {"store_id": "east", "member_id": world.members["east"], "staff_id": "east-guide-0",
                "kind": "ladder", "code": world.codes["east"], "user_id": newbie or "-"}  # fmt: skip
        before = _count(world, action)
        form = {k: v.format(**fill) for k, v in form.items()}
        answer = admin.post(route.format(**fill), form, page=origin.format(**fill))
        assert answer.status_code in (200, 303), (route, answer.text[:500])
        assert _count(world, action) == before + 1, route
        with world.hq.db.read() as session:  # who, whom, from where
            entry = session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.id.desc())).first()  # fmt: skip
            assert entry is not None and entry.actor != "-" and entry.address, action
            if route == PERSON:
                assert entry.target == newbie, action
    assert _count(world, "login.ok") >= 4  # the four sign-ins of build()
    admin.post("/console/logout", {}, page="/console")
    assert _count(world, "logout") == 1


def _count(world: World, action: str) -> int:
    with world.hq.db.read() as session:
        return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def test_the_console_tables_are_as_the_migration_made_them(hq: Hq) -> None:
    with hq.db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    def table_of(diff: object) -> str:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:  # type: ignore[index]
            for name in (
                part,
                getattr(part, "name", None),
                getattr(getattr(part, "table", None), "name", None),
            ):
                if isinstance(name, str) and name in CONSOLE_TABLES:
                    return name
        return ""

    assert [d for d in diffs if table_of(d) in CONSOLE_TABLES] == []


def test_posapp_hq_user_add_bootstraps_the_first_admin(
    hq: Hq, hq_url: str, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("a first good password\n"))
    code = posapp_main(["hq", "--db", hq_url, "user", "add", "boss", "--role", "brand_admin",
                        "--name", "总部", "--password-stdin"])  # fmt: skip
    assert code == 0 and "boss" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert posapp_main(["hq", "--db", hq_url, "user", "add", "tiny", "--role", "analyst",
                        "--password-stdin"]) == 2  # fmt: skip
    with hq.db.read() as session:
        boss = session.scalar(select(ConsoleUser).where(ConsoleUser.username == "boss"))
        assert (
            boss is not None
            and boss.role == "brand_admin"
            and boss.password_hash.startswith("$argon2id$")
        )
        actor = session.scalar(select(AuditEntry.actor).where(AuditEntry.target == boss.id))
        assert actor is not None and actor.startswith("cli:")
        assert session.scalar(select(ConsoleUser).where(ConsoleUser.username == "tiny")) is None
        assert session.scalar(select(func.count()).select_from(Staff)) == 0


def test_a_members_page_shows_their_rung_history(world: World) -> None:
    """HQ's record of the member's moves, newest first, in the page's words."""
    page = world.person("admin").get(f"/console/members/{world.members['east']}").text
    table = page.split('id="rung-history"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>",
                      table)  # fmt: skip
    assert rows, table
    _when, was, now_, why = rows[-1]  # the oldest: joining
    assert (was, now_, why) == ("散客", "会员", "入会"), rows
    with world.hq.db.read() as session:
        recorded = session.scalar(select(func.count()).select_from(RungChange)
                                  .where(RungChange.member_id == world.members["east"]))  # fmt: skip
    assert len(rows) == recorded
