"""Beat queues a job only while none of it waits: a worker that falls behind still sweeps every source.

Real parts: a redis-server for the broker and the markers, Celery beat's own scheduler class, and in the
last test `overheard worker` / `overheard scheduler` subprocesses with PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import Celery
from celery.beat import SchedulingError

from overheard.config import Settings
from overheard.pending import PendingMarkers, send_once
from overheard.scheduler import OneWaitingScheduler
from overheard.tasks import COLLECT, DELIVER, DELIVERIES, RECOVER, make_app
from tests.distributed.conftest import Deployment, RedisServer, sample_lines

pytestmark = [pytest.mark.redis]

QUEUE = "overheard"


def queued(server: RedisServer) -> list[tuple[str, list[str], str]]:
    """(task, args, id) of each message waiting in the queue, oldest first (kombu pushes left, pops right)."""
    waiting = []
    for raw in reversed(server.client().lrange(QUEUE, 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        waiting.append((message["headers"]["task"], args, message["headers"]["id"]))
    return waiting


@pytest.fixture
def app(redis_server: RedisServer) -> Celery:
    return make_app(Settings(redis_url=redis_server.url))


@pytest.fixture
def markers(redis_server: RedisServer) -> PendingMarkers:
    return PendingMarkers(redis_server.client(), QUEUE, ttl_s=60)


@pytest.fixture
def beat(app: Celery, markers: PendingMarkers, tmp_path: Path) -> Iterator[OneWaitingScheduler]:
    app.conf.beat_schedule = {
        **{f"collect s{i}": {"task": COLLECT, "schedule": 1.0, "args": [f"s{i}"]} for i in range(3)},
        "recover stuck work": {"task": RECOVER, "schedule": 1.0},
    }
    scheduler = OneWaitingScheduler(app=app, markers=markers, schedule_filename=str(tmp_path / "beat"))
    yield scheduler
    scheduler.close()


def tick_all(beat: OneWaitingScheduler) -> None:
    """Every entry falls due once, in the schedule's order, as at each tick of a busy beat."""
    for name in sorted(beat.schedule):
        beat.apply_entry(beat.schedule[name], producer=None)


def test_ticks_while_nothing_runs_queue_each_job_once_and_without_expiry(
    beat: OneWaitingScheduler, redis_server: RedisServer
) -> None:
    for _ in range(5):
        tick_all(beat)
    waiting = queued(redis_server)
    assert [(task, args) for task, args, _ in waiting] == [
        (COLLECT, ["s0"]),
        (COLLECT, ["s1"]),
        (COLLECT, ["s2"]),
        (RECOVER, []),
    ], "five ticks with no worker leave one message per job, not five"
    raw = [json.loads(m) for m in redis_server.client().lrange(QUEUE, 0, -1)]
    assert all(m["headers"]["expires"] is None for m in raw), "a waiting collect never expires unrun"


def test_a_started_job_frees_its_slot_so_the_next_tick_queues_it_behind_the_others(
    beat: OneWaitingScheduler, markers: PendingMarkers, redis_server: RedisServer
) -> None:
    tick_all(beat)
    (_, _, first_s0), *_ = queued(redis_server)
    redis_server.client().rpop(QUEUE)  # a worker takes the oldest message, s0's collect ...
    assert markers.release(COLLECT, "s0", first_s0)  # ... and frees its slot as it starts
    tick_all(beat)
    order = [(task, args) for task, args, _ in queued(redis_server)]
    assert order == [(COLLECT, ["s1"]), (COLLECT, ["s2"]), (RECOVER, []), (COLLECT, ["s0"])], (
        "s0 takes its turn again after the sources that waited longer: first in, first out"
    )


def test_a_late_copy_of_an_old_message_does_not_free_a_newer_ones_slot(markers: PendingMarkers) -> None:
    old = markers.claim(COLLECT, "s0")
    assert old is not None and markers.release(COLLECT, "s0", old)
    new = markers.claim(COLLECT, "s0")
    assert new is not None and new != old
    assert markers.release(COLLECT, "s0", old) is False, "a redelivered copy of the old message starts late"
    assert markers.waiting(COLLECT, "s0") == new
    assert markers.claim(COLLECT, "s0") is None


def test_a_marker_expires_so_a_lost_message_delays_its_job_only_for_the_ttl(redis_server: RedisServer) -> None:
    short = PendingMarkers(redis_server.client(), QUEUE, ttl_s=0.3)
    assert short.claim(COLLECT, "s0") is not None
    assert short.claim(COLLECT, "s0") is None
    time.sleep(0.5)
    assert short.claim(COLLECT, "s0") is not None, "after the TTL the job may be queued again"


def test_a_send_that_fails_frees_the_slot_and_beat_reports_the_entry(markers: PendingMarkers, tmp_path: Path) -> None:
    unreachable = make_app(Settings(redis_url="redis://127.0.0.1:1/0"))
    unreachable.conf.task_publish_retry = False
    unreachable.conf.broker_connection_max_retries = 1
    unreachable.conf.broker_connection_timeout = 0.5
    with pytest.raises(Exception):  # noqa: B017 - kombu raises its own OperationalError
        send_once(unreachable, markers, DELIVER, DELIVERIES)
    assert markers.waiting(DELIVER, DELIVERIES) is None, "no message was sent, so none waits"

    unreachable.conf.beat_schedule = {"collect s0": {"task": COLLECT, "schedule": 1.0, "args": ["s0"]}}
    scheduler = OneWaitingScheduler(app=unreachable, markers=markers, schedule_filename=str(tmp_path / "beat"))
    try:
        with pytest.raises(SchedulingError, match="collect s0"):
            scheduler.apply_async(scheduler.schedule["collect s0"], advance=False)
    finally:
        scheduler.close()
    assert markers.waiting(COLLECT, "s0") is None


@pytest.mark.postgres
@pytest.mark.slow
def test_one_worker_that_cannot_keep_up_still_sweeps_every_source_in_turn(
    deployment: Callable[[int], Deployment],
) -> None:
    """Four sources due every second, sweeps of 0.6 s each: the worker needs 2.4 s a round.

    With expiring messages sent in the same order every tick, the source at the front of each tick
    expired while the worker finished the previous tick's tail, and it was skipped again and again. With
    one waiting message per job but re-queued only at ticks, the spread was 2-3 sweeps (first-in-order
    sources got their turns back sooner); re-queued as soon as each starts, it is 0-1.
    """
    d = deployment(4)
    d.extra_env["OVERHEARD_TEST_CLASSIFY_DELAY_S"] = "0.6"
    lines = iter(sample_lines())
    d.start_worker("w1", concurrency=1)
    d.start_scheduler()
    started = time.monotonic()
    while time.monotonic() - started < 14:  # every source has new posts at every poll
        for name in d.sources:
            d.append(name, [next(lines) for _ in range(2)])
        time.sleep(0.5)

    sweeps = Counter(run.subject for run in d.runs() if run.task == COLLECT and run.status == "done")
    assert set(sweeps) == set(d.sources), f"every source was swept: {dict(sweeps)}"
    assert min(sweeps.values()) >= 3, f"each source had its turn several times: {dict(sweeps)}"
    assert max(sweeps.values()) - min(sweeps.values()) <= 2, f"the sources took turns: {dict(sweeps)}"
    d.wait_until_settled(timeout_s=120)
