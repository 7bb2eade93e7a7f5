"""The Rules page's ladder preview, on SQLite and PostgreSQL: the members per rung the page
shows are the preview's own answer, checked as saving checks thresholds, nothing saved or
audited; only whoever may change the rules may preview."""

from __future__ import annotations

import re
from html import unescape

import pytest
from console_world import World, build
from sqlalchemy import func, select

from posapp.domain.ladder import LadderRules
from posapp.hq.ladder_preview import preview_ladder
from posapp.hq.models import AuditEntry, Change, Member, RuleSet
from posapp.timefmt import utcnow

PREVIEW = "/console/rules/ladder/preview"


@pytest.fixture
def world(hq) -> World:  # type: ignore[no-untyped-def]
    return build(hq)


def _form(**rules: object) -> dict[str, str]:
    body = {**LadderRules().to_dict(), **rules}
    return {k: ("on" if v is True else "" if v is False else str(v)) for k, v in body.items()
            if v is not False}  # fmt: skip


def _shown(html: str) -> dict[str, list[str]]:
    """The preview's table: each rung's label -> members now, with the thresholds, difference."""
    body = re.search(r'data-table="ladder_preview">(.*?)</table>', html, flags=re.S)
    assert body, "no preview table on the page"
    rows = [[unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)]  # fmt: skip
    return {row[0]: row[1:] for row in rows if row}


def _count(world: World, table: type) -> int:
    with world.hq.db.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_the_preview_shows_the_members_per_rung_the_thresholds_would_make(world: World) -> None:
    admin = world.person("admin")
    # both members bought once (build()): with one purchase enough and no guide needed, the
    # two members now are regulars
    form = _form(regular_min_purchases=1, regular_requires_guide=False)
    audits, changes = _count(world, AuditEntry), _count(world, Change)
    answer = admin.post(PREVIEW, form, page="/console/rules")
    assert answer.status_code == 200, answer.text[:500]
    with world.hq.db.read() as session:
        expected = preview_ladder(session, LadderRules.from_dict({**LadderRules().to_dict(),
                                  "regular_min_purchases": 1, "regular_requires_guide": False}),
                                  now=utcnow(), store_ids=None)  # fmt: skip
        now = dict(session.execute(select(Member.rung, func.count()).group_by(Member.rung)).all())
    assert expected.then == {"regular": 2} and expected.now == now == {"member": 2}
    shown = _shown(answer.text)
    assert shown == {
        "散客": ["0", "0", "0"],
        "会员": ["2", "0", "-2"],
        "熟客": ["0", "2", "+2"],
        "超级会员": ["0", "0", "0"],
    }
    assert "按这些门槛，今天有 2 位会员是熟客。" in answer.text
    # the form shows the thresholds previewed, ready to save
    assert re.search(r'name="regular_min_purchases" value="1"', answer.text)
    assert 'formaction="/console/rules/ladder/preview"' in answer.text
    # nothing saved, nothing sent to the stores, nothing on the audit log
    assert (_count(world, AuditEntry), _count(world, Change)) == (audits, changes)
    with world.hq.db.read() as session:
        assert session.get(RuleSet, "ladder") is None
    english = admin.get("/console/rules?lang=en")
    assert english.status_code == 200
    answer = admin.post(PREVIEW, form, page="/console/rules")
    assert _shown(answer.text)["Regular"] == ["0", "2", "+2"]
    assert "With these thresholds, 2 members would be regulars today." in answer.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("super_window_days", "-1", "ladder rule super_window_days must not be negative"),
        ("regular_window_days", "36501", "regular_window_days must be at most 36500 days"),
        ("regular_min_purchases", "two", "regular_min_purchases must be a whole number."),
    ],
)
def test_invalid_thresholds_are_refused_as_saving_them_would_be(
    world: World, field: str, value: str, message: str
) -> None:
    admin = world.person("admin")
    form = {**_form(), field: value}
    audits = _count(world, AuditEntry)
    previewed = admin.post(PREVIEW, form, page="/console/rules")
    saved = admin.post("/console/rules/ladder", form, page="/console/rules")
    assert previewed.status_code == saved.status_code == 422
    assert message in unescape(previewed.text) and message in unescape(saved.text)

    def said(html: str) -> str:
        found = re.search(r'<p class="err" id="message">(.*?)</p>', html, flags=re.S)
        assert found
        return found.group(1)

    assert said(previewed.text) == said(saved.text)
    assert 'data-table="ladder_preview"' not in previewed.text
    assert _count(world, AuditEntry) == audits
    with world.hq.db.read() as session:
        assert session.get(RuleSet, "ladder") is None


def test_only_who_may_change_the_rules_may_preview_them(world: World) -> None:
    admin = world.person("admin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', admin.get("/console/rules").text)
    assert csrf
    for name in ("east", "analyst", "privacy"):
        person = world.person(name)
        origin = person.get("/console")  # the rules page is not theirs: post from the overview
        token = re.search(r'name="csrf" value="([^"]+)"', origin.text)
        assert token, name
        refused = person.client.post(PREVIEW, data={"csrf": token.group(1), **_form()},
                                     follow_redirects=False)  # fmt: skip
        assert refused.status_code == 403, name
        assert "ladder_preview" not in refused.text
    # another's CSRF token is a stale form, whoever sends it
    stale = world.person("east").client.post(PREVIEW, data={"csrf": csrf.group(1), **_form()},
                                             follow_redirects=False)  # fmt: skip
    assert stale.status_code == 403


def test_a_regional_managers_preview_would_count_only_their_stores_members(world: World) -> None:
    """The rules page is the brand admin's; the preview's scope follows the viewer's stores
    (as the rung report's does), so a regional manager's would hold only their members."""
    from posapp.hq.console import actions, users

    rules = LadderRules(regular_min_purchases=1, regular_requires_guide=False)
    with world.hq.db.read() as session:
        east = preview_ladder(session, rules, now=utcnow(), store_ids=["east"])
        everyone = preview_ladder(session, rules, now=utcnow(), store_ids=None)
        nobody = preview_ladder(session, rules, now=utcnow(), store_ids=[])
        manager = users.Viewer("u", "east", "", users.Role.REGIONAL_MANAGER, frozenset({"east"}),
                               "c", "")  # fmt: skip
        with pytest.raises(users.Forbidden):
            actions.preview_ladder(session, manager, _form(), utcnow())
    assert east.then == {"regular": 1} and east.now == {"member": 1}
    assert everyone.then == {"regular": 2}
    assert nobody.then == {} and nobody.now == {}
