"""The ``posapp`` command: the counter's data from a terminal, for support, scripts and demos."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from posapp import __version__
from posapp.crashlog import log_path
from posapp.domain.consent import Purpose
from posapp.domain.errors import InvalidInput
from posapp.domain.sale import format_fen
from posapp.qtcheck import platform_problem
from posapp.resources import current_notice
from posapp.settings import Settings, load_settings
from posapp.store.db import Database, StorageError
from posapp.store.outbox import PENDING_COUNT_SQL

if TYPE_CHECKING:
    from posapp.services.hq_lookup import BrandIdentification
    from posapp.services.members import MemberReference
from posapp.store.migrate import (
    backup_file,
    current_revision,
    head_revision,
    integrity_check,
    open_database,
    restore_from,
    start_clean,
)

EXIT_NOT_FOUND = 1  # not found, a check failed, or the window's system libraries are missing
EXIT_INVALID = 2
EXIT_STORAGE = 3

log = logging.getLogger("posapp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posapp",
        description="posapp — the counter companion: recognise members, invite walk-ins, sync with HQ.",
    )
    parser.add_argument("--version", action="version", version=f"posapp {__version__}")
    parser.add_argument(
        "--data-dir", type=Path, help="data folder (default: POSAPP_DATA_DIR or the OS data dir)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="the counter window with a local HQ, staff and members, in a throwaway data dir",
    )
    parser.add_argument(
        "--lan",
        action="store_true",
        help="with --demo: the demo's HQ listens on this network too, so phones can join",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run one identify/sale/invite cycle in the window off-screen; exit 0 when it works",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    seed = sub.add_parser("seed", help="add synthetic members, purchases and consents")
    seed.add_argument("--members", type=int, required=True)
    seed.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")
    seed.add_argument(
        "--walk-ins",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add anonymous walk-in sales too, so the last 90 days' capture rate is about 45 %%",
    )

    sub.add_parser("doctor", help="check the database and show where everything is")

    backup = sub.add_parser("backup", help="online backup of the counter database")
    backup.add_argument("--to", type=Path, help="target file (default: backups/ in the data dir)")

    restore = sub.add_parser(
        "restore", help="put a backup back (the current data is backed up first)"
    )
    restore.add_argument("file", type=Path, help="a backup made on this counter")

    reset = sub.add_parser(
        "reset", help="set aside a database this machine cannot read, to start clean"
    )
    reset.add_argument(
        "--start-clean",
        action="store_true",
        required=True,
        help="move the unreadable database aside (kept, not deleted); the next start "
        "creates an empty one to fill from HQ",
    )

    bench = sub.add_parser("bench", help="measure identify and record_sale beside raw sqlite3")
    bench.add_argument("--members", type=int, default=1_000_000)
    bench.add_argument("--samples", type=int, default=2_000)
    bench.add_argument("--json", action="store_true", help="print one JSON object")

    ident = sub.add_parser(
        "identify",
        help="look a customer up: phone, last four, member code or name (a phone or code"
        " nobody here has is asked of HQ)",
    )
    ident.add_argument("query")

    sale = sub.add_parser("sale", help="record a sale")
    sale.add_argument("--receipt", required=True)
    sale.add_argument("--amount", required=True, help="in yuan, e.g. 128.00")
    sale.add_argument("--currency", default=None)
    sale.add_argument("--member", help="phone or member code of the buyer")
    sale.add_argument("--staff", help="staff id of the cashier")
    sale.add_argument(
        "--gift", action="store_true", help="a free gift: the only way to record an amount of 0"
    )

    enrol = sub.add_parser("enrol", help="enrol a member (needs their membership consent)")
    enrol.add_argument("--phone", required=True)
    enrol.add_argument("--name")
    enrol.add_argument("--birthday", type=date.fromisoformat, help="YYYY-MM-DD")
    enrol.add_argument(
        "--consent",
        action="append",
        default=[],
        choices=[p.value for p in Purpose],
        help="a purpose the customer agreed to; repeat for each (membership is required)",
    )
    enrol.add_argument("--guardian-consent", action="store_true")
    enrol.add_argument("--staff")

    consent = sub.add_parser("consent", help="grant or withdraw one purpose for a member")
    consent.add_argument("member", help="phone or member code")
    consent.add_argument("purpose", choices=[p.value for p in Purpose])
    how = consent.add_mutually_exclusive_group(required=True)
    how.add_argument("--grant", action="store_true")
    how.add_argument("--withdraw", action="store_true")
    consent.add_argument("--staff")

    invite = sub.add_parser(
        "invite", help="make a QR invite: print its URL and token, optionally write the image"
    )
    who = invite.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="a member's phone or member code")
    who.add_argument("--walk-in", action="store_true", help="an anonymous buyer")
    invite.add_argument(
        "--channel",
        choices=["mini_program", "micro_mall", "app", "guide_contact", "referral"],
        help="instead of what the ladder suggests (referral: the member's own QR)",
    )
    invite.add_argument("--sale", help="receipt number of the sale the invite belongs to")
    invite.add_argument("--staff", help="staff id of the guide or cashier to credit")
    invite.add_argument("--png", type=Path, help="write the QR image here")

    try:
        from posapp.hq.cli import add_parser as add_hq_parser
    except ImportError:  # HQ's extra dependencies are not installed on this counter
        add_hq_parser = None
    if add_hq_parser is not None:
        add_hq_parser(sub)

    register = sub.add_parser("register", help="register this counter with HQ (once)")
    register.add_argument("--hq", required=True, help="HQ's address, e.g. https://hq.example.cn")
    register.add_argument(
        "--code", required=True, help="one-time code from 'posapp hq device-code'"
    )
    register.add_argument("--name", default="", help="a name for this counter")

    sync = sub.add_parser("sync", help="sync with HQ: push pending events, pull changes")
    sync_mode = sync.add_mutually_exclusive_group()
    sync_mode.add_argument("--once", action="store_true", help="one round, then exit (default)")
    sync_mode.add_argument(
        "--watch", action="store_true", help="keep syncing every --interval seconds"
    )
    sync.add_argument("--interval", type=float, default=30.0)
    sync.add_argument("what", nargs="?", choices=["status"], help="show the sync status instead")

    intake = sub.add_parser("intake", help="receive sales from the POS on a loopback HTTP endpoint")
    intake.add_argument("--port", type=int, default=None)
    return parser


def _open(settings: Settings) -> Database:
    return open_database(settings.db_path)


def _say(text: str) -> None:
    print(text)


def _find_member(
    db: Database, query: str, region: str, *, references: bool = False
) -> MemberReference:
    """The member ``--member``/``--phone`` names (:func:`member_by_reference`'s one rule)."""
    from posapp.services.members import member_by_reference

    with db.lookup() as lookup:
        return member_by_reference(lookup, query, region=region, references=references)


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.store.seed import DEMO_CAPTURE, seed_store

    db = _open(settings)
    started = time.perf_counter()
    try:
        result = seed_store(
            db,
            args.members,
            notice=current_notice(settings.language),
            now=datetime.now(UTC).replace(tzinfo=None),
            seed=args.seed,
            capture=DEMO_CAPTURE if args.walk_ins else None,
            progress=lambda n: print(f"  {n:,} / {args.members:,}", file=sys.stderr),
        )
    finally:
        db.close()
    walk_ins = f" ({result.walk_ins:,} of them walk-ins)" if args.walk_ins else ""
    _say(
        f"seeded {result.members:,} members, {result.purchases:,} purchases{walk_ins}, "
        f"{result.consents:,} consents in {time.perf_counter() - started:.1f} s"
    )
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    db = _open(settings)
    try:
        check = integrity_check(db)
        raw = db.raw()
        counts = {
            table: raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("member", "purchase", "consent_record", "outbox_event")
        }
        pending = raw.execute(PENDING_COUNT_SQL).fetchone()[0]
        device = raw.execute("SELECT device_id, store_id FROM sync_state WHERE id = 1").fetchone()
        cipher_version = raw.execute("PRAGMA cipher_version").fetchone()
        raw.close()
        revision = current_revision(db)
        key = db.key
    finally:
        db.close()
    if key is None:
        encryption = "NOT encrypted (plaintext file)"
    else:
        where = "the OS keyring" if key.where == "keyring" else f"{key.where} (no OS keyring)"
        version = cipher_version[0] if cipher_version else "?"
        encryption = f"encrypted (SQLCipher {version}), key in {where}"
    ok = check == ["ok"]
    _say(f"posapp {__version__}")
    _say(f"data dir:   {settings.data_dir}")
    _say(f"database:   {settings.db_path}")
    _say(f"settings:   {settings.file}")
    _say(f"backups:    {settings.data_dir / 'backups'}")
    _say(f"log:        {log_path(settings.data_dir)}")
    _say(f"schema:     {revision} (this version expects {head_revision()})")
    _say(f"device:     {device[0]}  store: {device[1] or 'not registered with HQ'}")
    _say(f"encryption: {encryption}")
    _say(f"integrity:  {'ok' if ok else '; '.join(check[:5])}")
    for table, count in counts.items():
        _say(f"{table + ':':<16}{count:,}")
    _say(f"{'pending sync:':<16}{pending:,}")
    return 0 if ok else 1


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    db = _open(settings)
    db.close()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = args.to or settings.data_dir / "backups" / f"manual-{stamp}.db"
    backup_file(settings.db_path, target)
    _say(f"backup written to {target} (encrypted: it opens only with this counter's key)")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Close the counter window first: the restore replaces the data under it."""
    db = _open(settings)
    try:
        revision = restore_from(db, args.file)
    finally:
        db.close()
    _open(settings).close()  # migrates a backup from an older schema
    _say(f"restored {args.file} (schema {revision}); the data before it is in backups/")
    return 0


def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    moved = start_clean(settings.db_path)
    _say(f"the unreadable database was moved to {moved} (kept, not deleted)")
    _say("posapp starts with an empty database now: register this counter with HQ again")
    _say("(posapp register) to fetch its members and staff.")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from posapp import bench

    result = bench.run(settings.data_dir, args.members, samples=args.samples)
    if args.json:
        _say(bench.as_json(result))
    else:
        verdict = bench.verdicts(result)
        for key, value in result.items():
            mark = "" if key not in verdict else ("  ok" if verdict[key] else "  OVER TARGET")
            _say(f"{key:<28}{value}{mark}")
    return 0


def _print_card(card: object) -> None:
    from posapp.services.members import MemberCard

    assert isinstance(card, MemberCard)
    s = card.summary
    consents = ", ".join(f"{p.value}={'yes' if v else 'no'}" for p, v in card.consents.items())
    step = card.assessment.next_step
    _say(f"{s.name or '(no name)'}  {s.phone_masked}  code {s.member_code}")
    _say(f"  rung {s.rung}; visits {s.visit_count}; lifetime {format_fen(s.lifetime_spend_fen)}")
    _say(f"  last visit {s.last_visit_at or '-'}; guide {card.guide_name or '-'}")
    _say(f"  consents: {consents}")
    _say(f"  next: {step.reason} via {step.channel.value}")


def cmd_identify(args: argparse.Namespace, settings: Settings) -> int:
    """Here first; a whole phone or code nobody here has is asked of HQ when registered."""
    from posapp.services.hq_lookup import identify_in_brand
    from posapp.sync.lookup import hq_asker

    db = _open(settings)
    try:
        ask = hq_asker(db, settings.data_dir, budget_s=settings.hq_lookup_seconds)
        looked = identify_in_brand(db, args.query, ask=ask, region=settings.region)
        found = looked.found
    finally:
        db.close()
    if found.card is not None:
        _print_card(found.card)
        since = found.card.since
        if since is not None:
            _say(f"  member since {since.enrolled_at:%Y-%m-%d} at {since.store_name}")
    elif found.unverified_code is not None:
        _say(
            f"member code {found.unverified_code}: a member of another store, not verified"
            " offline (a sale with --member records it for HQ to credit)"
        )
        _say_hq_not_asked(looked)
        return EXIT_NOT_FOUND
    elif found.candidates:
        for c in found.candidates:
            _say(
                f"{c.member_code}  {c.phone_masked}  {c.name or '-'}  {c.rung}  last {c.last_visit_at or '-'}"
            )
    else:
        _say("no member found: a walk-in (offer the join QR)")
        _say_hq_not_asked(looked)
        return 1
    return 0


def _say_hq_not_asked(looked: BrandIdentification) -> None:
    if looked.hq_could_not_be_asked and looked.asked is not None:
        _say(f"HQ could not be asked: {looked.asked.failed}")


def cmd_sale(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.services.sales import record_sale

    db = _open(settings)
    try:
        named = (
            _find_member(db, args.member, settings.region, references=True) if args.member else None
        )
        with db.write() as session:
            result = record_sale(
                session,
                receipt_no=args.receipt,
                amount=args.amount,
                currency=args.currency or settings.currency,
                staff_id=args.staff,
                member_id=named.member_id if named else None,
                member_code_ref=named.code_ref if named else None,
                gift=args.gift,
            )
    finally:
        db.close()
    what = "recorded" if result.created else "already recorded"
    _say(f"sale {result.receipt_no} {format_fen(result.amount_fen, result.currency)} {what}")
    if result.member_code_ref:
        _say(
            f"member code {result.member_code_ref} is not known at this store: recorded as a"
            " reference, HQ credits the sale to that member after sync (not verified offline)"
        )
    return 0


def cmd_enrol(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.services.members import enrol_member
    from posapp.store.outbox import store_id

    db = _open(settings)
    try:
        with db.write() as session:
            result = enrol_member(
                session,
                phone=args.phone,
                consents={Purpose(p) for p in args.consent},
                notice=current_notice(settings.language),
                staff_id=args.staff,
                name=args.name,
                birthday=args.birthday,
                guardian_consent=args.guardian_consent,
                store_id=store_id(session),
                region=settings.region,
            )
    finally:
        db.close()
    state = "enrolled" if result.created else "already a member"
    _say(f"{state}: member code {result.member_code}")
    return 0


def cmd_consent(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.services.members import change_consent

    db = _open(settings)
    try:
        member_id = _find_member(db, args.member, settings.region).member_id
        with db.write() as session:
            changed = change_consent(
                session,
                member_id=member_id,
                purpose=Purpose(args.purpose),
                granted=bool(args.grant),
                notice=current_notice(settings.language),
                staff_id=args.staff,
            )
    finally:
        db.close()
    verb = "granted" if args.grant else "withdrawn"
    _say(f"{args.purpose} {verb}" if changed else f"{args.purpose} was already {verb}")
    return 0


def cmd_intake(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.intake.server import IntakeServer

    if args.port is not None:
        settings.intake_port = args.port
    db = _open(settings)
    try:
        server = IntakeServer.from_settings(db, settings)
        server.start()
    except (ValueError, OSError) as exc:
        db.close()
        print(f"posapp: the POS intake cannot start: {exc}", file=sys.stderr)
        return EXIT_INVALID
    _say(f"POS intake listening on http://127.0.0.1:{server.port}/v1/sales")
    _say(f"token is in {settings.file} (intake_token)")
    sys.stdout.flush()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        db.close()
    return 0


def cmd_register(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.sync.client import HqError
    from posapp.sync.registration import AlreadyRegistered, register

    db = _open(settings)
    try:
        done = register(db, settings.data_dir, hq_url=args.hq, code=args.code, name=args.name)
    except AlreadyRegistered as exc:
        print(f"posapp: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except HqError as exc:
        print(f"posapp: registration failed: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        db.close()
    settings.hq_url = args.hq
    settings.save()
    _say(
        f"registered with HQ as store {done.store_id} ({done.store_name}); device {done.device_id}"
    )
    _say(f"secret kept in: {done.secret_kept_in}")
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from posapp.store.models import SyncState
    from posapp.store.outbox import pending_summary
    from posapp.sync.client import HqError
    from posapp.sync.engine import SyncEngine
    from posapp.sync.lock import SyncBusy, take_sync_lock
    from posapp.sync.registration import NotRegistered, client_for
    from posapp.sync.status import CLOCK_SKEW_WARN_S

    db = _open(settings)
    try:
        if args.what == "status":
            from sqlalchemy import select

            with db.read() as session:
                state = session.scalars(select(SyncState).where(SyncState.id == 1)).one()
                count, oldest = pending_summary(session)
            _say(f"store:         {state.store_id or 'not registered'}  (HQ {state.hq_url or '-'})")
            _say(
                f"pending:       {count:,} event(s)"
                + (f", oldest from {oldest:%Y-%m-%d %H:%M} UTC" if oldest else "")
            )
            _say(f"last push:     {state.last_push_at or '-'}")
            _say(f"last pull:     {state.last_pull_at or '-'}")
            _say(f"cursor:        {state.cursor or '-'}")
            _say(f"last error:    {state.last_error or '-'}")
            if state.clock_skew_s is not None:
                warn = (
                    "  ← more than 5 minutes off: check the till's clock"
                    if abs(state.clock_skew_s) > CLOCK_SKEW_WARN_S
                    else ""
                )
                _say(f"clock vs HQ:   {state.clock_skew_s:+d} s{warn}")
            return 0
        try:
            lock = take_sync_lock(settings.data_dir)
        except SyncBusy:
            print("posapp: another sync is already running for this counter.", file=sys.stderr)
            return EXIT_INVALID
        try:
            client = client_for(db, settings.data_dir)
            client.on_progress = lambda message: print(f"posapp: {message}", file=sys.stderr)
            engine = SyncEngine(db, client)
            while True:
                try:
                    done = engine.run_once()
                    _say(f"pushed {done.pushed}, rejected {done.rejected}, applied {done.applied} change(s)"
                         + (" (fresh snapshot)" if done.snapshot else ""))  # fmt: skip
                except HqError as exc:
                    print(f"posapp: sync failed: {exc}", file=sys.stderr)
                    if not args.watch:
                        return EXIT_STORAGE
                if not args.watch:
                    return 0
                time.sleep(args.interval)
        finally:
            lock.release()
    except NotRegistered as exc:
        print(f"posapp: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 0
    finally:
        db.close()


def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import select

    from posapp.domain.invite import Offer
    from posapp.domain.ladder import Channel
    from posapp.domain.sale import clean_receipt_no
    from posapp.qr import save_png
    from posapp.services.invites import invites_for_customer, issue_invite
    from posapp.store.models import Purchase
    from posapp.sync.registration import invite_signer

    db = _open(settings)
    try:
        signer = invite_signer(db, settings.data_dir)
        if signer.demo:
            print(
                "posapp: this counter is not registered with HQ: the invite is signed with the"
                " demo store's identity and key (as in 'posapp --demo').",
                file=sys.stderr,
            )
        member_id = (
            None if args.walk_in else _find_member(db, args.phone, settings.region).member_id
        )
        with db.write() as session:
            purchase_id = None
            if args.sale:
                purchase_id = session.scalar(
                    select(Purchase.id).where(Purchase.receipt_no == clean_receipt_no(args.sale))
                )
                if purchase_id is None:
                    raise InvalidInput("sale", "unknown", "No sale with that receipt number here.")
            common = {"staff_id": args.staff, "member_id": member_id, "purchase_id": purchase_id}
            if args.channel is None:
                issued = invites_for_customer(session, signer, **common)
            else:
                offer = (
                    Offer(Channel.MINI_PROGRAM, referral=True)
                    if args.channel == "referral"
                    else Offer(Channel(args.channel))
                )
                issued = [issue_invite(session, signer, offer=offer, **common)]
    finally:
        db.close()
    for one in issued:
        kind = "referral" if one.referral else one.channel.value
        _say(f"{kind}: {one.url}")
        _say(f"  token {one.token}  expires {one.expires_on.isoformat()}")
    if args.png:
        save_png(issued[0].url, args.png)
        _say(f"QR image written to {args.png}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "seed": cmd_seed,
    "doctor": cmd_doctor,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "reset": cmd_reset,
    "bench": cmd_bench,
    "identify": cmd_identify,
    "sale": cmd_sale,
    "enrol": cmd_enrol,
    "consent": cmd_consent,
    "intake": cmd_intake,
    "register": cmd_register,
    "sync": cmd_sync,
    "invite": cmd_invite,
}


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.lan and not args.demo:
        parser.error("--lan goes with --demo")
    try:
        if args.self_test or args.command is None:
            # Before Qt is imported: a missing system library is named, not Qt's abort.
            problem = platform_problem(default="offscreen" if args.self_test else "xcb")
            if problem is not None:
                print(problem.message(), file=sys.stderr)
                return EXIT_NOT_FOUND
        if args.self_test:
            from posapp.ui.app import self_test

            return self_test()
        if args.command is None:
            from posapp.ui.app import run_counter

            return run_counter(args.data_dir, demo=args.demo, lan=args.lan)
        if args.command == "hq":
            from posapp.hq.cli import run as run_hq

            return run_hq(args)
        settings = load_settings(args.data_dir)
        return COMMANDS[args.command](args, settings)
    except InvalidInput as exc:
        print(f"posapp: {exc.field}: {exc.message}", file=sys.stderr)
        return EXIT_INVALID
    except StorageError as exc:
        print(f"posapp: {exc.message}", file=sys.stderr)
        return EXIT_STORAGE
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
