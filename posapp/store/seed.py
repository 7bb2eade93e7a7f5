"""Realistic synthetic members, purchases and consents for demos and benchmarks.

A seeded store looks like a real one: sales on the store's opening hours, weekends busier
than weekdays; most members bought once or twice, some are regulars with a guide, a few
are super-members who brought friends, some have not been back for over a year; one guide
looks after most of the guided customers, another only a few; and walk-ins who never
joined (:func:`seed_store`) so that about DEMO_CAPTURE of the last 90 days' sales have a
known member. Each member's rung is what :func:`posapp.domain.ladder.assess` says of
their seeded purchases, guide and referrals.

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
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from stdnum import luhn

from posapp.domain.consent import Notice, Purpose
from posapp.domain.ids import new_id
from posapp.domain.ladder import CustomerStanding, LadderRules, assess
from posapp.domain.local_day import DEFAULT_ZONE, day_start, local_day
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

SEED_DAYS = 730  # two years of the store's days
OPENS_AT_S = 10 * 3600  # the store opens at 10:00 on its own clock …
OPEN_FOR_S = 12 * 3600  # … and closes at 22:00
WEEKEND_WEIGHT = 1.8  # a Saturday or Sunday sells 1.8 times a weekday
DEMO_CAPTURE = 0.45  # sales with a known member ÷ all sales, over the last 90 days
CAPTURE_DAYS = 90
# Who a guided customer's guide is: one guide looks after most, another only a few.
GUIDE_BOOKS = ("demo-g1",) * 6 + ("demo-g2",) * 3 + ("demo-g3",)
# Who rang up a member's sale, and a walk-in's: one cashier asks every buyer, one rarely.
MEMBER_TILLS = ("demo-c1",) * 6 + ("demo-c2",) * 2 + ("demo-mgr",) * 2
WALK_IN_TILLS = ("demo-c1",) * 3 + ("demo-c2",) * 5 + ("demo-mgr",) * 2
# Tickets in yuan, the cheaper ones more often (repeated); super-members buy the dearer ones.
_TICKETS = (59, 69, 89, 99, 99, 128, 128, 149, 168, 168, 199, 199, 238, 268, 299, 299, 368,
            399, 459, 499, 599, 699, 899, 1299)  # fmt: skip
PRICES = tuple(y * 100 for y in _TICKETS)
SUPER_PRICES = (*(y * 100 for y in _TICKETS if y >= 268), 159_900, 199_900)
WALK_IN_PRICES = tuple(y * 100 for y in _TICKETS if y <= 499)


@dataclass(frozen=True, slots=True)
class SeedResult:
    members: int
    purchases: int
    consents: int
    walk_ins: int = 0  # of the purchases, anonymous walk-in sales (:func:`seed_store`)


class StoreCalendar:
    """The store's last ``days`` days, index 0 today: when each opens (naive UTC), and each
    day's share of the sales (weekends busier), so a sale's day is one bisect away."""

    def __init__(self, now: datetime, zone: str, days: int = SEED_DAYS) -> None:
        today = local_day(now, zone)
        self.now = now
        self.days = days
        self.opens: list[datetime] = []
        self.cumulative = [0.0]
        for k in range(days):
            day = today - timedelta(days=k)
            self.opens.append(day_start(day, zone) + timedelta(seconds=OPENS_AT_S))
            weight = WEEKEND_WEIGHT if day.weekday() >= 5 else 1.0
            self.cumulative.append(self.cumulative[-1] + weight)

    def weight(self, newest: int, oldest: int) -> float:
        """The days ``newest`` to ``oldest`` (days ago, both included): their share of sales."""
        return self.cumulative[oldest + 1] - self.cumulative[newest]

    def day(self, rng: random.Random, newest: int, oldest: int) -> int:
        """A day from ``newest`` to ``oldest`` days ago, weekends more likely."""
        low = self.cumulative[newest]
        point = low + rng.random() * (self.cumulative[oldest + 1] - low)
        return min(max(bisect_right(self.cumulative, point) - 1, newest), oldest)

    def instant(self, rng: random.Random, k: int) -> datetime:
        """A moment the store is open on the day ``k`` days ago, never after now."""
        at = self.opens[k] + timedelta(seconds=rng.randrange(OPEN_FOR_S))
        return at if at < self.now else at - timedelta(days=1)


def _store_zone(conn: sqlite3.Connection) -> str:
    row = conn.execute(
        "SELECT s.timezone FROM store s JOIN sync_state st ON st.store_id = s.id WHERE st.id = 1"
    ).fetchone()
    return row[0] if row and row[0] else DEFAULT_ZONE


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
_INSERT_SERVED = (  # a member's purchase: their own guide served them, if they have one
    "INSERT INTO purchase (id, device_id, receipt_no, amount_fen, currency, staff_id,"
    " guide_id, member_id, source, occurred_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
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
    """Add ``count`` members and their purchases over the last two years (module docstring:
    who they are); no walk-ins: :func:`seed_store` adds those too."""
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
        calendar = StoreCalendar(now, _store_zone(conn))
        conn.execute("COMMIT")
        maker = _MemberMaker(random.Random(seed), notice, calendar, phones, codes, receipts)
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
                conn.executemany(_INSERT_SERVED, purchases)
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
    """Makes plausible members: unique phones and codes, purchases, consents, their rung.

    Each member is one of five kinds (their shares in :meth:`_kind`): bought once (or not
    yet), lapsed (nothing for over a year), occasional, regular (with a guide, bought lately)
    and super-member (often, dear, with referrals); what they bought decides their rung. The
    windows keep clear of the ladder's own (180 and 365 days) by a few days, so a UTC day
    against the store's never tips a member over a threshold.
    """

    def __init__(
        self,
        rng: random.Random,
        notice: Notice,
        calendar: StoreCalendar,
        phones: set[str],
        codes: set[str],
        receipts: int,
    ) -> None:
        self.rng, self.notice, self.calendar = rng, notice, calendar
        self.now = calendar.now
        self.phones, self.codes, self.receipts = phones, codes, receipts
        self.rules = LadderRules()
        self.now_ts = to_text(calendar.now)

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

    def _kind(self) -> tuple[int, int, int, int, bool, int, tuple[int, ...]]:
        """(joined days ago, visits, newest and oldest day of the visits after joining,
        guided, referrals, ticket prices) for one member."""
        rng, last = self.rng, self.calendar.days - 1
        r = rng.random()
        if r < 0.50:  # bought once, when they joined (a fifth not even that)
            joined = self.calendar.day(rng, 0, last)
            visits = 0 if rng.random() < 0.2 else 1
            return joined, visits, 0, joined - 1, rng.random() < 0.25, 0, PRICES
        if r < 0.65:  # lapsed: joined long ago, nothing for over a year
            joined = self.calendar.day(rng, 400, last)
            visits = rng.choice((1, 2, 2, 3))
            return joined, visits, 370, joined - 1, rng.random() < 0.35, 0, PRICES
        if r < 0.82:  # occasional: two or three visits at any time since joining
            joined = self.calendar.day(rng, 1, last)
            visits = rng.choice((2, 2, 3))
            return joined, visits, 0, joined - 1, rng.random() < 0.25, 0, PRICES
        if r < 0.97:  # regular: a guide, and two or more visits in the last half year
            joined = self.calendar.day(rng, 1, last)
            referrals = 1 if rng.random() < 0.1 else 0
            visits = rng.choice((3, 3, 4, 4, 5, 5, 6))
            return joined, visits, 0, min(joined - 1, 170), rng.random() < 0.92, referrals, PRICES
        # super-member: often, dear, and friends brought in
        joined = self.calendar.day(rng, 120, last)
        visits = rng.randrange(7, 12)
        referrals = rng.choice((1, 1, 2, 3))
        return joined, visits, 0, min(joined - 1, 350), True, referrals, SUPER_PRICES

    def batch(
        self, size: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng, notice, calendar = self.rng, self.notice, self.calendar
        members: list[tuple[Any, ...]] = []
        purchases: list[tuple[Any, ...]] = []
        consents: list[tuple[Any, ...]] = []
        for _ in range(size):
            member_id = new_id()
            joined, visits, newest, oldest, guided, referrals, prices = self._kind()
            enrolled = calendar.instant(rng, joined)
            name = None
            if rng.random() >= 0.1:
                name = rng.choice(SURNAMES) + "".join(
                    rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
                )
            guide = rng.choice(GUIDE_BOOKS) if guided else None
            spend = 0
            last: datetime | None = None
            days = []
            for n in range(visits):
                # The first purchase is the one they joined at; the others on later days.
                at = (
                    enrolled if n == 0 else calendar.instant(rng, calendar.day(rng, newest, oldest))
                )
                fen = rng.choice(prices)
                spend += fen
                last = at if last is None or at > last else last
                days.append(at.date())
                self.receipts += 1
                purchases.append(
                    (new_id(), SEED_DEVICE, f"SEED{self.receipts:010d}", fen, "CNY",
                     rng.choice(MEMBER_TILLS), guide, member_id, "typed", to_text(at))
                )  # fmt: skip
            standing = CustomerStanding(True, tuple(days), spend, referrals, guide is not None)
            rung = assess(standing, self.rules, self.now.date()).rung.value
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
    """Add ``count`` anonymous sales over the last two years, on the store's opening hours
    and weekends busier (benchmarks want the store's walk-ins too, not only its members'
    purchases); returns how many were added."""
    rng = random.Random(seed)
    with _bulk_connection(db) as conn:
        conn.execute("BEGIN IMMEDIATE")
        ensure_demo_roster(conn)
        made = conn.execute(
            "SELECT count(*) FROM purchase WHERE device_id = ?", (WALK_IN_DEVICE,)
        ).fetchone()[0]
        calendar = StoreCalendar(now, _store_zone(conn))
        conn.execute("COMMIT")
        last = calendar.days - 1
        done = 0
        while done < count:
            rows = []
            for _ in range(min(BATCH, count - done)):
                made += 1
                at = calendar.instant(rng, calendar.day(rng, 0, last))
                rows.append(
                    (new_id(), WALK_IN_DEVICE, f"W{made:010d}", rng.choice(WALK_IN_PRICES),
                     "CNY", rng.choice(WALK_IN_TILLS), None, "pos", to_text(at))
                )  # fmt: skip
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT_PURCHASE, rows)
            conn.execute("COMMIT")
            done += len(rows)
            if progress:
                progress(done)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return done


def walk_ins_wanted(db: Database, *, now: datetime, capture: float = DEMO_CAPTURE) -> int:
    """How many walk-in sales over the two seeded years bring the last ``CAPTURE_DAYS`` days'
    capture rate down to ``capture`` (none when it is already at or below it).

    Walk-ins come at the same rate all along (a store's footfall), so the last days' share
    of them is those days' share of the calendar's weight."""
    if not 0 < capture <= 1:
        raise ValueError("capture must be above 0 and at most 1")
    conn = db.raw()
    try:
        calendar = StoreCalendar(now, _store_zone(conn))
        since = to_text(calendar.opens[CAPTURE_DAYS - 1] - timedelta(seconds=OPENS_AT_S))
        sales, known = conn.execute(
            "SELECT count(*), count(member_id) FROM purchase WHERE occurred_at >= ?", (since,)
        ).fetchone()
    finally:
        conn.close()
    missing = known * (1 - capture) / capture - (sales - known)
    if missing <= 0:
        return 0
    share = calendar.weight(0, CAPTURE_DAYS - 1) / calendar.weight(0, calendar.days - 1)
    return round(missing / share)


def seed_store(
    db: Database,
    count: int,
    *,
    notice: Notice,
    now: datetime,
    seed: int | None = None,
    capture: float | None = DEMO_CAPTURE,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """A store that looks like one: ``count`` members (:func:`seed_members`), then enough
    walk-ins that the last 90 days' capture rate is about ``capture`` (``None``: none)."""
    result = seed_members(db, count, notice=notice, now=now, seed=seed, progress=progress)
    if capture is None:
        return result
    wanted = walk_ins_wanted(db, now=now, capture=capture)
    walk_seed = None if seed is None else seed + 1
    made = seed_walk_in_sales(db, wanted, now=now, seed=walk_seed)
    return SeedResult(result.members, result.purchases + made, result.consents, made)
