"""Celery tasks: the pipeline's steps run by many workers that share one database through a Redis broker.

Each task calls the same function the in-process pipeline and the CLI call (`services.sweeps.collect` and
`recheck`, `pipeline.process_batch`, `deliver_due`); nothing here stores, classifies or sends on its own.

Delivery semantics (at-least-once execution, exactly-once effects):
- A message is acknowledged only after its task returned (`task_acks_late`); a worker process that
  dies mid-task has its message put back (`task_reject_on_worker_lost`); each process reserves one
  message at a time (`worker_prefetch_multiplier=1`); Redis hands an unacknowledged message to another
  worker only after `visibility_timeout`, which must exceed the hard time limit of every task.
- Every attempt is counted in the database (`task_runs`) before the work starts, so attempts killed
  by SIGKILL count too. A failed attempt is retried after an exponential delay with jitter; after
  `task_max_attempts` the run is dead-lettered with the reason (and, for a pushed page, its mentions).
- Running a task twice changes nothing: mentions are upserts on (source, external_id), a sweep saves
  its cursor only after every page is stored, one sweep per source runs at a time (a database lock),
  and every delivery carries an idempotency key that a receiver sees as `webhook-id`.
- Redis only carries wake-up calls. The database is the source of truth: `recover` re-sends any run
  left unfinished and wakes the sender while deliveries are due, so a broker that loses messages
  delays work but loses none.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import redis
from celery import Celery, Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from listener.base import Rejected
from listener.http import Http
from listener.mention import Mention
from overheard.config import Settings, environment, load_config
from overheard.pacing import RedisPacer
from overheard.pending import PendingMarkers, send_once
from overheard.pipeline import Runtime, deliver_due, process_batch
from overheard.runtime import load_classifier_from
from overheard.services import sweeps
from overheard.sources import build_collectors, build_http
from storage import task_runs
from storage.database import error_text
from storage.outbox import SqlOutbox
from storage.schema import now_utc

log = logging.getLogger("overheard.tasks")

COLLECT, PROCESS_PAGE, DELIVER, RECOVER, RECHECK, RETENTION = (
    "overheard.collect",
    "overheard.process_page",
    "overheard.deliver",
    "overheard.recover",
    "overheard.recheck",
    "overheard.retention",
)
DELIVERIES = "deliveries"  # the subject of a deliver run
PLATFORM_DELETIONS = "platform deletions"  # the subject of a recheck run
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def make_app(settings: Settings | None = None) -> Celery:
    """A Celery app with these settings (default: the environment's); each setting below is a stated guarantee.
    The tasks below are shared: every app built here runs them."""
    settings = settings or environment()
    app = Celery("overheard", broker=settings.redis_url or DEFAULT_REDIS_URL, set_as_current=True)
    app.conf.update(
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a Redis restart is waited out, never fatal
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,  # failures are recorded in task_runs and retried from there
        worker_prefetch_multiplier=1,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=settings.task_time_limit_s * 0.9,
        worker_soft_shutdown_timeout=settings.soft_shutdown_s,
        worker_enable_soft_shutdown_on_idle=True,  # also give back reserved retries (ETA) on shutdown
        worker_cancel_long_running_tasks_on_connection_loss=True,  # Redis will redeliver them
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
        task_ignore_result=True,  # outcomes live in task_runs
        result_expires=None,  # so no result backend to clean: beat sends no daily celery.backend_cleanup
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        worker_hijack_root_logger=False,
    )
    return app


_settings: Settings | None = None
_app: Celery | None = None
_runtime: Runtime | None = None
_redis_client: redis.Redis | None = None
_markers: PendingMarkers | None = None
_http: Http | None = None


def configure(settings: Settings) -> Celery:
    """Use `settings` in this process and the worker processes it forks (`overheard worker` and `overheard
    scheduler` pass their options this way, not through os.environ); returns the app built with them."""
    global _settings, _app, _runtime, _redis_client, _markers, _http
    _settings, _runtime, _redis_client, _markers, _http = settings, None, None, None, None
    _app = make_app(settings)
    return _app


def worker_settings() -> Settings:
    """This process's settings: those `configure` was given, else the environment's."""
    global _settings
    if _settings is None:
        _settings = environment()
    return _settings


def celery_app() -> Celery:
    """This process's Celery app, built on first use (nothing is built when this module is imported)."""
    global _app
    if _app is None:
        _app = make_app(worker_settings())
    return _app


def broker_redis(settings: Settings) -> redis.Redis:
    """A client of the broker's Redis, for what workers and the scheduler keep beside the queue."""
    return redis.Redis.from_url(settings.redis_url or DEFAULT_REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def _redis() -> redis.Redis:
    global _redis_client
    if _redis_client is None:
        _redis_client = broker_redis(worker_settings())
    return _redis_client


def pending_markers() -> PendingMarkers:
    """The markers of waiting jobs in the broker's Redis (overheard/pending.py), one per process."""
    global _markers
    if _markers is None:
        _markers = PendingMarkers(_redis(), worker_settings().queue, worker_settings().pending_ttl_s)
    return _markers


def http_client() -> Http:
    """This process's HTTP client, kept across tasks (connections, robots.txt), paced with the whole fleet."""
    global _http
    if _http is None:
        _http = build_http(runtime().config, RedisPacer(_redis(), worker_settings().queue))
    return _http


def _started(task: Task, subject: str = "") -> None:
    """This job no longer waits: free its slot so the next run can be queued while this one works."""
    pending_markers().release_quietly(task.name, subject, task.request.id)


def runtime() -> Runtime:
    """This process's runtime: config, database engine and classifier, built once per worker process."""
    global _runtime
    if _runtime is None:
        from overheard.runtime import open_runtime

        settings = worker_settings()
        config = load_config(settings.config, settings)
        _runtime = open_runtime(config, classifier=load_classifier_from(settings.classifier, config))
    return _runtime


@worker_process_init.connect
def _load_once_per_process(**_: Any) -> None:
    # A forked pool process builds its own engine (connections must not cross a fork) and loads the
    # classifier before its first task, so the first task's time is not spent loading a model.
    global _runtime, _redis_client, _markers, _http
    _runtime, _redis_client, _markers, _http = None, None, None, None
    runtime()
    log.info("runtime.ready", extra={"pid": os.getpid(), "classifier": worker_settings().classifier})


def retry_delay(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Seconds before the retry that follows attempt number `attempt`: doubling, capped, with equal jitter."""
    ceiling = min(settings.retry_max_s, settings.retry_base_s * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _attempt(task: Task, subject: str, work: Callable[[Runtime, Any], str]) -> str:
    """Count the attempt, do the work, record the outcome; retry with backoff or dead-letter on failure."""
    settings, rt, run_id = worker_settings(), runtime(), task.request.id
    try:
        with rt.engine.begin() as connection:
            attempt = task_runs.begin(connection, run_id, task.name, subject, _worker_name())
    except DBAPIError as exc:  # the database is unreachable: wait for it without spending an attempt
        raise task.retry(exc=exc, countdown=retry_delay(1, settings)) from exc
    if attempt.finished:
        return "already finished"
    if attempt.number > settings.task_max_attempts:  # the previous attempts were lost (killed workers)
        reason = f"gave up after {attempt.number - 1} attempts; last: {attempt.previous_error}"
        with rt.engine.begin() as connection:
            task_runs.fail(connection, run_id, reason, dead=True)
        log.error("task.dead", extra={"run": run_id, "task": task.name, "subject": subject, "reason": reason})
        return "dead"
    try:
        outcome = work(rt, attempt.arguments)
    except Exception as exc:
        if isinstance(exc, SoftTimeLimitExceeded | DBAPIError):
            # Interrupted mid-query, a pooled connection is left in an unknown state: start afresh.
            rt.engine.dispose()
        reason = f"{type(exc).__name__}: {error_text(exc)}"
        dead = attempt.number >= settings.task_max_attempts
        if dead:
            reason = f"gave up after {attempt.number} attempts; last: {reason}"
        with rt.engine.begin() as connection:
            task_runs.fail(connection, run_id, reason, dead=dead)
        if dead:
            log.error("task.dead", extra={"run": run_id, "task": task.name, "subject": subject, "reason": reason})
            return "dead"
        delay = retry_delay(attempt.number, settings)
        log.warning("task.retry", extra={"run": run_id, "task": task.name, "reason": reason, "delay_s": delay})
        raise task.retry(exc=exc, countdown=delay) from exc
    with rt.engine.begin() as connection:
        task_runs.finish(connection, run_id, outcome)
    return outcome


def _wake_sender() -> None:
    """Ask for due deliveries to be sent; a lost wake-up is repaired by `recover`."""
    try:
        send_once(celery_app(), pending_markers(), DELIVER, DELIVERIES)  # one waiting wake-up is enough
    except Exception as exc:  # the broker is down: recover sends it when due deliveries remain
        log.warning("deliver.not_enqueued", extra={"reason": f"{type(exc).__name__}: {exc}"})


def _collect(rt: Runtime, source_name: str) -> str:
    # A source may fan out into several collectors (one per query, feed or page), each with its cursor; the
    # same collect as `overheard collect`, except that sending is the sender task's.
    report = sweeps.collect(rt, build_collectors(rt.config, only=source_name, http=http_client()), send=False)
    if report.routes:
        _wake_sender()
    if report.failures:  # the attempt fails (and is retried) on the first failure, after the others went on
        raise report.failures[0].error
    skipped, routes = report.sweeps.busy, report.routes
    stored, quarantined = report.sweeps.stored, len(report.sweeps.quarantined)
    outcome = f"stored {stored} mentions, quarantined {quarantined}, routes {routes}"
    return f"skipped: {', '.join(skipped)} being swept by another worker; {outcome}" if skipped else outcome


def _process_page(rt: Runtime, arguments: Any) -> str:
    if not arguments:
        raise ValueError("the page's mentions are not in task_runs.arguments")
    mentions = [Mention.model_validate(m) for m in arguments["mentions"]]
    rejected = [Rejected(**r) for r in arguments.get("rejected", [])]
    report = process_batch(rt, mentions, rejected)
    if report.routes:
        _wake_sender()
    return (
        f"stored {report.stored} mentions, quarantined {len(report.quarantined)}, routes {sum(report.routes.values())}"
    )


def _deliver(rt: Runtime, limit: int = 500) -> str:
    # Senders claim what they send (pipeline.deliver_due, through the collectors' SSRF guard): workers, `collect`
    # and `run` may all send at once.
    report = deliver_due(rt, limit)
    return f"delivered {report.delivered}, to retry {report.failed}, dead {report.dead}"


@shared_task(name=COLLECT, bind=True, max_retries=None)  # the attempt counter in task_runs decides
def collect(self: Task, source: str) -> str:
    """Sweep one source from its saved cursor (`pipeline.sweep`), then wake the sender."""
    _started(self, source)
    return _attempt(self, source, lambda rt, _: _collect(rt, source))


@shared_task(name=PROCESS_PAGE, bind=True, max_retries=None)  # the attempt counter in task_runs decides
def process_page(self: Task, subject: str) -> str:
    """Store one pushed page (`pipeline.process_batch`); the mentions wait in task_runs until stored."""
    return _attempt(self, subject, _process_page)


@shared_task(name=DELIVER, bind=True, max_retries=None)  # the attempt counter in task_runs decides
def deliver(self: Task, subject: str = DELIVERIES) -> str:
    """Send every due delivery once (`pipeline.deliver_due`), until none is due."""
    _started(self, subject)
    return _attempt(self, subject, lambda rt, _: _deliver(rt))


def _recheck(rt: Runtime) -> str:
    report = sweeps.recheck(rt.config, rt.engine, http=http_client())  # one re-check at a time, in any process
    if report is None:
        return "skipped: another worker is re-checking"
    return f"re-checked {report.checked} mentions, removed {len(report.deletions)} deleted on their platform"


@shared_task(name=RECHECK, bind=True, max_retries=None)  # the attempt counter in task_runs decides
def recheck(self: Task, subject: str = PLATFORM_DELETIONS) -> str:
    """Re-check a sample of recent mentions per source; remove those deleted on their platform."""
    _started(self, subject)
    return _attempt(self, subject, lambda rt, _: _recheck(rt))


@shared_task(name=RETENTION, bind=True)
def retention(self: Task) -> str:
    """Delete what is past the `retention:` periods, audited; one process at a time."""
    from overheard import retention as periods

    _started(self)
    rt = runtime()
    removed = periods.run_scheduled(rt.engine, rt.config.retention)
    if removed is None:
        return "skipped: another worker is applying retention"
    return "retention: " + (", ".join(f"deleted {n} {t}" for t, n in removed.items() if n) or "nothing past its period")


@shared_task(name=RECOVER, bind=True)
def recover(self: Task) -> str:
    """The sweeper: re-send runs the broker or a dead worker lost, wake the sender, forget old runs."""
    _started(self)
    settings, rt = worker_settings(), runtime()
    now = now_utc()
    with rt.engine.begin() as connection:
        stuck = task_runs.stuck(connection, now - timedelta(seconds=settings.stuck_seconds))
        due = bool(SqlOutbox(connection).due(now, 1))
        pruned = task_runs.prune(connection, timedelta(days=settings.runs_kept_days), now)
    resent = 0
    for run in stuck:
        if run.task not in (COLLECT, PROCESS_PAGE, DELIVER, RECHECK):
            continue
        # The same id: the attempt counter goes on, so a run that keeps dying is dead-lettered.
        self.app.send_task(run.task, args=[run.subject], task_id=run.id)
        with rt.engine.begin() as connection:
            task_runs.touch(connection, run.id)
        resent += 1
    if due:
        _wake_sender()
    if resent:
        log.warning("recover.resent", extra={"runs": resent})
    return f"re-sent {resent} runs, deliveries due: {due}, forgot {pruned} finished runs"


def submit_page(
    app: Celery, engine: Engine, mentions: Sequence[Mention], rejected: Sequence[Rejected] = (), subject: str = "page"
) -> str:
    """Queue a pushed page (a stream, an import): kept in task_runs first, so no broker loss can drop it."""
    run_id = uuid.uuid4().hex
    arguments = {
        "mentions": [m.model_dump(mode="json") for m in mentions],
        "rejected": [asdict(r) for r in rejected],
    }
    with engine.begin() as connection:
        task_runs.enqueue(connection, run_id, PROCESS_PAGE, subject, arguments)
    try:
        app.send_task(PROCESS_PAGE, args=[subject], task_id=run_id)
    except Exception as exc:  # kept: `recover` sends it once the broker is back
        log.warning("page.not_enqueued", extra={"run": run_id, "reason": f"{type(exc).__name__}: {exc}"})
    return run_id
