"""Write ``tests/fixtures/schemas/posapp-<rev>.db``: a counter database as each schema left it.

Each file is made by running the migrations up to that revision (migrations never change
once released, so this is the schema that release wrote) and filling it with what a shop
has on the day of an update: staff, members, consents, sales and outbox events of which
most are not yet synced. ``tests/store/test_schema_fixtures.py`` upgrades every file to
head and checks that every row came through.

Run it when a release ships a new schema: it adds the files that are missing and leaves
existing ones alone (a released schema's fixture is frozen; ``--force`` rewrites them
all). ``--upto REV`` stops at a revision, for a head that is not released yet. The people
in them are made up.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posapp.protocol.events import (  # noqa: E402
    SCHEMA_VERSION,
    ConsentChoice,
    MemberEnrolled,
    NoticeRef,
    SaleRecorded,
)
from posapp.resources import current_notice  # noqa: E402
from posapp.store.db import Database  # noqa: E402
from posapp.store.migrate import known_revisions, upgrade_to  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "schemas"
STORE = "fixture-store"
DEVICE = "0190f7a0-0000-7000-8000-00000000d001"
CASHIER, GUIDE = "staff-cashier-1", "staff-guide-1"
T0 = datetime(2026, 10, 1, 9, 0)
# member id, code, phone, name, rung, guide
MEMBERS = [
    ("0190f7a0-0000-7000-8000-0000000000a1", "M0000000018", "+8613800000001", "李娜", "regular", GUIDE),
    ("0190f7a0-0000-7000-8000-0000000000a2", "M0000000026", "+8613800000002", None, "member", None),
    ("0190f7a0-0000-7000-8000-0000000000a3", "M0000000034", "+8613800000003", "张伟", "member", GUIDE),
]  # fmt: skip
# purchase id, receipt, fen, member index or None
SALES = [
    ("0190f7a0-0000-7000-8000-0000000000f1", "FX-1", 12_800, 0),
    ("0190f7a0-0000-7000-8000-0000000000f2", "FX-2", 4_550, 0),
    ("0190f7a0-0000-7000-8000-0000000000f3", "FX-3", 990, None),
    ("0190f7a0-0000-7000-8000-0000000000f4", "FX-4", 31_000, 2),
]
SYNCED_EVENTS = 2  # the first two were acknowledged by HQ; the rest wait in the outbox


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict[str, object]]) -> None:
    """Insert by column name: later schemas add columns, never take the first ones away."""
    for row in rows:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))


def build(path: Path, revision: str) -> None:
    """A database at ``revision`` with a small shop's worth of unsynced work."""
    db = Database(path, encrypt=False)  # an old release's file: plaintext, as it shipped
    try:
        upgrade_to(db, revision)
    finally:
        db.close()
    notice = current_notice("zh-CN")
    ref = NoticeRef(
        notice_id=notice.notice_id,
        version=notice.version,
        language=notice.language,
        text_hash=notice.text_hash,
    )
    events: list[MemberEnrolled | SaleRecorded] = []
    for member_id, code, phone, name, _rung, guide in MEMBERS:
        events.append(
            MemberEnrolled(
                member_id=member_id,
                member_code=code,
                phone_e164=phone,
                name=name,
                staff_id=CASHIER,
                guide_id=guide,
                consents=[ConsentChoice(purpose="membership", granted=True, notice=ref)],
                enrolled_at=T0,
            )
        )
    for purchase_id, receipt, fen, who in SALES:
        events.append(
            SaleRecorded(
                purchase_id=purchase_id,
                receipt_no=receipt,
                amount_fen=fen,
                currency="CNY",
                staff_id=CASHIER,
                member_id=None if who is None else MEMBERS[who][0],
                occurred_at=T0,
            )
        )
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN")
        _insert(conn, "store", [dict(id=STORE, name="样例店", region="CN", currency="CNY")])
        _insert(
            conn,
            "device",
            [dict(id=DEVICE, store_id=STORE, name="收银台 1", created_at=_ts(T0))],
        )
        _insert(
            conn,
            "staff",
            [
                dict(id=sid, store_id=STORE, name=n, role=role, pin_hash=None, active=1)
                for sid, n, role in [(CASHIER, "刘洋", "cashier"), (GUIDE, "王芳", "guide")]
            ],
        )
        members = []
        for index, (member_id, code, phone, name, rung, guide) in enumerate(MEMBERS):
            mine = [fen for *_x, fen, who in SALES if who == index]
            members.append(
                dict(
                    id=member_id,
                    member_code=code,
                    phone_e164=phone,
                    phone_last4=phone[-4:],
                    name=name,
                    birthday=None,
                    rung=rung,
                    guide_id=guide,
                    enrolled_store_id=STORE,
                    enrolled_by=CASHIER,
                    enrolled_at=_ts(T0),
                    visit_count=len(mine),
                    lifetime_spend_fen=sum(mine),
                    last_visit_at=_ts(T0) if mine else None,
                    referrals=0,
                    guardian_consent=0,
                    erased_at=None,
                    updated_at=_ts(T0),
                )
            )
        _insert(conn, "member", members)
        _insert(
            conn,
            "purchase",
            [
                dict(
                    id=pid,
                    device_id=DEVICE,
                    receipt_no=receipt,
                    amount_fen=fen,
                    currency="CNY",
                    staff_id=CASHIER,
                    member_id=None if who is None else MEMBERS[who][0],
                    source="typed",
                    occurred_at=_ts(T0),
                )
                for pid, receipt, fen, who in SALES
            ],
        )
        _insert(
            conn,
            "consent_record",
            [
                dict(
                    member_id=member[0],
                    purpose=purpose,
                    granted=1,
                    notice_id=notice.notice_id,
                    notice_version=notice.version,
                    notice_language=notice.language,
                    notice_hash=notice.text_hash,
                    staff_id=CASHIER,
                    recorded_at=_ts(T0),
                )
                for member in MEMBERS
                for purpose in ("membership", "marketing")
            ],
        )
        _insert(
            conn,
            "outbox_event",
            [
                dict(
                    seq=seq,
                    event_id=f"0190f7a0-0000-7000-8000-00000000e{seq:03d}",
                    device_id=DEVICE,
                    type=event.type,
                    occurred_at=_ts(T0),
                    schema_version=SCHEMA_VERSION,
                    payload=event.model_dump_json(),
                    acked_at=_ts(T0) if seq <= SYNCED_EVENTS else None,
                )
                for seq, event in enumerate(events, start=1)
            ],
        )
        _insert(
            conn,
            "sync_state",
            [
                dict(
                    id=1,
                    device_id=DEVICE,
                    store_id=STORE,
                    next_seq=len(events) + 1,
                    hq_url="https://hq.example.cn",
                    cursor="cursor-17",
                    last_push_at=_ts(T0),
                )
            ],
        )
        conn.execute("COMMIT")
        # One self-contained file in rollback-journal mode: no -wal beside it in git.
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="rewrite existing files too")
    parser.add_argument("--upto", help="the last revision to write (default: head)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    revisions = known_revisions()
    if args.upto:
        revisions = revisions[: revisions.index(args.upto) + 1]
    for revision in revisions:
        target = args.out / f"posapp-{revision}.db"
        if target.exists() and not args.force:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / target.name
            build(scratch, revision)
            target.write_bytes(scratch.read_bytes())
        sys.stdout.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
