"""Crash safety under many SIGKILLs: every mention stored once, every route's delivery received once.

    eval $(scripts/services.sh start); export OVERHEARD_TEST_POSTGRES_URL
    python benchmarks/crash_kills.py [--mentions 1200] [--kills 60] [--whole-every 12]
                                     [--concurrency 2 1] [--batch-delay 0.2] [--seed N]

Real parts only, as in tests/distributed/: a redis-server with the documented durability settings,
one `overheard worker` per --concurrency value, one `overheard scheduler` polling four replay sources
every second, PostgreSQL in a fresh schema, and a local webhook receiver that verifies every Standard
Webhooks signature. Workers classify with the keyword stand-in (tests/distributed/keyword_classifier.py),
sleeping --batch-delay per batch so that a kill lands in the middle of one.

The mentions (the bundled sample, each with an id of its own) appear on the sources a chunk at a
time, keeping pace with the kills so there is always work to cut off. After a random pause the script
SIGKILLs the pool process running some task (the worker forks a new one); every --whole-every-th kill
takes the whole worker that is running a task instead (its main process too), and starts it again.
Once --kills have landed the rest of the mentions appear at once and the script waits for the runtime
to drain. Then it checks, prints, and exits 1 if any of these fail:

- mentions stored: one row per distinct mention of the sources, none missing, none twice
- every cursor at the end of its source; no route twice; every route has a delivery
- every delivery marked delivered and its webhook-id received, with a valid signature (receivers
  may see an id more than once: at least once delivery; the repeats are counted and reported)
- no dead letters (runs or deliveries); every worker back to its full pool; --kills kills done
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import exists, func, select  # noqa: E402

from benchmarks.pipeline_throughput import mention_lines  # noqa: E402
from storage.schema import deliveries, routes, task_runs  # noqa: E402
from tests.conftest import postgres_schema  # noqa: E402
from tests.distributed.conftest import Deployment, RedisServer, children  # noqa: E402

SOURCES = 4
POOL_REFILL_S = 30.0  # how long a killed pool process or a restarted worker may take to be back
DRAIN_TIMEOUT_S = 180.0


class KillDeployment(Deployment):
    """The tests' deployment, with the classifier's per-batch delay of this run."""

    def __init__(self, folder: Path, database_url: str, redis_server: RedisServer, batch_delay_s: float) -> None:
        super().__init__(folder, database_url, redis_server, SOURCES)
        self.batch_delay_s = batch_delay_s

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "OVERHEARD_TEST_CLASSIFY_DELAY_S": str(self.batch_delay_s)}


@dataclass
class Kills:
    """The SIGKILLs that landed on a process running a task, by task name."""

    pool: Counter[str] = field(default_factory=Counter)  # one pool process; its worker forks a new one
    whole: Counter[str] = field(default_factory=Counter)  # a worker's main process and all its pool
    last_at: float = 0.0  # time.monotonic() of the latest kill

    @property
    def total(self) -> int:
        return sum(self.pool.values()) + sum(self.whole.values())


def running_attempts(d: Deployment) -> dict[int, str]:
    """pid → task of every attempt the database says is running now."""
    with d.engine.connect() as connection:
        rows = connection.execute(
            select(task_runs.c.worker, task_runs.c.task).where(task_runs.c.status == "running")
        ).all()
    return {int(r.worker.rsplit(":", 1)[1]): r.task for r in rows}


def kill_a_busy_worker(d: Deployment, concurrency: dict[str, int]) -> str | None:
    """SIGKILL the whole worker whose pool is running some task now, and start it again; returns the task."""
    running = running_attempts(d)
    for name in random.sample(sorted(concurrency), len(concurrency)):
        process = d.processes.get(name)
        if process is None or process.poll() is not None:
            continue
        busy = [running[pid] for pid in children(process.pid) if pid in running and pid not in d.killed]
        if busy:
            d.kill_process_group(name)  # Redis hands its message to a live worker after the visibility timeout
            d.start_worker(name, concurrency=concurrency[name])
            return busy[0]
    return None


def run_kills(d: Deployment, lines: list[str], args: argparse.Namespace, concurrency: dict[str, int]) -> Kills:
    """Feed the sources in step with the kills until --kills have landed (or --timeout), then feed the rest."""
    kills = Kills()
    chunk = max(1, math.ceil(len(lines) / args.kills))
    fed, lead = 0, 3  # the feed stays a few chunks ahead of the kills
    started = time.monotonic()
    deadline = started + args.timeout
    idle_since = time.monotonic()

    def feed(count: int) -> None:
        nonlocal fed
        while count > 0 and fed < len(lines):
            part = lines[fed : fed + min(count, chunk)]
            d.append(f"s{(fed // chunk) % SOURCES}", part)
            fed += len(part)
            count -= len(part)

    while kills.total < args.kills and time.monotonic() < deadline:
        if fed < len(lines) and fed < len(lines) * (kills.total + lead) / args.kills:
            feed(chunk)
        time.sleep(random.uniform(0.0, args.max_pause))  # a random moment in whatever is running
        whole = (kills.total + 1) % args.whole_every == 0
        task = kill_a_busy_worker(d, concurrency) if whole else None
        if task is None:
            killed = d.kill_a_running_attempt()  # skips attempts already killed twice: no dead letter by design
            task = killed["task"] if killed else None
            whole = False
        if task is None:
            if time.monotonic() - idle_since > 3 and fed < len(lines):
                feed(chunk)  # nothing to cut off: let more work in
                idle_since = time.monotonic()
            continue
        (kills.whole if whole else kills.pool)[task] += 1
        kills.last_at = idle_since = time.monotonic()
        if kills.total % 10 == 0:
            print(
                f"  {time.monotonic() - started:6.1f}s: {kills.total} kills, {fed}/{len(lines)} mentions fed, "
                f"{len(d.stored_keys())} stored",
                flush=True,
            )
    feed(len(lines))
    return kills


@dataclass
class Check:
    failures: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> str:
        if not ok:
            self.failures.append(what)
        return "ok" if ok else "FAILED"


def report(d: Deployment, kills: Kills, args: argparse.Namespace, concurrency: dict[str, int]) -> list[str]:
    """Print the figures; returns the invariants that failed."""
    check = Check()
    stored = d.stored_keys()
    distinct = set(stored)
    twice = len(stored) - len(distinct)
    missing, extra = len(d.expected - distinct), len(distinct - d.expected)
    ok = check.expect(twice == 0 and not missing and not extra, "mentions stored exactly once")
    print(
        f"mentions: {len(d.expected)} distinct in the sources, {len(stored)} stored "
        f"({twice} twice, {missing} missing, {extra} unexpected) [{ok}]"
    )

    positions = d.cursor_positions()
    at_end = {name: positions.get(name) == str(n) for name, n in d.lines_in.items()}
    ok = check.expect(all(at_end.values()), "every cursor at the end of its source")
    shown = ", ".join(f"{name} {positions.get(name)}/{n}" for name, n in d.lines_in.items())
    print(f"cursors: {shown} [{ok}]")

    with d.engine.connect() as connection:
        route_count = connection.execute(select(func.count()).select_from(routes)).scalar_one()
        route_keys = select(routes.c.source, routes.c.external_id, routes.c.team).distinct().subquery()
        distinct_routes = connection.execute(select(func.count()).select_from(route_keys)).scalar_one()
        undelivered_routes = connection.execute(
            select(func.count()).select_from(routes).where(~exists().where(deliveries.c.route_id == routes.c.id))
        ).scalar_one()
        attempts = connection.execute(select(func.coalesce(func.sum(deliveries.c.attempts), 0))).scalar_one()
    ok = check.expect(
        route_count == distinct_routes and undelivered_routes == 0 and route_count > 0,
        "one route per mention and team, each with its delivery",
    )
    print(
        f"routes: {route_count} ({route_count - distinct_routes} twice, {undelivered_routes} without a delivery) [{ok}]"
    )

    outbox = d.deliveries()
    statuses = Counter(outbox.values())
    received = Counter(d.receiver.received)
    repeats = {key: n for key, n in received.items() if n > 1}
    unknown = set(received) - set(outbox)
    not_received = set(outbox) - set(received)
    ok = check.expect(
        set(statuses) == {"delivered"} and not unknown and not not_received and not d.receiver.refused,
        "every delivery received, with a valid signature",
    )
    print(
        f"deliveries: {len(outbox)} in the outbox {dict(statuses)}, {attempts} send attempts; receiver: "
        f"{len(received)} distinct webhook-ids, {sum(received.values())} requests, {len(repeats)} ids seen more "
        f"than once ({sum(repeats.values()) - len(repeats)} repeats; at least once), {len(not_received)} never "
        f"received, {len(unknown)} unknown, {len(d.receiver.refused)} bad signatures [{ok}]"
    )

    runs = d.runs()
    dead_runs = [r for r in runs if r.status == "dead"]
    dead_deliveries = statuses.get("dead", 0)
    ok = check.expect(not dead_runs and not dead_deliveries, "no dead letters")
    lost = sum("was lost" in (r.last_error or "") for r in runs)
    repeated = sum(max(0, r.attempts - 1) for r in runs)
    print(
        f"task runs: {len(runs)}, {repeated} attempts repeated, {lost} with a lost attempt; dead letters: "
        f"{len(dead_runs)} runs, {dead_deliveries} deliveries [{ok}]"
    )
    for run in dead_runs[:5]:
        print(f"  dead: {run.task} {run.subject} after {run.attempts}: {run.last_error}")

    def pool_sizes() -> dict[str, int]:
        sizes: dict[str, int] = {}
        for name in concurrency:
            process = d.processes.get(name)
            sizes[name] = len(children(process.pid)) if process and process.poll() is None else 0
        return sizes

    # A worker forks a new pool process some time after one is killed (and a restarted worker needs to boot):
    # give them POOL_REFILL_S before calling a pool short, instead of counting 0.0 s after the last kill.
    waited, started = 0.0, time.monotonic()
    pools = pool_sizes()
    while any(pools[n] < size for n, size in concurrency.items()) and waited < POOL_REFILL_S:
        time.sleep(0.5)
        waited = time.monotonic() - started
        pools = pool_sizes()
    ok = check.expect(all(pools[n] == size for n, size in concurrency.items()), "every worker back to its full pool")
    print(
        "pools at the end: "
        + ", ".join(f"{n} {pools[n]}/{size}" for n, size in concurrency.items())
        + f" after waiting {waited:.1f} s of at most {POOL_REFILL_S:.0f} s [{ok}]"
    )

    ok = check.expect(kills.total >= args.kills, f"at least {args.kills} kills")
    print(
        f"kills: {kills.total} of {args.kills} [{ok}]: pool processes {sum(kills.pool.values())} "
        f"{dict(kills.pool)}, whole workers {sum(kills.whole.values())} {dict(kills.whole)}"
    )
    return check.failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1200, help="distinct mentions the sources replay")
    parser.add_argument("--kills", type=int, default=60, help="SIGKILLs of a process running a task")
    parser.add_argument("--whole-every", type=int, default=12, help="every n-th kill takes a whole worker")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[2, 1], help="one worker per value")
    parser.add_argument("--batch-delay", type=float, default=0.2, help="classifier seconds per batch")
    parser.add_argument("--max-pause", type=float, default=1.0, help="longest random pause before a kill (s)")
    parser.add_argument("--timeout", type=float, default=360.0, help="stop killing after this long (s)")
    parser.add_argument("--seed", type=int, default=None, help="for the random pauses and choices")
    args = parser.parse_args()
    base_url = os.environ.get("OVERHEARD_TEST_POSTGRES_URL")
    if not base_url:
        raise SystemExit("set OVERHEARD_TEST_POSTGRES_URL: eval $(scripts/services.sh start)")
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("redis-server is not installed (scripts/services.sh installs it)")
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    random.seed(seed)
    concurrency = {f"w{i + 1}": size for i, size in enumerate(args.concurrency)}
    lines = mention_lines(args.mentions, "k")
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {len(lines)} mentions on {SOURCES} "
        f"replay sources; workers {concurrency} (pool processes); {args.kills} kills, every "
        f"{args.whole_every}th a whole worker; {args.batch_delay:g}s per batch; seed {seed}",
        flush=True,
    )

    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="overheard-kills-") as folder, postgres_schema(base_url, "k_") as url:
        redis_server = RedisServer(binary, Path(folder) / "redis")
        redis_server.start()
        d = KillDeployment(Path(folder), url, redis_server, args.batch_delay)
        try:
            for name, size in concurrency.items():
                d.start_worker(name, concurrency=size)
            d.start_scheduler()
            started = time.monotonic()
            kills = run_kills(d, lines, args, concurrency)
            killing_s = time.monotonic() - started
            while not d.settled():
                if time.monotonic() - kills.last_at > DRAIN_TIMEOUT_S:
                    failures.append(f"drained within {DRAIN_TIMEOUT_S:.0f}s of the last kill")
                    print(f"not drained: {d.describe()}")
                    break
                time.sleep(0.25)
            finished = time.monotonic()
            failures += report(d, kills, args, concurrency)
            print(
                f"wall time {finished - started:.1f}s (killing {killing_s:.1f}s); drained "
                f"{finished - kills.last_at:.1f}s after the last kill; load average {os.getloadavg()[0]:.1f}"
            )
        finally:
            d.stop()
            redis_server.kill()
    if failures:
        print("FAILED: " + "; ".join(failures))
        raise SystemExit(1)
    print("all invariants hold")


if __name__ == "__main__":
    main()
