"""Task runs: the database's record of every queued pipeline task, its attempts and its dead letter.

The broker (Redis) only carries wake-up calls. What a task is, how often it was tried, why it failed
and whether it was given up on lives here, so a broker that loses a message, or a worker killed in
the middle of a task, loses nothing a sweeper cannot find again.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, text, update

from storage.database import upsert
from storage.schema import now_utc, task_runs

QUEUED, RUNNING, RETRYING, DONE, DEAD = "queued", "running", "retrying", "done", "dead"
UNFINISHED = (QUEUED, RUNNING, RETRYING)


@dataclass(frozen=True)
class Attempt:
    """One started attempt of a task run: its number (1 = first) and what the previous one left behind."""

    number: int
    previous_error: str | None
    arguments: Any
    finished: bool = False  # the run was already done or dead-lettered: a late duplicate message, do nothing


def enqueue(
    connection: Connection, run_id: str, task: str, subject: str, arguments: Any = None, at: datetime | None = None
) -> None:
    """Record a run before its message is sent, so the sweeper can send it again if the broker loses it."""
    at = at or now_utc()
    row = {"id": run_id, "task": task, "subject": subject, "arguments": arguments, "status": QUEUED, "attempts": 0}
    upsert(connection, task_runs, [{**row, "created_at": at, "updated_at": at}], ("id",), update=())


def begin(connection: Connection, run_id: str, task: str, subject: str, worker: str, arguments: Any = None) -> Attempt:
    """Count one more attempt of `run_id` (created if unknown); an attempt still 'running' was lost."""
    enqueue(connection, run_id, task, subject, arguments)
    row = connection.execute(select(task_runs).where(task_runs.c.id == run_id).with_for_update()).one()
    if row.status in (DONE, DEAD):
        return Attempt(row.attempts, row.last_error, row.arguments, finished=True)
    error = row.last_error
    if row.status == RUNNING:  # the previous attempt never finished: its worker died (SIGKILL, OOM, power)
        error = f"attempt {row.attempts} was lost: its worker ({row.worker}) stopped while running it"
    number = row.attempts + 1
    connection.execute(
        update(task_runs)
        .where(task_runs.c.id == run_id)
        .values(status=RUNNING, attempts=number, worker=worker, last_error=error, updated_at=now_utc())
    )
    return Attempt(number, error, row.arguments)


def finish(connection: Connection, run_id: str, outcome: str) -> None:
    """The run did its work; a pushed page's mentions are stored now, so its copy here is dropped.

    `last_error` is kept: it tells why an earlier attempt failed or was lost.
    """
    connection.execute(
        update(task_runs)
        .where(task_runs.c.id == run_id)
        .values(status=DONE, outcome=outcome, arguments=None, updated_at=now_utc())
    )


def fail(connection: Connection, run_id: str, reason: str, *, dead: bool) -> None:
    """Record why an attempt failed: to be retried, or given up on (dead-lettered, arguments kept)."""
    connection.execute(
        update(task_runs)
        .where(task_runs.c.id == run_id)
        .values(status=DEAD if dead else RETRYING, last_error=reason, updated_at=now_utc())
    )


def stuck(connection: Connection, older_than: datetime, limit: int = 500) -> list[Any]:
    """Unfinished runs nobody touched since `older_than`: their message or their worker was lost."""
    return list(
        connection.execute(
            select(task_runs)
            .where(task_runs.c.status.in_(UNFINISHED), task_runs.c.updated_at < older_than)
            .order_by(task_runs.c.updated_at)
            .limit(limit)
        )
    )


def touch(connection: Connection, run_id: str) -> None:
    """Note that a stuck run was sent again, so the next sweep waits a full period before resending it."""
    connection.execute(update(task_runs).where(task_runs.c.id == run_id).values(updated_at=now_utc()))


def prune(connection: Connection, keep: timedelta, now: datetime | None = None) -> int:
    """Forget finished runs older than `keep`; dead letters stay until a person deals with them."""
    cutoff = (now or now_utc()) - keep
    result = connection.execute(delete(task_runs).where(task_runs.c.status == DONE, task_runs.c.updated_at < cutoff))
    return result.rowcount or 0


def dead_letters(connection: Connection) -> list[Any]:
    return list(connection.execute(select(task_runs).where(task_runs.c.status == DEAD).order_by(task_runs.c.id)))


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Try to hold the lock `name` for the block; yields False at once when another process holds it.

    PostgreSQL: a session advisory lock; SQLite: an flock on a file next to the database. Both are
    released by the operating system or the server when the holder dies, so a SIGKILLed worker never
    leaves a lock behind.
    """
    if engine.dialect.name == "postgresql":
        # The URL (with its search_path) is part of the key: two schemas on one server never share a lock.
        digest = hashlib.sha256(f"{engine.url}|{name}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True  # one process owns an in-memory database
        return
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    with Path(f"{database}.{slug}.lock").open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
