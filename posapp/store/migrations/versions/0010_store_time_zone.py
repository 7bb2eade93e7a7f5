"""Days in the store's own time: the store's IANA zone, the zone's UTC offsets for SQL, and
the per-day sales tally rebuilt in the store's local days (it counted UTC days).

SQLite knows no time zones, so ``store_utc_offset`` lists every change of the zone's offset
(``posapp.domain.local_day.utc_offsets``); the tally's triggers add the offset in force at a
sale to its instant. HQ sends the zone with the store; a change there rewrites the offsets
and the tally (``posapp.store.local_days``). Stored instants stay UTC.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from posapp.domain.local_day import DEFAULT_ZONE, utc_offsets
from posapp.timefmt import to_text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_LOCAL_DAY = (
    "date({row}.occurred_at, coalesce((SELECT offset_seconds FROM store_utc_offset"
    " WHERE from_utc <= {row}.occurred_at ORDER BY from_utc DESC LIMIT 1), 0) || ' seconds')"
)
_KEY = _LOCAL_DAY + ", coalesce({row}.staff_id, '')"
TRIGGERS = {
    "trg_purchase_day_insert": f"""
        CREATE TRIGGER trg_purchase_day_insert AFTER INSERT ON purchase BEGIN
            INSERT INTO purchase_day (day, staff_id, sales, known)
            VALUES ({_KEY.format(row="NEW")}, 1, NEW.member_id IS NOT NULL)
            ON CONFLICT (day, staff_id) DO UPDATE SET sales = sales + 1,
                known = known + (NEW.member_id IS NOT NULL);
        END""",
    "trg_purchase_day_update": f"""
        CREATE TRIGGER trg_purchase_day_update
        AFTER UPDATE OF member_id, staff_id, occurred_at ON purchase BEGIN
            UPDATE purchase_day SET sales = sales - 1, known = known - (OLD.member_id IS NOT NULL)
            WHERE (day, staff_id) = ({_KEY.format(row="OLD")});
            INSERT INTO purchase_day (day, staff_id, sales, known)
            VALUES ({_KEY.format(row="NEW")}, 1, NEW.member_id IS NOT NULL)
            ON CONFLICT (day, staff_id) DO UPDATE SET sales = sales + 1,
                known = known + (NEW.member_id IS NOT NULL);
        END""",
    "trg_purchase_day_delete": f"""
        CREATE TRIGGER trg_purchase_day_delete AFTER DELETE ON purchase BEGIN
            UPDATE purchase_day SET sales = sales - 1, known = known - (OLD.member_id IS NOT NULL)
            WHERE (day, staff_id) = ({_KEY.format(row="OLD")});
        END""",
}


def upgrade() -> None:
    with op.batch_alter_table("store") as batch:
        batch.add_column(
            sa.Column("timezone", sa.String(64), nullable=False, server_default=DEFAULT_ZONE)
        )
    offsets = op.create_table(
        "store_utc_offset",
        sa.Column("from_utc", sa.String(26), nullable=False),
        sa.Column("offset_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("from_utc", name="pk_store_utc_offset"),
    )
    op.bulk_insert(
        offsets,
        [{"from_utc": to_text(t), "offset_seconds": s} for t, s in utc_offsets(DEFAULT_ZONE)],
    )
    for name, sql in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(sql)
    op.execute("DELETE FROM purchase_day")
    op.execute(
        "INSERT INTO purchase_day (day, staff_id, sales, known)"
        f" SELECT {_KEY.format(row='purchase')}, count(*), count(member_id)"
        " FROM purchase GROUP BY 1, 2"
    )


def downgrade() -> None:
    utc_key = "substr({row}.occurred_at, 1, 10), coalesce({row}.staff_id, '')"
    for name, sql in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(sql.replace(_KEY.format(row="NEW"), utc_key.format(row="NEW")).replace(
            _KEY.format(row="OLD"), utc_key.format(row="OLD")))  # fmt: skip
    op.execute("DELETE FROM purchase_day")
    op.execute(
        "INSERT INTO purchase_day (day, staff_id, sales, known)"
        " SELECT substr(occurred_at, 1, 10), coalesce(staff_id, ''), count(*), count(member_id)"
        " FROM purchase GROUP BY 1, 2"
    )
    op.drop_table("store_utc_offset")
    with op.batch_alter_table("store") as batch:
        batch.drop_column("timezone")
