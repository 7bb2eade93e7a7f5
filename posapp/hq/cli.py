"""``posapp hq …``: run HQ and administer it from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from posapp.domain.errors import InvalidInput
from posapp.hq import admin, assignment
from posapp.hq.config import HqSettings
from posapp.hq.console import audit, users
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.hq.projector import Projector
from posapp.timefmt import utcnow


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hq = sub.add_parser("hq", help="run and administer HQ (the brand's server)")
    hq.add_argument(
        "--db", help="database URL (default: SQLite in the HQ data dir; POSAPP_HQ_DATABASE_URL)"
    )
    hq.add_argument(
        "--hq-data-dir",
        type=Path,
        help="HQ data dir (default: POSAPP_HQ_DATA_DIR or the OS data dir)",
    )
    cmds = hq.add_subparsers(dest="hq_command", metavar="COMMAND", required=True)

    serve = cmds.add_parser("serve", help="start HQ under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)

    cmds.add_parser("migrate", help="bring HQ's database to the current schema")

    store = cmds.add_parser("store", help="stores")
    store_cmds = store.add_subparsers(dest="store_command", required=True)
    store_add = store_cmds.add_parser("add", help="add a store")
    store_add.add_argument("store_id")
    store_add.add_argument("--name", required=True)
    store_add.add_argument("--region", default="CN")
    store_add.add_argument("--currency", default="CNY")
    store_add.add_argument(
        "--timezone", help="IANA zone the store keeps its days in (default: its region's)"
    )
    store_zone = store_cmds.add_parser("timezone", help="set the zone a store keeps its days in")
    store_zone.add_argument("store_id")
    store_zone.add_argument("timezone", help="an IANA zone, e.g. Asia/Shanghai")

    staff = cmds.add_parser("staff", help="staff")
    staff_cmds = staff.add_subparsers(dest="staff_command", required=True)
    staff_add = staff_cmds.add_parser("add", help="add a staff member to a store")
    staff_add.add_argument("store_id")
    staff_add.add_argument("--name", required=True)
    staff_add.add_argument("--role", required=True, choices=admin.ROLES)
    staff_add.add_argument("--pin", required=True, help="4–12 digits (stored as an Argon2id hash)")
    staff_add.add_argument("--id", dest="staff_id")

    code = cmds.add_parser("device-code", help="a one-time code to register a counter of STORE")
    code.add_argument("store_id")

    device = cmds.add_parser("device", help="registered counters")
    device_cmds = device.add_subparsers(dest="device_command", required=True)
    device_list = device_cmds.add_parser("list", help="the registered counters (of one store)")
    device_list.add_argument("--store", dest="store_id")
    device_revoke = device_cmds.add_parser(
        "revoke", help="shut a counter out (stolen, retired): its credential gets 401 from now on"
    )
    device_revoke.add_argument("device_id")

    cmds.add_parser(
        "purge",
        help="after erasures: rewrite the tables that held the erased data, so no file keeps"
        " a byte of it (PostgreSQL: VACUUM FULL, locks them while it runs; run it nightly)",
    )
    cmds.add_parser("partner-key", help="a credential for the mini-program backend")
    cmds.add_parser("admin-key", help="a credential for HQ administrators (erasure, reports)")

    rules = cmds.add_parser(
        "rules", help="ladder thresholds, follow-up rules, channel URL templates"
    )
    rules_cmds = rules.add_subparsers(dest="rules_command", required=True)
    rules_set = rules_cmds.add_parser("set", help="replace one rule set with JSON")
    rules_set.add_argument("kind", choices=admin.RULE_KINDS)
    rules_set.add_argument(
        "json", help="JSON object, e.g. '{\"regular_min_purchases\": 3}' (or @file.json)"
    )

    user = cmds.add_parser("user", help="people who use the HQ console (/console)")
    user_cmds = user.add_subparsers(dest="user_command", required=True)
    user_add = user_cmds.add_parser(
        "add", help="add a console user (the first brand admin, or anyone after)"
    )
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=users.ROLES)
    user_add.add_argument("--name", default="", help="the name the console shows")
    user_add.add_argument(
        "--store", dest="stores", action="append", default=[],
        help="a store a regional manager manages (repeat for several)",
    )  # fmt: skip
    user_add.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from standard input (else it is asked twice, not echoed)",
    )  # fmt: skip

    for change, what in (
        ("deactivate", "a console user can no longer sign in; their open sessions end now"),
        ("reactivate", "a deactivated console user may sign in again"),
    ):
        user_cmds.add_parser(change, help=what).add_argument("username")

    assign = cmds.add_parser(
        "assign", help="give a customer to a guide (at most 2 transfers in 90 days, as WeCom)"
    )
    assign.add_argument("--member", required=True, help="member code (or member id)")
    assign.add_argument("--guide", required=True, help="the guide's staff id")

    wecom = cmds.add_parser("wecom", help="WeCom (企业微信): guides' accounts, background work")
    wecom_cmds = wecom.add_subparsers(dest="wecom_command", required=True)
    wecom_userid = wecom_cmds.add_parser("userid", help="connect a guide to their WeCom userid")
    wecom_userid.add_argument("staff_id")
    wecom_userid.add_argument("userid")
    wecom_gone = wecom_cmds.add_parser(
        "departed", help="a guide left: their customers move by WeCom's resigned transfer"
    )
    wecom_gone.add_argument("staff_id")
    wecom_cmds.add_parser(
        "run", help="one round of what HQ's worker does (callbacks, transfers, the sweep)"
    )


def settings_from(args: argparse.Namespace) -> HqSettings:
    overrides: dict[str, object] = {}
    if args.db:
        overrides["database_url"] = args.db
    if args.hq_data_dir:
        overrides["data_dir"] = args.hq_data_dir
    return HqSettings(**overrides)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.hq_command == "serve":
        return _serve(settings, args.host, args.port)
    db = HqDatabase(settings.db_url)
    try:
        migrate(db)
        if args.hq_command == "purge":
            done = db.purge_old_versions(admin.ERASED_TABLES, rewrite=True)
            print("erased data purged from HQ's files" if done else
                  "purged, but not every page is on disk yet (busy, or no CHECKPOINT right)")  # fmt: skip
            return 0 if done else 1
        if args.hq_command == "migrate":
            print(
                f"HQ database at the current schema: {db.engine.url.render_as_string(hide_password=True)}"
            )
            return 0
        if args.hq_command == "wecom":
            return _wecom(db, args)
        done_admin = _admin(db, settings, args)
        if args.hq_command == "assign":  # committed: the WeCom contact follows now
            _follow_in_wecom(db)
        return done_admin
    except InvalidInput as exc:
        print(f"posapp hq: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except admin.NotFound as exc:
        print(f"posapp hq: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("password", "mismatch", "The two passwords differ.")
    return first


def _admin(db: HqDatabase, settings: HqSettings, args: argparse.Namespace) -> int:
    """Every command that changes HQ is on the audit log as ``cli:<os user>``."""
    now = utcnow()
    who = audit.cli()
    password = _password(args) if args.hq_command == "user" and args.user_command == "add" else ""
    if args.hq_command == "assign":  # a member a counter enrolled a moment ago is findable
        Projector(db, settings.master_key_bytes(), lambda: now).catch_up(budget=600.0)
    with db.write() as session:
        if args.hq_command == "store" and args.store_command == "timezone":
            store = admin.set_store_timezone(
                session, store_id=args.store_id, timezone=args.timezone, now=now, who=who
            )
            print(f"store {store.id} keeps its days in {store.timezone}")
        elif args.hq_command == "store":
            store = admin.add_store(
                session,
                store_id=args.store_id,
                name=args.name,
                now=now,
                region=args.region,
                currency=args.currency,
                timezone=args.timezone,
                who=who,
            )
            print(f"store {store.id} (no. {store.store_no}, {store.timezone}) added")
        elif args.hq_command == "staff":
            staff = admin.add_staff(
                session, store_id=args.store_id, name=args.name, role=args.role, pin=args.pin, now=now,
                staff_id=args.staff_id, who=who,
            )  # fmt: skip
            print(f"staff {staff.id} ({staff.role}) added")
        elif args.hq_command == "device-code":
            code = admin.device_code(
                session, store_id=args.store_id, now=now, minutes=settings.device_code_minutes,
                who=who,
            )  # fmt: skip
            print(code)
        elif args.hq_command == "device" and args.device_command == "list":
            for d in admin.list_devices(session, store_id=args.store_id):
                state = f"revoked {d.revoked_at:%Y-%m-%d %H:%M}" if d.revoked_at else "active"
                seen = f"{d.last_seen_at:%Y-%m-%d %H:%M}" if d.last_seen_at else "never"
                print(f"{d.id}  {d.store_id} #{d.device_no}  {d.name}  seq {d.last_seq}"
                      f"  last seen {seen}  {state}")  # fmt: skip
        elif args.hq_command == "device":
            done = admin.revoke_device(session, device_id=args.device_id, now=now, who=who)
            print(
                f"device {done.device_id} of store {done.store_id} revoked at"
                f" {done.revoked_at:%Y-%m-%d %H:%M:%S} UTC; its events through seq"
                f" {done.accepted_through} are kept, nothing after is accepted"
            )
        elif args.hq_command in ("partner-key", "admin-key"):
            kind = "partner" if args.hq_command == "partner-key" else "admin"
            print(admin.add_credential(session, kind=kind, name=kind, now=now, who=who))
        elif args.hq_command == "user" and args.user_command in ("deactivate", "reactivate"):
            change = users.deactivate if args.user_command == "deactivate" else users.reactivate
            person = change(session, users.user_id_of(session, args.username), now=now,
                            who=who)  # fmt: skip
            print(f"console user {person.username} {args.user_command}d")
        elif args.hq_command == "user":
            person = users.add_user(
                session, username=args.username, password=password, role=args.role, now=now,
                display_name=args.name, stores=tuple(args.stores), who=who,
            )  # fmt: skip
            print(f"console user {person.username} ({person.role}) added: sign in at /console")
        elif args.hq_command == "assign":
            member = assignment.find_member(session, args.member)
            done = assignment.assign_guide(
                session, member_id=member.id, guide_id=args.guide, now=now,
                requested_by=who.actor, who=who,
            )  # fmt: skip
            state = "now with" if done.changed else "already with"
            print(
                f"member {member.member_code} {state} guide {done.to_guide_id}"
                f" (transfers in the last 90 days: {done.transfers_in_window})"
            )
        elif args.hq_command == "rules":
            text = Path(args.json[1:]).read_text() if args.json.startswith("@") else args.json
            try:
                body = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput("rules", "not_json", f"Not JSON: {exc.msg}") from exc
            if not isinstance(body, dict):
                raise InvalidInput("rules", "not_object", "Rules are a JSON object.")
            print(
                json.dumps(
                    admin.set_rules(session, kind=args.kind, body=body, now=now, who=who),
                    ensure_ascii=False,
                )
            )
    return 0


def _follow_in_wecom(db: HqDatabase) -> None:
    from posapp.hq.wecom.service import WeComService

    service = WeComService.configured(db)
    if service is not None:
        for outcome in service.follow_assignments():
            print(f"WeCom transfer of member {outcome.member_id}: {outcome.status}"
                  + (f" ({outcome.rule})" if outcome.rule else ""))  # fmt: skip


def _wecom(db: HqDatabase, args: argparse.Namespace) -> int:
    from posapp.hq.wecom.service import WeComService

    service = WeComService.configured(db)
    if service is None:
        print("posapp hq: WeCom is not configured (POSAPP_HQ_WECOM_CORP_ID, _SECRET, ...)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.wecom_command == "userid":
        try:
            card = service.set_userid(args.staff_id, args.userid, who=audit.cli())
        except LookupError:
            raise admin.NotFound(f"no staff {args.staff_id}") from None
        made = f"card QR {card.qr_code}" if card.qr_code else f"no card QR yet ({card.rule})"
        print(f"staff {args.staff_id} is WeCom user {args.userid}; {made}")
    elif args.wecom_command == "departed":
        if service.departed(args.staff_id, who=audit.cli()) is None:
            raise admin.NotFound(f"no WeCom account for staff {args.staff_id}")
        print(f"staff {args.staff_id} departed: reassign their customers (posapp hq assign)")
    else:
        taken = service.process()
        moved = service.follow_assignments()
        hourly = service.hourly()
        print(f"callbacks processed: {taken}; transfers asked: {len(moved)};"
              f" outcomes recorded: {len(hourly.transfers)}")  # fmt: skip
    return 0


def _serve(settings: HqSettings, host: str, port: int) -> int:
    import uvicorn

    from posapp.hq.main import create_app

    db = HqDatabase(settings.db_url)
    migrate(db)
    app = create_app(settings, db)
    with db.transaction() as session:  # secrets kept as issued before hq0012, with this key
        users.seal_stored_secrets(session, app.state.master_key)
    print(
        f"posapp HQ on http://{host}:{port}  (database: {db.engine.url.render_as_string(hide_password=True)})"
    )
    sys.stdout.flush()
    # Forwarded headers are HQ's to judge (POSAPP_HQ_TRUSTED_PROXIES), not uvicorn's, which
    # by default believes any X-Forwarded-For from loopback.
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level, access_log=False,
                proxy_headers=False)  # fmt: skip
    db.close()
    return 0
