"""author-day rollup: a covering index, so a period's distinct authors and reach read index entries only

With a long tail of one-post authors, metric_author_days holds about one row per mention and scope; reading a
30-day period's rows through the primary key then fetched ~80k scattered table rows at 1M mentions.

Revision ID: 0009_author_days_covering
Revises: 0008_mention_tags
"""

from __future__ import annotations

from alembic import op

revision = "0009_author_days_covering"
down_revision = "0008_mention_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_metric_author_days_reach",
        "metric_author_days",
        ["scope", "day", "source", "author_handle", "followers"],
    )


def downgrade() -> None:
    op.drop_index("ix_metric_author_days_reach", table_name="metric_author_days")
