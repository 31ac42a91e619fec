"""covering indexes for the metric queries of storage/metrics.py

Revision ID: 0004_metrics
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0004_metrics"
down_revision = "0001"
branch_labels = None
depends_on = None

_MENTION_COLUMNS = [
    "created_at",
    "source",
    "author_handle",
    "author_followers",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "impressions",
    "rating",
]


def upgrade() -> None:
    op.create_index("ix_mentions_metrics", "mentions", _MENTION_COLUMNS)
    op.create_index("ix_verdicts_metrics", "verdicts", ["mention_id", "sentiment", "human_sentiment"])


def downgrade() -> None:
    op.drop_index("ix_verdicts_metrics", table_name="verdicts")
    op.drop_index("ix_mentions_metrics", table_name="mentions")
