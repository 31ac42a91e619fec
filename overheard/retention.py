"""Retention on its schedule: the periods of `retention:` in overheard.yaml, applied by the scheduler (Celery
beat, `overheard.retention`) and by `overheard run` every `retention.every`, and by hand with `gdpr retention`.
Which table each period ends is in the personal-data registry (`storage.personal_data`, each entry's `kept`)."""

from __future__ import annotations

from sqlalchemy import Engine

from overheard.config import RetentionConfig
from overheard.services import gdpr
from overheard.services.access import Caller
from storage import task_runs
from storage.gdpr import Retention

SCHEDULED = "retention (scheduled)"  # the actor the audit log names for runs nobody started by hand


def periods(conf: RetentionConfig) -> Retention:
    """The storage layer's periods from the config's."""
    return Retention(
        mentions_days=conf.mentions_days,
        quarantine_days=conf.quarantine_days,
        audit_days=conf.audit_days,
        deliveries_days=conf.deliveries_days,
        pages_days=conf.pages_days,
    )


def run(engine: Engine, conf: RetentionConfig, *, dry_run: bool = False, actor: str = SCHEDULED) -> dict[str, int]:
    """Per table, how many records are past retention: counted only (dry run), or deleted and audited
    (the one service function every path calls: `gdpr retention`, the scheduler, `overheard run`)."""
    return gdpr.retention(engine, Caller.operator(actor), periods(conf), dry_run=dry_run)


def run_scheduled(engine: Engine, conf: RetentionConfig) -> dict[str, int] | None:
    """One scheduled run, unless another process is running it now (then None)."""
    with task_runs.exclusive(engine, "retention") as mine:
        if not mine:
            return None
        return run(engine, conf)
