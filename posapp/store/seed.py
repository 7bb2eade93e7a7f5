"""Realistic synthetic members, purchases and consents for demos and benchmarks.

Seeded rows are written in bulk with plain SQL and produce no outbox events: they are
local demo data, never facts to report to HQ.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from stdnum import luhn

from posapp.domain.consent import Notice, Purpose
from posapp.domain.ids import new_id
from posapp.domain.ladder import CustomerStanding, LadderRules, assess
from posapp.domain.member_code import CODE_LENGTH, CODE_PREFIX
from posapp.store.cipher import ERRORS as SQLITE_ERRORS
from posapp.store.db import Database, explain
from posapp.timefmt import to_text

# Prefixes libphonenumber classifies as CN mobile for every 8-digit suffix.
MOBILE_PREFIXES = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156,
    157, 158, 159, 166, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187,
    188, 189, 191, 198, 199,
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉鹏飞玲婷雪琳晨宇浩然欣怡子涵梓萱一诺佳琪思远嘉怡"
STAFF = (
    ("demo-mgr", "周店长", "manager"),
    ("demo-g1", "王芳", "guide"),
    ("demo-g2", "李娜", "guide"),
    ("demo-g3", "陈静", "guide"),
    ("demo-c1", "刘洋", "cashier"),
    ("demo-c2", "张伟", "cashier"),
)
DEMO_STORE = ("demo-store", "示范门店 · 静安店", "CN", "CNY")
SEED_DEVICE = "seed-device"
BATCH = 50_000
PROCESS_AT = 100_000
SEED_CACHE_KIB = 256 * 1024


@dataclass(frozen=True, slots=True)
class SeedResult:
    members: int
    purchases: int
    consents: int


def ensure_demo_roster(conn: sqlite3.Connection) -> None:
    """The demo store and its staff, so seeded sales have a cashier and members a guide."""
    conn.execute(
        "INSERT OR IGNORE INTO store (id, name, region, currency) VALUES (?,?,?,?)", DEMO_STORE
    )
    conn.executemany(
        "INSERT OR IGNORE INTO staff (id, store_id, name, role, pin_hash, active) "
        "VALUES (?, ?, ?, ?, NULL, 1)",
        [(sid, DEMO_STORE[0], name, role) for sid, name, role in STAFF],
    )


def _code(rng: random.Random) -> str:
    body = CODE_PREFIX + str(rng.randrange(10 ** (CODE_LENGTH - 2))).zfill(CODE_LENGTH - 2)
    return body + luhn.calc_check_digit(body)


def _produce(out: Any, count: int, maker: _MemberMaker) -> None:
    """Make ``count`` members in batches onto ``out``; ``None`` ends, a string is an error."""
    try:
        done = 0
        while done < count:
            batch = maker.batch(min(BATCH, count - done))
            out.put(batch)
            done += len(batch[0])
        out.put(None)
    except Exception as exc:  # reported to the writing side, which raises
        out.put(f"{type(exc).__name__}: {exc}")


_INSERT_MEMBER = (
    "INSERT INTO member (id, member_code, phone_e164, phone_last4, name, rung, guide_id,"
    " enrolled_store_id, enrolled_at, visit_count, lifetime_spend_fen, last_visit_at,"
    " referrals, guardian_consent, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)"
)
_INSERT_PURCHASE = (
    "INSERT INTO purchase (id, device_id, receipt_no, amount_fen, currency, staff_id,"
    " member_id, source, occurred_at) VALUES (?,?,?,?,?,?,?,?,?)"
)
_INSERT_CONSENT = (
    "INSERT INTO consent_record (member_id, purpose, granted, notice_id, notice_version,"
    " notice_language, notice_hash, staff_id, recorded_at) VALUES (?,?,1,?,?,?,?,NULL,?)"
)


@contextmanager
def _bulk_connection(db: Database) -> Iterator[sqlite3.Connection]:
    """A raw connection for bulk loading; a SQLite failure rolls back and is explained.

    A large page cache keeps the random index inserts in memory, and synchronous=NORMAL
    (still corruption-safe in WAL mode) skips an fsync per batch.
    """
    conn = db.raw()
    conn.execute(f"PRAGMA cache_size=-{SEED_CACHE_KIB}")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield conn
    except SQLITE_ERRORS as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise explain(exc) from exc
    finally:
        conn.close()


def seed_members(
    db: Database,
    count: int,
    *,
    notice: Notice,
    now: datetime,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Add ``count`` members with 0–5 purchases each over the last two years."""
    with _bulk_connection(db) as conn:
        conn.execute("BEGIN IMMEDIATE")
        ensure_demo_roster(conn)
        phones = {
            r[0] for r in conn.execute("SELECT phone_e164 FROM member WHERE phone_e164 IS NOT NULL")
        }
        codes = {r[0] for r in conn.execute("SELECT member_code FROM member")}
        receipts = conn.execute(
            "SELECT count(*) FROM purchase WHERE device_id = ?", (SEED_DEVICE,)
        ).fetchone()[0]
        conn.execute("COMMIT")
        maker = _MemberMaker(random.Random(seed), notice, now, phones, codes, receipts)
        # Making members is pure Python and holds the GIL; for big seeds a second process
        # makes them while this one writes, so the two cores work at once.
        if count >= PROCESS_AT:
            ctx = multiprocessing.get_context("spawn")
            batches: Any = ctx.Queue(maxsize=2)
            producer: Any = ctx.Process(target=_produce, args=(batches, count, maker), daemon=True)
        else:
            batches = queue.Queue(maxsize=2)
            producer = threading.Thread(target=_produce, args=(batches, count, maker), daemon=True)
        producer.start()
        totals = SeedResult(0, 0, 0)
        try:
            while (batch := batches.get()) is not None:
                if isinstance(batch, str):
                    raise RuntimeError(f"making seed members failed: {batch}")
                members, purchases, consents = batch
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(_INSERT_MEMBER, members)
                conn.executemany(_INSERT_PURCHASE, purchases)
                conn.executemany(_INSERT_CONSENT, consents)
                conn.execute("COMMIT")
                totals = SeedResult(
                    totals.members + len(members),
                    totals.purchases + len(purchases),
                    totals.consents + len(consents),
                )
                if progress:
                    progress(totals.members)
        finally:
            if producer.is_alive() and isinstance(producer, multiprocessing.process.BaseProcess):
                producer.terminate()
            while producer.is_alive():  # a thread blocked on a full queue: let it finish
                with contextlib.suppress(queue.Empty):
                    batches.get(timeout=0.05)
            producer.join()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
        return totals


