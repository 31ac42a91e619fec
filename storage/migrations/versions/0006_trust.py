"""source health, operator alerts, and the audit record of findings and routes

Revision ID: 0006_trust
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0006_trust"
down_revision = "0001"
branch_labels = None
depends_on = None

_FINDING_COLUMNS = (
    ("collected_at", storage.schema.UTCDateTime(timezone=True)),
    ("sentiment_confidence", sa.Float()),
    ("thresholds", sa.JSON()),
    ("reasons", sa.JSON()),
    ("approved_by", sa.String(length=256)),
)
_ROUTE_COLUMNS = (
    ("model_version", sa.String(length=128)),
    ("thresholds", sa.JSON()),
    ("collected_at", storage.schema.UTCDateTime(timezone=True)),
    ("evidence", sa.JSON()),
    ("basis", sa.String(length=256)),
    ("approved_by", sa.String(length=256)),
)


def upgrade() -> None:
    op.create_table(
        "source_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("started_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("rate_limit_remaining", sa.Integer(), nullable=True),
        sa.Column("rate_limit_limit", sa.Integer(), nullable=True),
        sa.Column("rate_limit_reset_at", storage.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_runs")),
    )
    with op.batch_alter_table("source_runs", schema=None) as batch_op:
        batch_op.create_index("ix_source_runs_name_finished", ["name", "finished_at"], unique=False)
    op.create_table(
        "operator_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", storage.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_alerts")),
    )
    with op.batch_alter_table("operator_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_operator_alerts_open", ["subject", "resolved_at"], unique=False)
    with op.batch_alter_table("findings", schema=None) as batch_op:
        for name, type_ in _FINDING_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("routes", schema=None) as batch_op:
        for name, type_ in _ROUTE_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routes", schema=None) as batch_op:
        for name, _ in reversed(_ROUTE_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("findings", schema=None) as batch_op:
        for name, _ in reversed(_FINDING_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("operator_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_alerts_open")
    op.drop_table("operator_alerts")
    with op.batch_alter_table("source_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_source_runs_name_finished")
    op.drop_table("source_runs")
