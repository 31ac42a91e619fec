"""leads, crm_records and deliveries.receipt: lead state for sales, and what a CRM acknowledged storing

A lead (a mention routed to sales) keeps its score and its state (accepted, dismissed with a reason, snoozed,
owner). A delivery keeps the CRM's receipt (object ids) so a retry never creates twice; `crm_records` keeps a
contact's id, owner and lifecycle stage as the CRM reported them.

Revision ID: 0011_leads
Revises: 0010_delivery_claims
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0011_leads"
down_revision = "0010_delivery_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("mention_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("company_id", sa.String(64), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name="fk_leads_mention_id_mentions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_leads_contact_id_contacts", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name="fk_leads_company_id_companies", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("mention_id", name="pk_leads"),
    )
    op.create_index("ix_leads_state_score", "leads", ["state", "score"])
    op.create_index("ix_leads_contact", "leads", ["contact_id"])
    op.create_table(
        "crm_records",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("company_external_id", sa.String(128), nullable=True),
        sa.Column("owner_id", sa.String(128), nullable=True),
        sa.Column("lifecycle_stage", sa.String(64), nullable=True),
        sa.Column("synced_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_crm_records_contact_id_contacts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", "system", name="pk_crm_records"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("receipt", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("receipt")
    op.drop_table("crm_records")
    op.drop_index("ix_leads_contact", table_name="leads")
    op.drop_index("ix_leads_state_score", table_name="leads")
    op.drop_table("leads")
