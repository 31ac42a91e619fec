"""deliveries.claimed_by / claimed_until: a sender's lease on the deliveries it is sending

Two senders (two `overheard collect` processes, or a CLI beside Celery workers) read the same due deliveries and
both sent them. A sender now claims its deliveries in one atomic UPDATE before sending.

Revision ID: 0010_delivery_claims
Revises: 0009_author_days_covering
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0010_delivery_claims"
down_revision = "0009_author_days_covering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(256), nullable=True))
        batch.add_column(sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
