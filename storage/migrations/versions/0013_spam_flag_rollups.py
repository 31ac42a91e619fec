"""spam flag rollups: a change of a mention's noise flag logs its metric slot, like every other measured column

Spam leaves the figures (storage.metrics.scope.counted), so flagging a mention as spam, or clearing the flag,
changes its slot's rollup. Until now only `storage.outbox.save_flags` logged that; a flag set or cleared any other
way (a review, an operator's SQL) left the rollup counting the old state. The mentions' update trigger now watches
`flag` too.

Revision ID: 0013_spam_flag_rollups
Revises: 0012_alert_evidence
"""

from __future__ import annotations

from alembic import op

revision = "0013_spam_flag_rollups"
down_revision = "0012_alert_evidence"
branch_labels = None
depends_on = None

# 0007_metric_rollups' measured columns; `flag` is added by this revision.
_MEASURED = (
    "created_at", "source", "author_handle", "author_followers", "likes", "reposts", "replies", "quotes",
    "impressions", "matched_queries",
)  # fmt: skip
_PG_SLOT = "floor(extract(epoch FROM {0}) / 900)::bigint"


def _sqlite_slot(column: str) -> str:
    epoch = f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"(({epoch}) - ((({epoch}) % 900) + 900) % 900) / 900"  # floor division, also before 1970


def _sqlite_update_trigger(columns: tuple[str, ...]) -> str:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    return f"""CREATE TRIGGER metric_dirty_mention_update AFTER UPDATE ON mentions WHEN {changed} BEGIN
        INSERT INTO metric_dirty (slot) VALUES ({_sqlite_slot("OLD.created_at")}), ({_sqlite_slot("NEW.created_at")});
        END"""


def _postgresql_function(columns: tuple[str, ...]) -> str:
    old = ", ".join(f"OLD.{c}::text" if c == "matched_queries" else f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}::text" if c == "matched_queries" else f"NEW.{c}" for c in columns)
    return f"""CREATE OR REPLACE FUNCTION metric_dirty_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
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
        END $$"""


def _watch(columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgresql_function(columns))  # the trigger calls the function by name: replacing it is enough
    else:
        op.execute("DROP TRIGGER metric_dirty_mention_update")
        op.execute(_sqlite_update_trigger(columns))


def upgrade() -> None:
    _watch((*_MEASURED, "flag"))


def downgrade() -> None:
    _watch(_MEASURED)
