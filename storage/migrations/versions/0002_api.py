"""api tokens and triage feedback

Revision ID: 0002_api
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0002_api"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", storage.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", storage.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "triage_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mention_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("model_intent", sa.String(length=32), nullable=True),
        sa.Column("model_sentiment", sa.String(length=16), nullable=True),
        sa.Column("human_intent", sa.String(length=32), nullable=True),
        sa.Column("human_sentiment", sa.String(length=16), nullable=True),
        sa.Column("model_version", sa.String(length=128), nullable=True),
        sa.Column("at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_triage_feedback_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_feedback")),
    )
    with op.batch_alter_table("triage_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_triage_feedback_mention", ["mention_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("triage_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_feedback_mention")
    op.drop_table("triage_feedback")
    op.drop_table("api_tokens")
