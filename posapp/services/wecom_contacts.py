"""Which members are their guide's WeCom (企业微信) contact, as HQ last said: the card's
"WeCom contact of <guide> since <date>" and My customers' column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from posapp.store.lookup import Lookup, MemberRow
from posapp.timefmt import from_text

CHUNK = 500


@dataclass(frozen=True, slots=True)
class WeComContact:
    guide_id: str | None
    guide_name: str | None  # the guide as this counter knows them (None: another store's)
    since: datetime


def wecom_contacts(lookup: Lookup, member_ids: Iterable[str]) -> dict[str, WeComContact]:
    """Each of these members who is a WeCom contact; the others are not (yet)."""
    ids = list(dict.fromkeys(member_ids))
    found: dict[str, WeComContact] = {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        marks = ",".join("?" * len(part))
        for member_id, guide_id, name, since in lookup.query(
            "SELECT m.id, m.wecom_guide_id, s.name, m.wecom_since FROM member m"
            " LEFT JOIN staff s ON s.id = m.wecom_guide_id"
            f" WHERE m.wecom_since IS NOT NULL AND m.id IN ({marks})",
            part,
        ):
            moment = from_text(since)
            if moment is not None:
                found[member_id] = WeComContact(guide_id, name, moment)
    return found


def contact_of(row: MemberRow) -> WeComContact | None:
    """The contact as the member's own row carries it (the card: no second look-up)."""
    if row.wecom_since is None:
        return None
    return WeComContact(row.wecom_guide_id, row.wecom_guide_name, row.wecom_since)
