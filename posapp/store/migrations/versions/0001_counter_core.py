"""Counter core: store, device, staff, member, purchase, consent, outbox, sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("region", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_store"),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.String(36)),
        sa.Column(
            "store_id", sa.String(64), sa.ForeignKey("store.id", name="fk_device_store_id_store")
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_device"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(64)),
        sa.Column(
            "store_id", sa.String(64), sa.ForeignKey("store.id", name="fk_staff_store_id_store")
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("pin_hash", sa.String(256)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.String(36)),
        sa.Column("member_code", sa.String(16), nullable=False),
        sa.Column("phone_e164", sa.String(20)),
        sa.Column("phone_last4", sa.String(4)),
        sa.Column("name", sa.String(64)),
        sa.Column("birthday", sa.Date()),
        sa.Column("rung", sa.String(16), nullable=False),
        sa.Column(
            "guide_id", sa.String(64), sa.ForeignKey("staff.id", name="fk_member_guide_id_staff")
        ),
        sa.Column("enrolled_store_id", sa.String(64)),
        sa.Column(
            "enrolled_by",
            sa.String(64),
            sa.ForeignKey("staff.id", name="fk_member_enrolled_by_staff"),
        ),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("visit_count", sa.Integer(), nullable=False),
        sa.Column("lifetime_spend_fen", sa.Integer(), nullable=False),
        sa.Column("last_visit_at", sa.DateTime()),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("guardian_consent", sa.Boolean(), nullable=False),
        sa.Column("erased_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member"),
        sa.UniqueConstraint("member_code", name="uq_member_member_code"),
        sa.UniqueConstraint("phone_e164", name="uq_member_phone_e164"),
    )
    op.create_index("ix_member_name", "member", ["name"])
    op.create_index(
        "ix_member_last4_recent", "member", ["phone_last4", sa.text("last_visit_at DESC")]
    )
    op.create_table(
        "purchase",
        sa.Column("id", sa.String(36)),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("receipt_no", sa.String(64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column(
            "staff_id", sa.String(64), sa.ForeignKey("staff.id", name="fk_purchase_staff_id_staff")
        ),
        sa.Column(
            "member_id",
            sa.String(36),
            sa.ForeignKey("member.id", name="fk_purchase_member_id_member"),
        ),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_purchase"),
        sa.UniqueConstraint("device_id", "receipt_no", name="uq_purchase_device_id_receipt_no"),
    )
    op.create_index("ix_purchase_member_time", "purchase", ["member_id", "occurred_at"])
    op.create_index("ix_purchase_time", "purchase", ["occurred_at"])
    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column(
            "member_id",
            sa.String(36),
            sa.ForeignKey("member.id", name="fk_consent_record_member_id_member"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("notice_language", sa.String(16), nullable=False),
        sa.Column("notice_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(64)),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_record"),
    )
    op.create_index("ix_consent_record_member_id", "consent_record", ["member_id"])
    # Consent is evidence: a record may be erased with its member, never rewritten.
    op.execute(
        "CREATE TRIGGER consent_record_append_only BEFORE UPDATE ON consent_record "
        "BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END"
    )
    op.create_table(
        "outbox_event",
        sa.Column("seq", sa.Integer(), autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("acked_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox_event"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_event_id"),
    )
    op.create_index(
        "ix_outbox_event_pending", "outbox_event", ["seq"], sqlite_where=sa.text("acked_at IS NULL")
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer()),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("store_id", sa.String(64)),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.Column("hq_url", sa.String(256)),
        sa.Column("cursor", sa.String(128)),
        sa.Column("last_push_at", sa.DateTime()),
        sa.Column("last_pull_at", sa.DateTime()),
        sa.Column("last_error", sa.String(512)),
        sa.PrimaryKeyConstraint("id", name="pk_sync_state"),
    )


def downgrade() -> None:
    for table in (
        "sync_state",
        "outbox_event",
        "consent_record",
        "purchase",
        "member",
        "staff",
        "device",
        "store",
    ):
        op.drop_table(table)
