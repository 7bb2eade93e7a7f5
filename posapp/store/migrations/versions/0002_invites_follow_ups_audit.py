"""Invites, follow-ups, the audit log and HQ's rule sets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invite",
        sa.Column("id", sa.String(36)),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(64)),
        sa.Column(
            "member_id",
            sa.String(36),
            sa.ForeignKey("member.id", name="fk_invite_member_id_member"),
        ),
        sa.Column(
            "purchase_id",
            sa.String(36),
            sa.ForeignKey("purchase.id", name="fk_invite_purchase_id_purchase"),
        ),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invite"),
        sa.UniqueConstraint("token", name="uq_invite_token"),
    )
    op.create_table(
        "follow_up",
        sa.Column("id", sa.String(36)),
        sa.Column(
            "member_id",
            sa.String(36),
            sa.ForeignKey("member.id", name="fk_follow_up_member_id_member"),
            nullable=False,
        ),
        sa.Column("guide_id", sa.String(64)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime()),
        sa.Column("channel", sa.String(16)),
        sa.Column("outcome", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_follow_up"),
    )
    op.create_index("ix_follow_up_member_id", "follow_up", ["member_id"])
    op.create_index("ix_follow_up_guide_id", "follow_up", ["guide_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("staff_id", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64)),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_table(
        "rule_set",
        sa.Column("kind", sa.String(32)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name="pk_rule_set"),
    )


def downgrade() -> None:
    for table in ("rule_set", "audit_log", "follow_up", "invite"):
        op.drop_table(table)
