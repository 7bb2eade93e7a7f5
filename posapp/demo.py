"""``posapp --demo``: a working counter in a throwaway data dir, with seeded members.

Until the Qt counter screen exists this is a terminal counter: type a phone, its last
four digits, a member code or a name to identify; ``sale`` and ``enrol`` to act.
"""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from posapp.domain.consent import Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.sale import format_fen
from posapp.resources import current_notice
from posapp.services.members import MemberCard, enrol_member, identify
from posapp.services.sales import record_sale
from posapp.settings import load_settings
from posapp.store.db import Database, StorageError
from posapp.store.migrate import open_database
from posapp.store.seed import seed_members

DEMO_MEMBERS = 2_000
DEMO_CASHIER = "demo-c1"
HELP = """\
type a phone, its last four digits, a member code or a name  → identify
sale RECEIPT AMOUNT [PHONE|CODE]                             → record a sale
enrol PHONE [NAME]                                           → enrol (asks for consent)
help, quit"""


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _card(card: MemberCard) -> None:
    s = card.summary
    _out(f"  {s.name or '(无姓名)'}  {s.phone_masked}  会员码 {s.member_code}")
    _out(
        f"  {s.rung}  到店 {s.visit_count} 次  累计 {format_fen(s.lifetime_spend_fen)}"
        f"  导购 {card.guide_name or '-'}"
    )
    step = card.assessment.next_step
    _out(f"  next step: {step.reason} → {step.channel.value}")


def _identify(db: Database, text: str) -> str | None:
    with db.lookup() as lookup:
        found = identify(lookup, text)
    if found.card:
        _card(found.card)
        return found.card.id
    if not found.candidates:
        _out("  walk-in (散客): offer the join QR")
        return None
    for c in found.candidates[:10]:
        _out(f"  {c.member_code}  {c.phone_masked}  {c.name or '-'}  {c.rung}")
    return None


def _handle(db: Database, line: str) -> bool:
    words = shlex.split(line)
    if not words:
        return True
    verb = words[0].lower()
    if verb in ("quit", "exit"):
        return False
    if verb == "help":
        _out(HELP)
    elif verb == "sale" and len(words) >= 3:
        member_id = _identify(db, words[3]) if len(words) > 3 else None
        with db.write() as session:
            sale = record_sale(
                session,
                receipt_no=words[1],
                amount=words[2],
                staff_id=DEMO_CASHIER,
                member_id=member_id,
            )
        _out(
            f"  sale {sale.receipt_no} {format_fen(sale.amount_fen)} recorded (rung {sale.rung or '-'})"
        )
    elif verb == "enrol" and len(words) >= 2:
        answer = input("  customer agrees to membership (y/n)? ").strip().lower()
        consents = {Purpose.MEMBERSHIP} if answer.startswith("y") else set()
        with db.write() as session:
            result = enrol_member(
                session,
                phone=words[1],
                name=" ".join(words[2:]) or None,
                consents=consents,
                notice=current_notice(),
                staff_id=DEMO_CASHIER,
            )
        _out(f"  {'enrolled' if result.created else 'already a member'}: {result.member_code}")
    else:
        _identify(db, line)
    return True


def run_demo(data_dir: Path, *, interactive: bool | None = None) -> int:
    settings = load_settings(data_dir)
    db = open_database(settings.db_path)
    from posapp.intake.server import IntakeServer

    try:
        seed_members(
            db,
            DEMO_MEMBERS,
            notice=current_notice(),
            now=datetime.now(UTC).replace(tzinfo=None),
            seed=2026,
        )
        settings.intake_port = 0  # any free port: a demo never fights the real counter's
        server = IntakeServer.from_settings(db, settings)
        server.start()
        _out(f"posapp demo — data in {data_dir}, {DEMO_MEMBERS:,} seeded members")
        _out(f"POS intake: http://127.0.0.1:{server.port}/v1/sales  (token in {settings.file})")
        raw = db.raw()
        sample = raw.execute("SELECT phone_last4, member_code FROM member LIMIT 1").fetchone()
        raw.close()
        _out(f"try: {sample[0]}   or   {sample[1]}   or   王\n")
        _out(HELP)
        interactive = sys.stdin.isatty() if interactive is None else interactive
        try:
            while interactive:
                try:
                    line = input("posapp> ")
                except EOFError:
                    break
                try:
                    if not _handle(db, line):
                        break
                except InvalidInput as exc:
                    _out(f"  ✗ {exc.message}")
                except StorageError as exc:
                    _out(f"  ✗ {exc.message}")
        finally:
            server.stop()
    finally:
        db.close()
    return 0
