"""alert evidence: the mentions that drove each spike or storm alert (marketing and communications read them)

Revision ID: 0012_alert_evidence
Revises: 0011_workspace
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0012_alert_evidence"
down_revision = "0011_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_evidence",
        sa.Column("alert_key", sa.String(length=256), nullable=False),
        sa.Column("mention_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=256), nullable=False),
        sa.Column("hour", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name=op.f("fk_alert_evidence_mention_id_mentions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_key", "mention_id", name=op.f("pk_alert_evidence")),
    )
    op.create_index("ix_alert_evidence_hour", "alert_evidence", ["hour"])
    op.create_index("ix_alert_evidence_mention", "alert_evidence", ["mention_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_evidence_mention", table_name="alert_evidence")
    op.drop_index("ix_alert_evidence_hour", table_name="alert_evidence")
    op.drop_table("alert_evidence")
