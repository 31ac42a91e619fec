"""mention tags: each mention's hashtags and utm_campaign values, logged for re-extraction by a trigger

Revision ID: 0008_mention_tags
Revises: 0007_metric_rollups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.schema

revision = "0008_mention_tags"
down_revision = "0007_metric_rollups"
branch_labels = None
depends_on = None

# Columns a mention's tag rows are made from (created_at is copied into them).
_TAGGED = ("title", "text", "url", "created_at")


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _TAGGED)
    return [
        """CREATE TRIGGER mention_tags_log_insert AFTER INSERT ON mentions BEGIN
            INSERT INTO mention_tags_log (mention_id) VALUES (NEW.id); END""",
        f"""CREATE TRIGGER mention_tags_log_update AFTER UPDATE ON mentions WHEN {changed} BEGIN
            INSERT INTO mention_tags_log (mention_id) VALUES (NEW.id); END""",
    ]


def _postgresql_triggers() -> list[str]:
    old = ", ".join(f"OLD.{c}" for c in _TAGGED)
    new = ", ".join(f"NEW.{c}" for c in _TAGGED)
    return [
        f"""CREATE FUNCTION mention_tags_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' OR ROW({old}) IS DISTINCT FROM ROW({new}) THEN
                INSERT INTO mention_tags_log (mention_id) VALUES (NEW.id);
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER mention_tags_log AFTER INSERT OR UPDATE ON mentions
           FOR EACH ROW EXECUTE FUNCTION mention_tags_log()""",
    ]


def upgrade() -> None:
    op.create_table(
        "mention_tags",
        sa.Column("mention_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name=op.f("fk_mention_tags_mention_id_mentions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mention_id", "kind", "value", name=op.f("pk_mention_tags")),
    )
    op.create_index("ix_mention_tags_lookup", "mention_tags", ["kind", "value", "created_at"])
    op.create_table(
        "mention_tags_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("mention_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mention_tags_log")),
    )
    op.create_index("ix_mention_tags_log_mention", "mention_tags_log", ["mention_id"])
    dialect = op.get_bind().dialect.name
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    # Every stored mention is logged, then extracted here, so the first campaign after the upgrade reads the index.
    op.execute("INSERT INTO mention_tags_log (mention_id) SELECT id FROM mentions")
    from storage.tags import refresh_mention_tags

    refresh_mention_tags(op.get_bind(), wait=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER mention_tags_log ON mentions")
        op.execute("DROP FUNCTION mention_tags_log()")
    else:
        op.execute("DROP TRIGGER mention_tags_log_update")
        op.execute("DROP TRIGGER mention_tags_log_insert")
    op.drop_index("ix_mention_tags_log_mention", table_name="mention_tags_log")
    op.drop_table("mention_tags_log")
    op.drop_index("ix_mention_tags_lookup", table_name="mention_tags")
    op.drop_table("mention_tags")
