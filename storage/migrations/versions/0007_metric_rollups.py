"""metric rollups: 15-minute slot totals and author-days per scope, kept in step by triggers

Revision ID: 0007_metric_rollups
Revises: 0004_metrics
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_metric_rollups"
down_revision = "0004_metrics"
branch_labels = None
depends_on = None

# Columns of a mention that some metric reads; a change to any other (text, triage state) leaves metrics as they are.
_MEASURED = (
    "created_at", "source", "author_handle", "author_followers", "likes", "reposts", "replies", "quotes",
    "impressions", "matched_queries",
)  # fmt: skip


def _sqlite_slot(column: str) -> str:
    epoch = f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"(({epoch}) - ((({epoch}) % 900) + 900) % 900) / 900"  # floor division, also before 1970


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _MEASURED)
    verdict_changed = "OLD.sentiment IS NOT NEW.sentiment OR OLD.human_sentiment IS NOT NEW.human_sentiment"
    log_mention = "INSERT INTO metric_dirty (slot) SELECT {slot} FROM mentions WHERE id = {row}.mention_id;"
    return [
        f"""CREATE TRIGGER metric_dirty_mention_insert AFTER INSERT ON mentions BEGIN
            INSERT INTO metric_dirty (slot) VALUES ({_sqlite_slot("NEW.created_at")}); END""",
        f"""CREATE TRIGGER metric_dirty_mention_update AFTER UPDATE ON mentions WHEN {changed} BEGIN
            INSERT INTO metric_dirty (slot) VALUES ({_sqlite_slot("OLD.created_at")}), ({_sqlite_slot("NEW.created_at")});
            END""",
        f"""CREATE TRIGGER metric_dirty_mention_delete AFTER DELETE ON mentions BEGIN
            INSERT INTO metric_dirty (slot) VALUES ({_sqlite_slot("OLD.created_at")}); END""",
        f"""CREATE TRIGGER metric_dirty_verdict_insert AFTER INSERT ON verdicts BEGIN
            {log_mention.format(slot=_sqlite_slot("created_at"), row="NEW")} END""",
        f"""CREATE TRIGGER metric_dirty_verdict_update AFTER UPDATE ON verdicts
            WHEN {verdict_changed} OR OLD.mention_id IS NOT NEW.mention_id BEGIN
            {log_mention.format(slot=_sqlite_slot("created_at"), row="OLD")}
            {log_mention.format(slot=_sqlite_slot("created_at"), row="NEW")} END""",
        f"""CREATE TRIGGER metric_dirty_verdict_delete AFTER DELETE ON verdicts BEGIN
            {log_mention.format(slot=_sqlite_slot("created_at"), row="OLD")} END""",
    ]


_PG_SLOT = "floor(extract(epoch FROM {0}) / 900)::bigint"


def _postgresql_triggers() -> list[str]:
    old = ", ".join(f"OLD.{c}::text" if c == "matched_queries" else f"OLD.{c}" for c in _MEASURED)
    new = ", ".join(f"NEW.{c}::text" if c == "matched_queries" else f"NEW.{c}" for c in _MEASURED)
    return [
        f"""CREATE FUNCTION metric_dirty_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO metric_dirty (slot) VALUES ({_PG_SLOT.format("NEW.created_at")});
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO metric_dirty (slot) VALUES ({_PG_SLOT.format("OLD.created_at")});
            ELSIF ROW({old}) IS DISTINCT FROM ROW({new}) THEN
                INSERT INTO metric_dirty (slot)
                VALUES ({_PG_SLOT.format("OLD.created_at")}), ({_PG_SLOT.format("NEW.created_at")});
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER metric_dirty_mentions AFTER INSERT OR UPDATE OR DELETE ON mentions
           FOR EACH ROW EXECUTE FUNCTION metric_dirty_mentions()""",
        f"""CREATE FUNCTION metric_dirty_verdicts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                IF TG_OP = 'UPDATE' AND OLD.mention_id = NEW.mention_id
                   AND OLD.sentiment IS NOT DISTINCT FROM NEW.sentiment
                   AND OLD.human_sentiment IS NOT DISTINCT FROM NEW.human_sentiment THEN
                    RETURN NULL;
                END IF;
                INSERT INTO metric_dirty (slot)
                SELECT {_PG_SLOT.format("created_at")} FROM mentions WHERE id = OLD.mention_id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO metric_dirty (slot)
                SELECT {_PG_SLOT.format("created_at")} FROM mentions WHERE id = NEW.mention_id;
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER metric_dirty_verdicts AFTER INSERT OR UPDATE OR DELETE ON verdicts
           FOR EACH ROW EXECUTE FUNCTION metric_dirty_verdicts()""",
    ]


def upgrade() -> None:
    op.create_table(
        "metric_slots",
        sa.Column("scope", sa.String(length=256), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("mentions", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("impressions_reported", sa.BigInteger(), nullable=False),
        sa.Column("engagement", sa.BigInteger(), nullable=False),
        sa.Column("positive", sa.BigInteger(), nullable=False),
        sa.Column("neutral", sa.BigInteger(), nullable=False),
        sa.Column("negative", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "slot", name=op.f("pk_metric_slots")),
    )
    op.create_table(
        "metric_author_days",
        sa.Column("scope", sa.String(length=256), nullable=False),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("author_handle", sa.String(length=256), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("mentions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "day", "source", "author_handle", name=op.f("pk_metric_author_days")),
    )
    op.create_table(
        "metric_dirty",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_dirty")),
    )
    op.create_index("ix_metric_dirty_slot", "metric_dirty", ["slot"])
    dialect = op.get_bind().dialect.name
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    # Every slot that holds a mention is logged, then rolled up here, so the first dashboard after the upgrade
    # is not the one that pays for it.
    slot = _PG_SLOT.format("created_at") if dialect == "postgresql" else _sqlite_slot("created_at")
    op.execute(f"INSERT INTO metric_dirty (slot) SELECT DISTINCT {slot} FROM mentions")
    from storage.metrics import refresh_rollups

    refresh_rollups(op.get_bind(), wait=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER metric_dirty_verdicts ON verdicts")
        op.execute("DROP TRIGGER metric_dirty_mentions ON mentions")
        op.execute("DROP FUNCTION metric_dirty_verdicts()")
        op.execute("DROP FUNCTION metric_dirty_mentions()")
    else:
        for event in ("mention_insert", "mention_update", "mention_delete", "verdict_insert", "verdict_update",
                      "verdict_delete"):  # fmt: skip
            op.execute(f"DROP TRIGGER metric_dirty_{event}")
    op.drop_index("ix_metric_dirty_slot", table_name="metric_dirty")
    op.drop_table("metric_dirty")
    op.drop_table("metric_author_days")
    op.drop_table("metric_slots")
