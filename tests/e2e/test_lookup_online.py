"""The story of issue 15, over HTTP with a real HQ process: a member who joined at store A
is recognised at store B in one scan, by phone and by code; their later consent
withdrawal and their erasure reach B through its feed; a fresh snapshot at B has them once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hq_load import MASTER_KEY, hq_process
from sqlalchemy import func, select, text
from sync_world import now, registered_counter

from posapp.cli import main
from posapp.domain.consent import Purpose
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.resources import current_notice
from posapp.services.hq_lookup import BrandIdentification, identify_in_brand
from posapp.services.members import change_consent, enrol_member
from posapp.services.sales import record_sale
from posapp.services.standing import current_consents
from posapp.store.db import Database
from posapp.store.models import ConsentRecord, Member, SyncState
from posapp.sync.engine import SyncEngine
from posapp.sync.lookup import hq_asker
from posapp.sync.registration import client_for

PHONE = "13812345678"
E164 = "+8613812345678"


@dataclass
class Till:
    db: Database
    data: Path

    def sync(self) -> None:
        SyncEngine(self.db, client_for(self.db, self.data)).run_once()

    def identify(self, raw: str) -> BrandIdentification:
        return identify_in_brand(self.db, raw, ask=hq_asker(self.db, self.data), region="CN")

    def members(self, phone: str = E164) -> list[Member]:
        with self.db.read() as session:
            return list(session.scalars(select(Member).where(Member.phone_e164 == phone)))


@dataclass
class World:
    hq: HqDatabase
    base: str
    a: Till
    b: Till


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    with hq_db.write() as session:
        admin.add_store(session, store_id="a", name="Store A", now=now())
        admin.add_store(session, store_id="b", name="Store B", now=now())
    (tmp_path / "hq").mkdir()
    with hq_process(url, tmp_path / "hq") as base:
        tills = [
            Till(registered_counter(tmp_path / s, base=base, hq_db=hq_db, store=s), tmp_path / s)
            for s in "ab"
        ]
        yield World(hq_db, base, *tills)
        for till in tills:
            till.db.close()
    hq_db.close()


def _enrol_at_a(world: World, phone: str = PHONE) -> str:
    with world.a.db.write() as session:
        done = enrol_member(session, phone=phone, name="王芳", staff_id=None, store_id="a",
                            consents={Purpose.MEMBERSHIP, Purpose.MARKETING},
                            notice=current_notice())  # fmt: skip
    world.a.sync()
    world.b.sync()
    return done.member_id


def test_enrolled_at_a_recognised_at_b_by_phone_then_kept_in_step(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    member_id = _enrol_at_a(world)
    assert world.b.members() == []  # B's own snapshot does not hold A's member
    assert main(["--data-dir", str(world.b.data), "identify", PHONE]) == 0
    said = capsys.readouterr().out
    assert "王芳" in said and "138****5678" in said, said
    assert "member since " in said and " at Store A" in said, said
    [kept] = world.b.members()
    assert kept.id == member_id and kept.enrolled_store_id == "a"
    with world.b.db.lookup() as lookup:
        consents = current_consents(lookup, member_id)
    assert consents[Purpose.MEMBERSHIP] and consents[Purpose.MARKETING]  # not asked again
    again = world.b.identify(PHONE)  # the next scan is local: HQ is not asked
    assert again.found.card is not None and again.asked is None
    with world.b.db.write() as session:  # the sale that follows is the member's
        sale = record_sale(session, receipt_no="B-1", amount="88.00", staff_id=None,
                           member_id=member_id)  # fmt: skip
    world.b.sync()  # B's feed brings the member again (HQ made B a holder): no second row
    assert [m.id for m in world.b.members()] == [member_id]
    with world.hq.read() as session:
        owner = session.execute(
            text("SELECT member_id FROM sale WHERE purchase_id = :p"), {"p": sale.purchase_id}
        ).scalar_one()
    assert owner == member_id

    # A's later withdrawal reaches B, as the member's consent, not a question for B
    with world.a.db.write() as session:
        change_consent(session, member_id=member_id, purpose=Purpose.MARKETING, granted=False,
                       notice=current_notice(), staff_id=None)  # fmt: skip
    world.a.sync()
    world.b.sync()
    with world.b.db.lookup() as lookup:
        assert current_consents(lookup, member_id)[Purpose.MARKETING] is False

    # a fresh snapshot at B: the member once, their consents as they were
    with world.b.db.write() as session:
        session.execute(text("UPDATE sync_state SET cursor = NULL WHERE id = 1"))
    world.b.sync()
    assert [m.id for m in world.b.members()] == [member_id]
    with world.b.db.lookup() as lookup:
        consents = current_consents(lookup, member_id)
    assert consents[Purpose.MEMBERSHIP] and not consents[Purpose.MARKETING]

    # erased at HQ: gone from B too
    with world.hq.write() as session:
        admin.erase_member(session, member_id=member_id, requested_by="hq", now=now(),
                           master_key=MASTER_KEY.encode())  # fmt: skip
    world.b.sync()
    assert world.b.members() == []
    with world.b.db.read() as session:
        gone = session.get(Member, member_id)
        left = session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.member_id == member_id)
        )
    assert gone is not None and gone.erased_at is not None and gone.name is None and left == 0
    nobody = world.b.identify(PHONE)
    assert nobody.found.card is None and nobody.asked is not None
    assert nobody.asked.member_id is None and not nobody.hq_could_not_be_asked


def test_recognised_at_b_by_member_code(world: World) -> None:
    member_id = _enrol_at_a(world, "13900001111")
    with world.a.db.read() as session:
        code = session.scalar(select(Member.member_code).where(Member.id == member_id))
    assert code is not None
    looked = world.b.identify(code)
    assert looked.found.card is not None and looked.found.card.id == member_id
    assert looked.asked is not None and looked.asked.member_id == member_id
    since = looked.found.card.since  # the card says where and when they joined
    with world.b.db.read() as session:
        own = session.scalar(select(SyncState.store_id))
    assert own == "b" and since is not None and since.store_name == "Store A"
    assert since.enrolled_at.date() == now().date()


def test_a_last_four_or_a_name_is_never_asked_of_hq(world: World) -> None:
    _enrol_at_a(world)
    for raw in ("5678", "王"):
        looked = world.b.identify(raw)
        assert looked.asked is None and looked.found.candidates == []
    with world.hq.read() as session:
        assert session.execute(text("SELECT count(*) FROM member_lookup")).scalar_one() == 0


def test_a_member_b_also_enrolled_unsynced_stays_one_member(world: World) -> None:
    """B enrolled the same phone before it knew (not pushed yet): A's card, scanned at B,
    finds A's member at HQ; B's own enrolment is merged into it here and at HQ."""
    member_id = _enrol_at_a(world)
    with world.b.db.write() as session:
        mine = enrol_member(session, phone=PHONE, name="王芳", staff_id=None, store_id="b",
                            consents={Purpose.MEMBERSHIP},
                            notice=current_notice()).member_id  # fmt: skip
        sale = record_sale(session, receipt_no="B-1", amount="10.00", staff_id=None,
                           member_id=mine)  # fmt: skip
    with world.a.db.read() as session:
        code = session.scalar(select(Member.member_code).where(Member.id == member_id))
    assert code is not None
    looked = world.b.identify(code)
    assert looked.found.card is not None and looked.found.card.id == member_id
    assert [m.id for m in world.b.members()] == [member_id]
    world.b.sync()
    world.b.sync()
    assert [m.id for m in world.b.members()] == [member_id]
    with world.b.db.lookup() as lookup:
        assert lookup.member_by_id(mine) is None
        assert current_consents(lookup, member_id)[Purpose.MEMBERSHIP]
    with world.hq.read() as session:
        owner = session.execute(
            text("SELECT member_id FROM sale WHERE purchase_id = :p"), {"p": sale.purchase_id}
        ).scalar_one()
        members = session.execute(
            text("SELECT count(*) FROM member WHERE phone_e164 = :p"), {"p": E164}
        ).scalar_one()
    assert owner == member_id and members == 1
