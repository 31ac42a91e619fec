"""platform tokens: reply accounts connected with OAuth (X, PKCE), their token pair encrypted, and the
authorizations started and not yet finished

Revision ID: 0013_platform_tokens
Revises: 0012_alert_evidence
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0013_platform_tokens"
down_revision = "0012_alert_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_tokens",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("handle", sa.String(length=storage.schema.MAX_HANDLE_CHARS), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=256), nullable=False),
        sa.Column("connected_by", sa.String(length=128), nullable=False),
        sa.Column("connected_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", storage.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_platform_tokens")),
    )
    op.create_table(
        "oauth_pending",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("verifier", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oauth_pending")),
    )


def downgrade() -> None:
    op.drop_table("oauth_pending")
    op.drop_table("platform_tokens")
