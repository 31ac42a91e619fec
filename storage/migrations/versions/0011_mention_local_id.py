"""mentions.local_id: the post's id on the server it was read from (a Mastodon status's instance-local id)

Revision ID: 0011_mention_local_id
Revises: 0010_delivery_claims
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_mention_local_id"
down_revision = "0010_delivery_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("local_id", sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("local_id")