class _MemberMaker:
    """Makes plausible members: unique phones and codes, purchases, consents, their rung."""

    def __init__(
        self,
        rng: random.Random,
        notice: Notice,
        now: datetime,
        phones: set[str],
        codes: set[str],
        receipts: int,
    ) -> None:
        self.rng, self.notice, self.now = rng, notice, now
        self.phones, self.codes, self.receipts = phones, codes, receipts
        self.rules = LadderRules()
        self.guides = [sid for sid, _, role in STAFF if role == "guide"]
        self.cashiers = [sid for sid, _, role in STAFF if role in ("cashier", "manager")]
        self.now_ts = to_text(now)

    def _phone(self) -> str:
        while True:
            phone = f"+86{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def _member_code(self) -> str:
        code = _code(self.rng)
        while code in self.codes:
            code = _code(self.rng)
        self.codes.add(code)
        return code

    def batch(
        self, size: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng, notice, now = self.rng, self.notice, self.now
        members: list[tuple[Any, ...]] = []
        purchases: list[tuple[Any, ...]] = []
        consents: list[tuple[Any, ...]] = []
        for _ in range(size):
            member_id = new_id()
            enrolled = now - timedelta(days=rng.randrange(730), seconds=rng.randrange(86400))
            age_s = max(int((now - enrolled).total_seconds()), 1)
            name = None
            if rng.random() >= 0.1:
                name = rng.choice(SURNAMES) + "".join(
                    rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
                )
            guide = rng.choice(self.guides) if rng.random() < 0.4 else None
            visits = rng.choices((0, 1, 2, 3, 4, 5), weights=(15, 35, 20, 12, 10, 8))[0]
            spend = 0
            last: datetime | None = None
            days = []
            for _ in range(visits):
                at = enrolled + timedelta(seconds=rng.randrange(age_s))
                fen = rng.randrange(1_900, 259_900, 100)
                spend += fen
                last = at if last is None or at > last else last
                days.append(at.date())
                self.receipts += 1
                purchases.append(
                    (new_id(), SEED_DEVICE, f"SEED{self.receipts:010d}", fen, "CNY",
                     rng.choice(self.cashiers), member_id, "typed", to_text(at))
                )  # fmt: skip
            referrals = 1 if rng.random() < 0.05 else 0
            standing = CustomerStanding(True, tuple(days), spend, referrals, guide is not None)
            rung = assess(standing, self.rules, now.date()).rung.value
            phone = self._phone()
            enrolled_ts = to_text(enrolled)
            members.append(
                (member_id, self._member_code(), phone, phone[-4:], name, rung, guide,
                 DEMO_STORE[0], enrolled_ts, visits, spend, to_text(last) if last else None,
                 referrals, self.now_ts)
            )  # fmt: skip
            granted = [Purpose.MEMBERSHIP]
            if rng.random() < 0.4:
                granted.append(Purpose.MARKETING)
            if guide and rng.random() < 0.7:
                granted.append(Purpose.GUIDE_CONTACT)
            consents.extend(
                (member_id, p.value, notice.notice_id, notice.version, notice.language,
                 notice.text_hash, enrolled_ts)
                for p in granted
            )  # fmt: skip
        return members, purchases, consents


def member_count(db: Database) -> int:
    conn = db.raw()
    try:
        return conn.execute("SELECT count(*) FROM member").fetchone()[0]
    finally:
        conn.close()


WALK_IN_DEVICE = "seed-walk-in"


def seed_walk_in_sales(
    db: Database,
    count: int,
    *,
    now: datetime,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``count`` anonymous sales over the last two years (benchmarks want the store's
    walk-ins too, not only its members' purchases); returns how many were added."""
    rng = random.Random(seed)
    cashiers = [sid for sid, _, role in STAFF if role in ("cashier", "manager")]
    with _bulk_connection(db) as conn:
        conn.execute("BEGIN IMMEDIATE")
        ensure_demo_roster(conn)
        made = conn.execute(
            "SELECT count(*) FROM purchase WHERE device_id = ?", (WALK_IN_DEVICE,)
        ).fetchone()[0]
        conn.execute("COMMIT")
        done = 0
        while done < count:
            rows = []
            for _ in range(min(BATCH, count - done)):
                made += 1
                at = now - timedelta(seconds=rng.randrange(730 * 86400))
                rows.append(
                    (new_id(), WALK_IN_DEVICE, f"W{made:010d}", rng.randrange(900, 99_900, 100),
                     "CNY", rng.choice(cashiers), None, "pos", to_text(at))
                )  # fmt: skip
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT_PURCHASE, rows)
            conn.execute("COMMIT")
            done += len(rows)
            if progress:
                progress(done)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return done
