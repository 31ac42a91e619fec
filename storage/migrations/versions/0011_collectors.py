"""collectors: mentions.local_id (the post's id on the server it was read from, e.g. a Mastodon status's
instance-local id) and aggregate_ratings (the overall rating review pages state, kept over time)

Revision ID: 0011_collectors
Revises: 0010_delivery_claims
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0011_collectors"
down_revision = "0010_delivery_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("local_id", sa.String(length=512), nullable=True))
    op.create_table(
        "aggregate_ratings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("collector", sa.String(length=256), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=True),
        sa.Column("observed_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregate_ratings")),
    )
    with op.batch_alter_table("aggregate_ratings") as batch:
        batch.create_index("ix_aggregate_ratings_collector", ["collector", "observed_at"], unique=False)


def downgrade() -> None:
    op.drop_table("aggregate_ratings")
    # Not batch mode: on SQLite it would copy and rename `mentions`, which the metric triggers on other tables name.
    # Both databases drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE mentions DROP COLUMN local_id")
