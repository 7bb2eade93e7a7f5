"""Follow-ups and invites on the store's calendar: the D+1 thank-you, the care check after a
sale and the birthday greeting fall on local dates, whatever the UTC date is."""

from __future__ import annotations

from datetime import date, datetime

from roster import GUIDE

from posapp.domain import invite as tokens
from posapp.domain.consent import Notice, Purpose
from posapp.domain.follow_up import Kind
from posapp.domain.invite import Offer, Signer
from posapp.domain.ladder import Channel
from posapp.domain.local_day import local_day
from posapp.protocol.changes import StoreAssigned, StoreChange
from posapp.services.follow_ups import due_follow_ups, my_customers
from posapp.services.invites import issue_invite
from posapp.services.members import enrol_member
from posapp.services.sales import record_sale
from posapp.store.db import Database
from posapp.store.hq_changes import apply_page
from posapp.store.local_days import store_today, store_zone

NEW_YORK = "America/New_York"


def _in_zone(db: Database, zone: str) -> None:
    """HQ names the counter's store and its zone (the first change of a snapshot)."""
    with db.write() as s:
        apply_page(s, [StoreChange(seq=1, key="test-store", data=StoreAssigned(timezone=zone))])


def _enrol(db: Database, notice: Notice, at: datetime, **kw: object) -> str:
    with db.write() as s:
        return enrol_member(
            s, phone="+8613812345678", consents={Purpose.MEMBERSHIP, Purpose.GUIDE_CONTACT},
            notice=notice, staff_id=GUIDE, now=at, **kw,  # type: ignore[arg-type]
        ).member_id  # fmt: skip


def _tasks(db: Database, today: date) -> dict[Kind, tuple[date, date]]:
    """Each open task's (anchor, due) day."""
    with db.lookup() as lookup:
        rows = my_customers(lookup, GUIDE, today)
    return {t.kind: (t.anchor_on, t.due_on) for r in rows for t in (*r.due, *r.upcoming)}


def test_the_thank_you_for_a_2330_local_enrolment_is_due_the_next_local_day(
    db: Database, notice: Notice
) -> None:
    _in_zone(db, NEW_YORK)
    late = datetime(2026, 12, 3, 4, 30)  # 23:30 on 2 December in New York: the 3rd in UTC
    member = _enrol(db, notice, late)
    with db.write() as s:
        record_sale(s, receipt_no="R-1", amount="100", member_id=member, now=late)
    tasks = _tasks(db, date(2026, 12, 3))
    assert tasks[Kind.THANK_YOU] == (date(2026, 12, 2), date(2026, 12, 3))
    assert tasks[Kind.CARE_CHECK] == (date(2026, 12, 2), date(2026, 12, 9))  # D+7 of the sale
    with db.lookup() as lookup:
        assert store_today(lookup, late) == date(2026, 12, 2)
        due = due_follow_ups(lookup, GUIDE, date(2026, 12, 3))
    assert [d.task.kind for d in due] == [Kind.THANK_YOU]


def test_a_0730_enrolment_in_shanghai_is_thanked_the_day_after_not_the_same_day(
    db: Database, notice: Notice
) -> None:
    with db.lookup() as lookup:
        assert store_zone(lookup) == "Asia/Shanghai"  # until HQ names another
    morning = datetime(2026, 12, 2, 23, 30)  # 07:30 on 3 December in Shanghai
    _enrol(db, notice, morning)
    assert _tasks(db, date(2026, 12, 3))[Kind.THANK_YOU] == (date(2026, 12, 3), date(2026, 12, 4))
    with db.lookup() as lookup:
        assert due_follow_ups(lookup, GUIDE, store_today(lookup, morning)) == []


def test_the_birthday_greeting_is_due_on_the_local_birthday(db: Database, notice: Notice) -> None:
    enrolled = datetime(2026, 10, 1, 2)
    _enrol(db, notice, enrolled, birthday=date(1990, 12, 3))
    just_after_midnight = datetime(2026, 12, 2, 16, 5)  # 00:05 on 3 December in Shanghai
    with db.lookup() as lookup:
        today = store_today(lookup, just_after_midnight)
        due = due_follow_ups(lookup, GUIDE, today)
    assert today == date(2026, 12, 3) == local_day(just_after_midnight, "Asia/Shanghai")
    assert [(d.task.kind, d.task.due_on) for d in due] == [(Kind.BIRTHDAY, date(2026, 12, 3))]


def test_an_invite_is_dated_and_expires_by_the_stores_days(db: Database) -> None:
    signer = Signer(store_no=4242, device_no=17, key=bytes(range(32)))
    morning = datetime(2026, 12, 2, 23, 30)  # 07:30 on 3 December in Shanghai
    with db.write() as s:
        issued = issue_invite(s, signer, offer=Offer(Channel.MINI_PROGRAM), now=morning)
    invite = tokens.peek(issued.token)
    assert invite.issue_day == date(2026, 12, 3)
    assert issued.expires_on == invite.expires_on() > date(2026, 12, 3)
