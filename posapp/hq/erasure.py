"""Erasing a member everywhere HQ keeps them: the database (``admin.erase_member``), the
old page versions in its files, and the SMS sender's memory of the phone. The admin API and
the console erase through this one function."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from posapp.hq import admin
from posapp.hq.console.audit import Who
from posapp.hq.db import HqDatabase
from posapp.hq.sms import SmsSender, forget_phone
from posapp.timefmt import utcnow

log = logging.getLogger("posapp.hq")
Writer = Callable[[HqDatabase, Callable[[Session], admin.ErasureResult]], admin.ErasureResult]


def erase_everywhere(
    database: HqDatabase,
    write: Writer,
    *,
    member_id: str,
    requested_by: str,
    master_key: bytes,
    sender: SmsSender,
    who: Who,
) -> admin.ErasureResult:
    """``who``: the person or machine asking, on the audit log in the erasing transaction."""

    def act(session: Session) -> admin.ErasureResult:
        return admin.erase_member(
            session, member_id=member_id, requested_by=requested_by, now=utcnow(),
            master_key=master_key, who=who,
        )  # fmt: skip

    done = write(database, act)
    # Answered once no HQ file keeps an old copy of what was erased (docs/hq.md).
    if not database.purge_old_versions(admin.ERASED_TABLES):
        log.warning("erasure: the SQLite log could not be truncated yet (busy readers)")
    if done.phone_e164:
        forget_phone(sender, done.phone_e164)
    return done
