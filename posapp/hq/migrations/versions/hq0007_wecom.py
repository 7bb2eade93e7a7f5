"""WeCom: the shared access token, guides' accounts, contact ways, the callback inbox,
customer links and transfers (posapp.hq.wecom)

Revision ID: hq0007
Revises: hq0006
Create Date: 2026-12-03 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0007"
down_revision = "hq0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _where(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.create_table(
        "wecom_token",
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("access_token", sa.String(512), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wecom_token")),
    )
    op.create_table(
        "wecom_guide",
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("guide_code", sa.String(16), nullable=False),
        sa.Column("config_id", sa.String(64), nullable=True),
        sa.Column("qr_code", sa.String(512), nullable=True),
        sa.Column("way_userid", sa.String(64), nullable=True),
        sa.Column("departed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_wecom_guide")),
        sa.UniqueConstraint("guide_code", name=op.f("uq_wecom_guide_guide_code")),
    )
    op.create_index(op.f("ix_wecom_guide_userid"), "wecom_guide", ["userid"])
    op.create_table(
        "wecom_contact_way",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("config_id", sa.String(64), nullable=False),
        sa.Column("qr_code", sa.String(512), nullable=False),
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=True),
        sa.Column("store_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_wecom_contact_way")),
        sa.UniqueConstraint("config_id", name=op.f("uq_wecom_contact_way_config_id")),
    )
    op.create_index(
        "ix_wecom_contact_way_live", "wecom_contact_way", ["expires_at"],
        **_where("deleted_at IS NULL"),
    )  # fmt: skip
    op.create_table(
        "wecom_inbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("external_userid", sa.String(64), nullable=False),
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("change_type", sa.String(48), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(256), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_inbox")),
    )
    op.create_index(
        "uq_wecom_inbox_event", "wecom_inbox",
        ["external_userid", "userid", "change_type", "create_time"], unique=True,
    )  # fmt: skip
    op.create_index(
        "ix_wecom_inbox_received", "wecom_inbox", ["id"], **_where("status = 'received'")
    )
    op.create_table(
        "wecom_link",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("external_userid", sa.String(64), nullable=False),
        sa.Column("external_hash", sa.String(64), nullable=False),
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=True),
        sa.Column("member_id", sa.String(64), nullable=True),
        sa.Column("store_id", sa.String(64), nullable=True),
        sa.Column("invite_token", sa.String(32), nullable=True),
        sa.Column("state", sa.String(32), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.Column("welcomed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_link")),
    )
    op.create_index(op.f("ix_wecom_link_external_hash"), "wecom_link", ["external_hash"])
    op.create_index(op.f("ix_wecom_link_member_id"), "wecom_link", ["member_id"])
    op.create_index(op.f("ix_wecom_link_invite_token"), "wecom_link", ["invite_token"])
    op.create_index(
        "uq_wecom_link_open", "wecom_link", ["external_userid", "userid"], unique=True,
        **_where("ended_at IS NULL"),
    )  # fmt: skip
    op.create_table(
        "wecom_transfer",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("external_userid", sa.String(64), nullable=False),
        sa.Column("handover_userid", sa.String(64), nullable=False),
        sa.Column("takeover_userid", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=True),
        sa.Column("assignment_id", sa.BigInteger(), nullable=True),
        sa.Column("resigned", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("errcode", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("takeover_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_transfer")),
    )
    op.create_index(op.f("ix_wecom_transfer_member_id"), "wecom_transfer", ["member_id"])
    op.create_index(
        "ix_wecom_transfer_pair", "wecom_transfer",
        ["handover_userid", "takeover_userid", "status"],
    )  # fmt: skip


def downgrade() -> None:
    for table in (
        "wecom_transfer", "wecom_link", "wecom_inbox", "wecom_contact_way", "wecom_guide",
        "wecom_token",
    ):  # fmt: skip
        op.drop_table(table)
