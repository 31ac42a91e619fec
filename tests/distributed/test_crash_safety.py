"""Workers that die, a broker that restarts, workers that race: nothing lost, nothing stored or delivered twice.

Real parts only: redis-server processes, `overheard worker` / `overheard scheduler` subprocesses,
PostgreSQL, and a local receiver that verifies each webhook's signature. Workers classify with a
keyword stand-in (tests/distributed/keyword_classifier.py) so a restarted process is ready at once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest

from overheard.tasks import COLLECT
from tests.distributed.conftest import Deployment, children, sample_lines

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def assert_each_mention_stored_once_and_each_route_delivered_once(deployment: Deployment) -> None:
    stored = deployment.stored_keys()
    assert len(stored) == len(set(stored)), "a mention was stored twice"
    assert set(stored) == deployment.expected, "a mention was lost, or one nobody sent was stored"
    outbox = deployment.deliveries()
    assert outbox, "the sample routes some mentions: there must be deliveries"
    assert set(outbox.values()) == {"delivered"}
    assert deployment.receiver.distinct() == set(outbox), "a delivery never arrived, or an unknown one did"
    assert deployment.receiver.refused == [], "every webhook carries a valid Standard Webhooks signature"
    assert deployment.count_runs("dead") == 0


def test_sigkilled_workers_store_every_mention_once_and_deliver_every_route_once(
    deployment: Callable[[int], Deployment],
) -> None:
    d = deployment(4)
    lines = sample_lines()
    for_sources, for_pages = (
        lines[:260],
        lines[260:],
    )  # 52 chunks of 5: a second lap gives each source its own lines again
    d.start_worker("w1", concurrency=2)
    d.start_scheduler()

    kills: Counter[str] = Counter()
    whole_worker_kills = 0
    chunk, next_feed, deadline = 0, 0.0, time.monotonic() + 150
    while (sum(kills.values()) < 22 or chunk < 52) and time.monotonic() < deadline:
        if time.monotonic() >= next_feed and chunk < 104:  # posts keep arriving: there is a batch to be killed in
            start = (chunk * 5) % len(for_sources)  # the second lap collects the same posts again
            d.append(f"s{chunk % 4}", for_sources[start : start + 5])
            if chunk % 6 == 0 and for_pages:
                d.submit_page(for_pages[:10])
                for_pages = for_pages[10:]
            chunk, next_feed = chunk + 1, time.monotonic() + 0.25
        killed = d.kill_a_running_attempt()
        if killed is None:
            time.sleep(0.02)
            continue
        kills[killed["task"]] += 1
        if sum(kills.values()) in (8, 16) and whole_worker_kills < sum(kills.values()) // 8:
            d.kill_process_group("w1")  # the main process too: Redis redelivers after its visibility timeout
            d.start_worker("w1", concurrency=2)
            whole_worker_kills += 1
        time.sleep(0.2)

    assert sum(kills.values()) >= 20, f"only {dict(kills)} kills landed in a running task"
    assert whole_worker_kills == 2
    d.wait_until_settled(timeout_s=120)
    assert_each_mention_stored_once_and_each_route_delivered_once(d)
    runs = d.runs()
    repeated = sum(run.attempts - 1 for run in runs)
    lost = [run for run in runs if "was lost" in (run.last_error or "")]
    print(f"kills {dict(kills)}, attempts repeated {repeated}, runs with a lost attempt {len(lost)}")
    assert repeated >= 20, "each killed attempt was counted in the database and run again"
    assert lost, "an attempt cut off by SIGKILL is recorded as lost, with the worker that ran it"


def test_redis_killed_and_restarted_mid_run_loses_nothing(deployment: Callable[[int], Deployment]) -> None:
    d = deployment(3)
    lines = sample_lines()
    d.start_worker("w1", concurrency=1)
    d.start_scheduler()
    for i in range(3):
        d.append(f"s{i}", lines[i * 40 : i * 40 + 40])
    d.submit_page(lines[120:135])
    deadline = time.monotonic() + 60
    while len(d.stored_keys()) < 20 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert 0 < len(d.stored_keys()) < len(d.expected), "the broker goes down in the middle of the run"

    old_pid = d.redis.process.pid if d.redis.process else None
    d.redis.kill()
    for i in range(3):  # work keeps arriving while the broker is down
        d.append(f"s{i}", lines[150 + i * 40 : 150 + i * 40 + 40])
    d.submit_page(lines[135:150])  # cannot be queued now; kept in task_runs for the sweeper
    time.sleep(1)
    d.redis.start()  # same port, same folder: it reloads its append-only file

    assert d.redis.process is not None and d.redis.process.pid != old_pid
    assert d.redis.client().config_get("appendonly") == {"appendonly": "yes"}
    assert d.redis.client().config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    d.wait_until_settled(timeout_s=120)
    assert_each_mention_stored_once_and_each_route_delivered_once(d)


def test_two_workers_in_parallel_store_once_and_lose_no_cursor_update(
    deployment: Callable[[int], Deployment],
) -> None:
    d = deployment(6)
    lines = sample_lines()
    first, second = d.start_worker("w1"), d.start_worker("w2")
    d.start_scheduler()
    for round_ in range(3):  # each source grows three times; every cursor must end at its file's last line
        for i in range(6):
            start = (round_ * 6 + i) * 15
            d.append(f"s{i}", lines[start : start + 15])
            d.send(COLLECT, f"s{i}")  # two sweeps of one source at once: the second must not race the first
            d.send(COLLECT, f"s{i}")
        time.sleep(1.5)

    d.wait_until_settled(timeout_s=120)
    assert_each_mention_stored_once_and_each_route_delivered_once(d)
    assert d.cursor_positions() == {name: str(n) for name, n in d.lines_in.items()}
    collectors = {int(run.worker.rsplit(":", 1)[1]) for run in d.runs() if run.task == COLLECT}

    assert collectors & {first.pid, *children(first.pid)}, "the first worker swept sources"
    assert collectors & {second.pid, *children(second.pid)}, "the second worker swept sources"
    assert any((run.outcome or "").startswith("skipped") for run in d.runs()), "a racing sweep stood aside"


def test_a_run_that_keeps_failing_is_dead_lettered_with_its_reason(deployment: Callable[[int], Deployment]) -> None:
    d = deployment(1)
    d.sources["s0"].unlink()  # the source's file disappeared: every attempt fails the same way
    d.start_worker("w1")
    d.send(COLLECT, "s0")
    deadline = time.monotonic() + 60
    while d.count_runs("dead") == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    [run] = [r for r in d.runs() if r.status == "dead"]
    assert run.task == COLLECT and run.subject == "s0"
    assert run.attempts == 5
    assert run.last_error.startswith("gave up after 5 attempts; last: SourceNotAvailable")
    assert "does not exist" in run.last_error
