"""The dashboard's figures at a million members: sales per day and staff kept by triggers,
how and with whom each member joined, covering indexes for enrolments, rungs, repurchases
and completed follow-ups.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Every path that writes a purchase (a sale, a walk-in linked to a member, HQ merging two
# members, the seeder) keeps the per-day tally in the same transaction: nothing to forget.
_KEY = "substr({row}.occurred_at, 1, 10), coalesce({row}.staff_id, '')"
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
    op.create_table(
        "purchase_day",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("known", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "staff_id", name="pk_purchase_day"),
    )
    op.execute(
        "INSERT INTO purchase_day (day, staff_id, sales, known)"
        " SELECT substr(occurred_at, 1, 10), coalesce(staff_id, ''), count(*), count(member_id)"
        " FROM purchase GROUP BY 1, 2"
    )
    for sql in TRIGGERS.values():
        op.execute(sql)
    op.create_index(
        "ix_purchase_member_sales",
        "purchase",
        ["occurred_at", "member_id"],
        sqlite_where=sa.text("member_id IS NOT NULL"),
    )
    # How and with which guide a member joined here: the guide may change later (HQ's
    # assignments), but the dashboard counts enrolments by the guide they joined with, as HQ.
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("joined_via", sa.String(16), nullable=True))
        batch.add_column(sa.Column("joined_guide_id", sa.String(64), nullable=True))
    op.execute(
        "UPDATE member SET joined_via = 'counter', joined_guide_id = guide_id"
        " WHERE enrolled_by IS NOT NULL"
    )
    op.create_index(
        "ix_member_enrolled",
        "member",
        ["enrolled_at", "enrolled_store_id", "joined_via", "joined_guide_id", "guide_id"],
    )
    op.create_index("ix_member_rung", "member", ["rung", "erased_at"])
    op.create_index("ix_follow_up_done_by", "follow_up", ["done_at", "guide_id", "channel"])


def downgrade() -> None:
    op.drop_index("ix_follow_up_done_by", table_name="follow_up")
    op.drop_index("ix_member_rung", table_name="member")
    op.drop_index("ix_member_enrolled", table_name="member")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("joined_guide_id")
        batch.drop_column("joined_via")
    op.drop_index("ix_purchase_member_sales", table_name="purchase")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("purchase_day")
