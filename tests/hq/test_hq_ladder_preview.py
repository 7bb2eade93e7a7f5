"""The Rules page's preview, on SQLite and PostgreSQL: for any thresholds and any members,
the members per rung it foresees are exactly those ``recompute_members`` then makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from posapp.domain.ladder import MAX_RULE_DAYS, CustomerStanding, LadderRules, Rung, assess
from posapp.hq.db import HqDatabase
from posapp.hq.ladder_preview import Facts, member_facts, preview_ladder, standing_of
from posapp.hq.members import recompute_members
from posapp.hq.migrate import migrate
from posapp.hq.models import Consent, Member, MemberStore, RuleSet, Sale

NOW = datetime(2026, 12, 1, 9)
TODAY = NOW.date()
IDS = count(1)


@pytest.fixture
def hq_db(hq_url: str) -> Iterator[HqDatabase]:
    database = HqDatabase(hq_url)
    migrate(database)
    yield database
    database.close()


days_ = st.one_of(st.integers(0, 45), st.sampled_from([0, 1, 2, MAX_RULE_DAYS]))
rules_ = st.builds(
    LadderRules,
    regular_min_purchases=st.integers(0, 4),
    regular_window_days=days_,
    regular_requires_guide=st.booleans(),
    super_min_purchases=st.integers(0, 5),
    super_window_days=days_,
    super_min_spend_fen=st.sampled_from([0, 1, 2_000, 5_000, 10**30]),
    super_min_referrals=st.integers(0, 2),
    demote_after_inactive_days=days_,
)


# A sale's moment: a day around today, often on a window's or the demotion's edge, at a time
# on either side of midnight and of NOW's 9:00 (recompute reads sales from NOW minus the
# longest window, the ladder counts whole days).
def moment_(rules: LadderRules) -> st.SearchStrategy[datetime]:
    edges = {rules.regular_window_days, rules.super_window_days, rules.demote_after_inactive_days}
    near = sorted({-e + k for e in edges for k in (-1, 0, 1)} | {-1, 0, 1})
    return st.builds(
        lambda day, seconds: (
            datetime.combine(TODAY, time.min) + timedelta(days=day, seconds=seconds)
        ),
        st.one_of(st.sampled_from(near), st.integers(-60, 2)),
        st.one_of(st.sampled_from([0, 1, 9 * 3600 - 1, 9 * 3600, 86_399]), st.integers(0, 86_399)),
    )


def member_(rules: LadderRules) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "rung": st.sampled_from([r.value for r in Rung]),
        "guide": st.booleans(),
        "referrals": st.integers(0, 3),
        "erased": st.sampled_from([False, False, False, True]),
        "stores": st.sets(st.sampled_from(["a", "b"])),
        # membership grants and withdrawals in order, and another purpose's that must not count
        "consents": st.lists(st.tuples(st.sampled_from(["membership", "marketing"]),
                                       st.booleans()), max_size=3),
        "sales": st.lists(st.tuples(moment_(rules), st.integers(-500, 4_000)), max_size=7),
    })  # fmt: skip


@st.composite
def worlds(draw: st.DrawFn) -> tuple[LadderRules, list[dict], list[str] | None]:
    rules = draw(rules_)
    members = draw(st.lists(member_(rules), max_size=8))
    return rules, members, draw(st.sampled_from([None, ["a"], ["b"], ["a", "b"], []]))


def _seed(session, members: list[dict]) -> list[str]:  # type: ignore[no-untyped-def]
    for table in (Sale, Consent, MemberStore, Member, RuleSet):
        session.execute(delete(table))
    ids = []
    for m in members:
        member_id = f"m{next(IDS)}"
        ids.append(member_id)
        session.add(Member(id=member_id, member_code=member_id, rung=m["rung"], referrals=m["referrals"],
                           guide_id="g1" if m["guide"] else None, enrolled_at=NOW, updated_at=NOW,
                           erased_at=NOW if m["erased"] else None))  # fmt: skip
        session.flush()
        for store in sorted(m["stores"]):
            session.add(MemberStore(member_id=member_id, store_id=store))
        for purpose, granted in m["consents"]:
            session.add(Consent(member_id=member_id, purpose=purpose, granted=granted, notice_id="n",
                                notice_version=1, notice_language="zh-CN", notice_hash="h",
                                source="counter", recorded_at=NOW))  # fmt: skip
            session.flush()  # ids in the order given: the latest consent is the highest id
        for at, amount in m["sales"]:
            sale_id = f"s{next(IDS)}"
            session.add(Sale(purchase_id=sale_id, store_id="a", device_id="d", receipt_no=sale_id,
                             amount_fen=amount, currency="CNY", member_id=member_id, occurred_at=at))  # fmt: skip
    session.flush()
    # As HQ keeps its members: every credited sale settles its member (visits, spend, last
    # visit, rung under the rules in force), which the preview reads beside the windows' sales.
    recompute_members(session, set(ids), now=NOW)
    session.flush()
    return ids


def _rungs(session, store_ids: list[str] | None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    query = select(Member.rung, func.count()).where(Member.erased_at.is_(None))
    if store_ids is not None:
        query = query.where(
            Member.id.in_(select(MemberStore.member_id).where(MemberStore.store_id.in_(store_ids)))
        )
    return dict(session.execute(query.group_by(Member.rung)).all())


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds())
@example(world=(  # the lapsed member who bought twice, long ago, within the longer window only
    LadderRules(regular_window_days=5, super_window_days=40, demote_after_inactive_days=3),
    [{"rung": "member", "guide": True, "referrals": 1, "erased": False, "stores": {"a"},
      "consents": [("membership", True)],
      "sales": [(NOW - timedelta(days=20), 100), (NOW - timedelta(days=19), 100)]}],
    None,
))  # fmt: skip
@example(world=(  # a sale at midnight tonight is tomorrow's: in no window yet
    LadderRules(),
    [{"rung": "member", "guide": True, "referrals": 0, "erased": False, "stores": set(),
      "consents": [("membership", True)],
      "sales": [(NOW, 100), (datetime.combine(TODAY + timedelta(days=1), time.min), 100)]}],
    None,
))  # fmt: skip
def test_the_preview_is_what_recompute_then_makes(
    hq_db: HqDatabase, world: tuple[LadderRules, list[dict], list[str] | None]
) -> None:
    rules, members, scope = world
    with hq_db.write() as session:
        ids = _seed(session, members)
        before = _rungs(session, scope)
        preview = preview_ladder(session, rules, now=NOW, store_ids=scope)
        assert preview.now == before
        session.add(RuleSet(kind="ladder", body=json.dumps(rules.to_dict()), updated_at=NOW))
        recompute_members(session, set(ids), now=NOW)
        session.flush()
        after = _rungs(session, scope)
    assert {r: n for r, n in preview.then.items() if n} == after
    assert all(row.then == after.get(row.rung, 0) for row in preview.rows)
    assert preview.total == sum(after.values())


def test_one_query_groups_a_crowd_into_a_few_combinations(hq_db: HqDatabase) -> None:
    """Forty members with the same facts are one combination, counted forty times."""
    same = {"rung": "member", "guide": True, "referrals": 0, "erased": False, "stores": {"a"},
            "consents": [("membership", True)], "sales": [(NOW - timedelta(days=1), 500)] * 3}  # fmt: skip
    with hq_db.write() as session:
        _seed(session, [same] * 40 + [{**same, "guide": False}] * 2)
        groups = member_facts(session, LadderRules(), now=NOW, store_ids=None)
        preview = preview_ladder(session, LadderRules(), now=NOW, store_ids=["a"])
        stricter = preview_ladder(session, LadderRules(regular_min_purchases=4), now=NOW,
                                  store_ids=["a"])  # fmt: skip
    assert stricter.now == {"regular": 40, "member": 2} and stricter.then == {"member": 42}
    assert sorted(n for _, n in groups) == [2, 40]
    assert preview.then == {"regular": 40, "member": 2}
    assert preview.now == {"regular": 40, "member": 2}
    regular = next(r for r in preview.rows if r.rung == "regular")
    assert (regular.now, regular.then, regular.difference) == (40, 40, 0)


facts_ = st.builds(
    Facts, is_member=st.booleans(), bought=st.booleans(), lapsed=st.booleans(),
    in_regular=st.integers(0, 6), in_super=st.integers(0, 6), spend_ok=st.booleans(),
    referrals_ok=st.booleans(), has_guide=st.booleans(),
)  # fmt: skip


def _facts_of(standing: CustomerStanding, rules: LadderRules, today: date) -> Facts:
    def within(window: int) -> int:
        return sum(1 for d in standing.purchase_days if today - timedelta(days=window) < d <= today)

    last = max(standing.purchase_days, default=None)
    return Facts(
        is_member=standing.is_member,
        bought=last is not None,
        lapsed=last is not None and (today - last).days > rules.demote_after_inactive_days,
        in_regular=min(within(rules.regular_window_days), rules.regular_min_purchases),
        in_super=min(within(rules.super_window_days), rules.super_min_purchases),
        spend_ok=standing.lifetime_spend_fen >= rules.super_min_spend_fen,
        referrals_ok=standing.referrals >= rules.super_min_referrals,
        has_guide=standing.has_guide,
    )


@given(rules=rules_, days=st.lists(st.integers(-80, 3), max_size=8), facts=facts_)
def test_the_made_up_customer_has_exactly_a_real_customers_facts(
    rules: LadderRules, days: list[int], facts: Facts
) -> None:
    """Any real purchase history's facts, made up again as a customer, are the same facts
    (and the same rung); ``facts`` gives spend, referrals, guide and membership."""
    real = CustomerStanding(
        is_member=facts.is_member,
        purchase_days=tuple(TODAY + timedelta(days=d) for d in days),
        lifetime_spend_fen=rules.super_min_spend_fen - (0 if facts.spend_ok else 1),
        referrals=rules.super_min_referrals - (0 if facts.referrals_ok else 1),
        has_guide=facts.has_guide,
    )
    seen = _facts_of(real, rules, TODAY)
    made_up = standing_of(seen, rules, TODAY)
    assert _facts_of(made_up, rules, TODAY) == seen
    assert assess(made_up, rules, TODAY).rung == assess(real, rules, TODAY).rung
