"""Rung history, HQ's word: each change of a member's rung (when, from, to, why) as it
comes down with the member (``MemberView.rung_history``), for the guide's My customers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rung_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("from_rung", sa.String(length=16), nullable=False),
        sa.Column("to_rung", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_rung_change_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rung_change")),
    )
    op.create_index(op.f("ix_rung_change_member_id"), "rung_change", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rung_change_member_id"), table_name="rung_change")
    op.drop_table("rung_change")
