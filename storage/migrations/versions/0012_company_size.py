"""company size: the CRM's employee count of a company, which feeds the CRM part of the lead score

Revision ID: 0012_company_size
Revises: 0011_workspace
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_company_size"
down_revision = "0011_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("employees", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("employees")
