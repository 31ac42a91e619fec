"""The service workspace (issue 21): reply data, noise flags, priority scores, notes, canned replies, reply claims,
reply records and status history

mentions.reply_ref keeps what replying needs beyond the external id (Mastodon's local status id, Bluesky's cids);
mentions.flag / flag_rule / flag_reason why a mention is kept out of the queues (own account, spam, competitor);
routes.score / score_parts the priority score the inbox sorts by. The new tables hold the team's work on a mention.

Revision ID: 0011_workspace
Revises: 0010_delivery_claims
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0011_workspace"
down_revision = "0010_delivery_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("reply_ref", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("flag", sa.String(16), nullable=True))
        batch.add_column(sa.Column("flag_rule", sa.String(64), nullable=True))
        batch.add_column(sa.Column("flag_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("routes") as batch:
        batch.add_column(sa.Column("score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("score_parts", sa.JSON(), nullable=True))
    op.create_index("ix_routes_team_score", "routes", ["team", "status", "score"])

    op.create_table(
        "mention_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "mention_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("mentions.id", ondelete="CASCADE", name="fk_mention_notes_mention_id_mentions"),
            nullable=False,
        ),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mention_notes"),
    )
    op.create_index("ix_mention_notes_mention", "mention_notes", ["mention_id", "created_at"])

    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "mention_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("mentions.id", ondelete="CASCADE", name="fk_status_history_mention_id_mentions"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("assignee", sa.String(128), nullable=True),
        sa.Column("team", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_status_history"),
    )
    op.create_index("ix_status_history_mention", "status_history", ["mention_id", "at"])

    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("team", sa.String(32), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canned_replies"),
        sa.UniqueConstraint("name", name="uq_canned_replies_name"),
    )

    op.create_table(
        "reply_claims",
        sa.Column(
            "mention_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("mentions.id", ondelete="CASCADE", name="fk_reply_claims_mention_id_mentions"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mention_id", "actor", name="pk_reply_claims"),
    )

    op.create_table(
        "reply_records",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "mention_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("mentions.id", ondelete="CASCADE", name="fk_reply_records_mention_id_mentions"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("sent_by", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("post_id", sa.String(512), nullable=True),
        sa.Column("post_url", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reply_records"),
        sa.UniqueConstraint("idempotency_key", name="uq_reply_records_idempotency_key"),
    )
    op.create_index("ix_reply_records_mention", "reply_records", ["mention_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_reply_records_mention", table_name="reply_records")
    op.drop_table("reply_records")
    op.drop_table("reply_claims")
    op.drop_table("canned_replies")
    op.drop_index("ix_status_history_mention", table_name="status_history")
    op.drop_table("status_history")
    op.drop_index("ix_mention_notes_mention", table_name="mention_notes")
    op.drop_table("mention_notes")
    op.drop_index("ix_routes_team_score", table_name="routes")
    with op.batch_alter_table("routes") as batch:
        batch.drop_column("score_parts")
        batch.drop_column("score")
    # Not batch mode: on SQLite it would copy and rename `mentions`, which the metric triggers on other tables name.
    # Both databases drop a plain column in place (SQLite since 3.35).
    for column in ("flag_reason", "flag_rule", "flag", "reply_ref"):
        op.execute(f"ALTER TABLE mentions DROP COLUMN {column}")
