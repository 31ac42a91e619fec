"""End-to-end throughput and latency of the pipeline: in process, on 1 Celery worker and on 2, in one run.

    eval $(scripts/services.sh start)
    python benchmarks/pipeline_throughput.py [--mentions 600] [--rate 50 | --ladder 20,30,40,50,60]
                                             [--seconds 15] [--p95-limit 2]
                                             [--classifier overheard.runtime:load_classifier]
                                             [--setups 0,1,2] [--keep FOLDER]

Needs PostgreSQL (OVERHEARD_TEST_POSTGRES_URL) and redis-server. Every setup gets a fresh schema, four
replay sources, webhook channels for every team pointing at a local receiver that verifies each
signature, and the same mentions (the bundled sample with fresh ids, `collected_at` = when appended).

  burst   --mentions appear at once; mentions/s = mentions / (last delivery − first appended)
  steady  mentions appear at --rate per second for --seconds; latency of each delivery is
          delivered_at − collected_at of its mention (so it includes waiting to be polled)
  ladder  --ladder R1,R2,…: steady runs at each rate in turn on the same setup, climbing until a rung's p95
          reaches --p95-limit seconds; the highest rung under it is the rate that setup holds. The model alone
          (`classify()` in requests of 32) is timed in this process before and after, for the ratio to it.

In process: one loop sweeps every source and sends due deliveries, as `overheard run` does (stored pages
nudge its background sender; each round ends with a sending pass), without pause. Workers: `overheard worker
--concurrency 1` processes, `overheard scheduler` polling every source each 0.5 s and sending `recover` each
second. The worker processes load the classifier
once each before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402
from sqlalchemy import Engine, func, select, text  # noqa: E402

from classifiers.verdict import Classifier  # noqa: E402
from listener.mention import Mention  # noqa: E402
from overheard.config import Settings, load_config  # noqa: E402
from overheard.pipeline import BackgroundSender, Runtime, classify, deliver_due, sweep_each  # noqa: E402
from overheard.sources import build_collectors  # noqa: E402
from overheard.tasks import COLLECT, load_classifier_from, make_app  # noqa: E402
from storage.database import create_db_engine, open_database  # noqa: E402
from storage.schema import deliveries, mentions, routes  # noqa: E402
from tests.distributed.conftest import SECRET_ENV, TEAMS, RedisServer, WebhookReceiver, sample_lines  # noqa: E402

SOURCES = 4


@dataclass
class Figures:
    mentions_per_s: float
    p50_s: float
    p95_s: float
    delivered: int


class Setup:
    """A fresh schema, replay files, receiver and config for one measured run."""

    def __init__(self, base_url: str, folder: Path) -> None:
        from enrichers.delivery import generate_secret

        self.folder = folder
        folder.mkdir(parents=True)
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        self.admin: Engine | None = None
        if base_url == "sqlite":  # a database file of its own in the setup's folder
            self.url = f"sqlite:///{folder / 'overheard.db'}"
        else:
            self.admin = create_db_engine(base_url)
            with self.admin.begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {self.schema}"))
            self.url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{self.schema}"
        self.engine: Engine = open_database(self.url)
        self.secret = generate_secret()
        os.environ[SECRET_ENV] = self.secret
        self.receiver = WebhookReceiver(self.secret)
        self.files = [folder / f"s{i}.jsonl" for i in range(SOURCES)]
        for path in self.files:
            path.write_text("")
        demo = yaml.safe_load((REPO / "overheard" / "samples" / "demo.yaml").read_text())
        channel = {"kind": "webhook", "url": self.receiver.url, "secret_env": SECRET_ENV}
        self.config = folder / "overheard.yaml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "brands": demo["brands"],
                    "competitors": demo["competitors"],
                    "sources": [
                        {"kind": "replay", "name": p.stem, "path": str(p), "poll_every": "500ms"} for p in self.files
                    ],
                    "channels": dict.fromkeys(TEAMS, channel),
                    # the receiver is on this machine: the SSRF guard of every sender (workers too) lets it through
                    "http": {"allow_networks": ["127.0.0.1/32"]},
                }
            )
        )
        self.appended = 0

    def append(self, lines: list[str]) -> None:
        """Mentions appear now: spread over the sources, stamped collected now."""
        now = datetime.now(UTC)
        by_file: list[list[str]] = [[] for _ in self.files]
        for i, line in enumerate(lines):
            mention = Mention.model_validate_json(line).model_copy(update={"collected_at": now})
            by_file[(self.appended + i) % SOURCES].append(mention.model_dump_json() + "\n")
        for path, chunk in zip(self.files, by_file, strict=True):
            with path.open("a", encoding="utf-8") as file:
                file.writelines(chunk)
        self.appended += len(lines)

    def done(self) -> bool:
        with self.engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(mentions)).scalar_one()
            waiting = connection.execute(
                select(func.count()).select_from(deliveries).where(deliveries.c.status != "delivered")
            ).scalar_one()
        return stored >= self.appended and waiting == 0

    def figures(self, started: float, count: int) -> Figures:
        """mentions/s from the first append to the last delivery; latency per delivery."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(deliveries.c.delivered_at, mentions.c.collected_at)
                .join(routes, routes.c.id == deliveries.c.route_id)
                .join(mentions, mentions.c.id == routes.c.mention_id)
            ).all()
        latencies = sorted((r.delivered_at - r.collected_at).total_seconds() for r in rows)
        last = max(r.delivered_at for r in rows).timestamp()
        return Figures(
            mentions_per_s=count / max(last - started, 1e-9),
            p50_s=statistics.median(latencies),
            p95_s=latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
            delivered=len(rows),
        )

    def close(self) -> None:
        self.receiver.close()
        self.engine.dispose()
        if self.admin is not None:
            with self.admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
            self.admin.dispose()


def mention_lines(count: int, tag: str) -> list[str]:
    """`count` mentions from the sample, each with an id of its own."""
    base = [Mention.model_validate_json(line) for line in sample_lines()]
    return [
        base[i % len(base)]
        .model_copy(update={"external_id": f"{base[i % len(base)].external_id}-{tag}{i}"})
        .model_dump_json()
        for i in range(count)
    ]


def wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {timeout_s:.0f}s")
        time.sleep(0.1)


def feed(setup: Setup, lines: list[str], rate: float) -> threading.Thread:
    """Append `lines` at `rate` per second, in tenths of a second."""

    def run() -> None:
        step = max(1, round(rate / 10))
        start = time.monotonic()
        for i in range(0, len(lines), step):
            setup.append(lines[i : i + step])
            time.sleep(max(0.0, start + (i + step) / rate - time.monotonic()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# ---- in process ------------------------------------------------------------------------------------------


@dataclass
class Rung:
    """One steady run of a ladder."""

    rate: float
    """Mentions appended per second."""
    figures: Figures


def climb(setup: Setup, rates: list[float], seconds: float, p95_limit: float, name: str) -> list[Rung]:
    """Steady runs at each of `rates` in turn, each measuring only its own deliveries; stops after the first rung
    whose p95 reaches `p95_limit` (a higher rate would only queue more)."""
    rungs: list[Rung] = []
    for rate in rates:
        with setup.engine.begin() as connection:
            connection.execute(deliveries.delete())
        lines = mention_lines(int(rate * seconds), f"s{rate:g}-")
        started = time.time()
        feeder = feed(setup, lines, rate)
        wait(lambda f=feeder: not f.is_alive() and setup.done(), 900, f"the steady run at {rate:g}/s ({name})")
        rungs.append(Rung(rate, setup.figures(started, len(lines))))
        if rungs[-1].figures.p95_s >= p95_limit:
            break
    return rungs


def in_process(
    setup: Setup, classifier_path: str, burst: list[str], rates: list[float], seconds: float, p95_limit: float
) -> tuple[Figures, list[Rung]]:
    config = load_config(setup.config)
    runtime = Runtime.build(config, setup.engine, load_classifier_from(classifier_path))
    collectors = build_collectors(config)
    stop = threading.Event()

    def loop() -> None:  # as `overheard run`: stored pages nudge the background sender; each round ends with a pass
        with BackgroundSender(runtime) as sender:  # through the guarded sending client, as `run` sends
            while not stop.is_set():
                sweep_each(runtime, collectors, lambda _collector, _batch: sender.nudge())
                deliver_due(runtime)

    setup.append(burst)
    started = time.time()
    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    wait(setup.done, 900, "the in-process burst")
    burst_figures = setup.figures(started, len(burst))
    rungs = climb(setup, rates, seconds, p95_limit, "in process")
    stop.set()
    worker.join()
    return burst_figures, rungs


# ---- workers ---------------------------------------------------------------------------------------------


def on_workers(
    setup: Setup,
    workers: int,
    classifier_path: str,
    burst: list[str],
    rates: list[float],
    seconds: float,
    p95_limit: float,
) -> tuple[Figures, list[Rung]]:
    redis_server = RedisServer(_redis_binary(), setup.folder / "redis")
    redis_server.start()
    env = {
        **os.environ,
        "OVERHEARD_REDIS_URL": redis_server.url,
        "OVERHEARD_DATABASE_URL": setup.url,
        "OVERHEARD_CONFIG": str(setup.config),
        "OVERHEARD_CLASSIFIER": classifier_path,
        "OVERHEARD_RECOVER_EVERY_S": "1",
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs = [setup.folder / f"w{i}.log" for i in range(workers)]

    def start(name: str, *arguments: str, log: Path) -> None:
        command = [sys.executable, "-m", "overheard", "-v", *arguments, "--config", str(setup.config)]
        processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT))

    try:
        for i, log in enumerate(logs):
            start(f"w{i}", "worker", "--concurrency", "1", "--name", f"w{i}@bench", log=log)
        ready = lambda: sum(log.read_text(errors="replace").count("runtime.ready") for log in logs) >= workers  # noqa: E731
        wait(ready, 300, "the workers to load the classifier")
        start("scheduler", "scheduler", "--state", str(setup.folder / "beat"), log=setup.folder / "scheduler.log")
        app = make_app(Settings(redis_url=redis_server.url))
        time.sleep(2)  # the scheduler is up and polling
        setup.append(burst)
        started = time.time()
        for path in setup.files:
            app.send_task(COLLECT, args=[path.stem])
        wait(setup.done, 900, f"the burst on {workers} worker(s)")
        burst_figures = setup.figures(started, len(burst))
        return burst_figures, climb(setup, rates, seconds, p95_limit, f"{workers} worker(s)")
    finally:
        for process in processes:
            process.terminate()  # a warm shutdown: what a deployment does on restart
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_server.kill()


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("redis-server is not installed (scripts/services.sh installs it)")
    return found


def model_alone(classifier_path: str, count: int = 256) -> float:
    """mentions/s of `classify()` alone in this process, in requests of 32 (the model's own speed on this host now)."""
    if classifier_path not in _MODEL:
        _MODEL[classifier_path] = load_classifier_from(classifier_path)
        classify(_MODEL[classifier_path], [Mention.model_validate_json(x) for x in mention_lines(64, "warm")])
    texts = [Mention.model_validate_json(line) for line in mention_lines(count, "alone")]
    started = time.perf_counter()
    classify(_MODEL[classifier_path], texts, 32)
    return count / (time.perf_counter() - started)


_MODEL: dict[str, Classifier] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=600, help="mentions in the burst run")
    parser.add_argument("--rate", type=float, default=50.0, help="mentions per second in the steady run")
    parser.add_argument("--ladder", help="comma-separated steady rates to climb instead of --rate, e.g. 20,30,40,50")
    parser.add_argument("--p95-limit", type=float, default=2.0, help="a ladder stops at the first rung with this p95")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each steady run")
    parser.add_argument("--classifier", default="overheard.runtime:load_classifier", help="'module:function'")
    parser.add_argument(
        "--setups", default="0,1,2", help="comma-separated worker counts to run; 0 is in process (default 0,1,2)"
    )
    parser.add_argument("--keep", type=Path, help="copy each setup's worker and scheduler logs into this folder")
    args = parser.parse_args()
    base_url = os.environ.get("OVERHEARD_TEST_POSTGRES_URL")
    if not base_url:
        raise SystemExit("set OVERHEARD_TEST_POSTGRES_URL: eval $(scripts/services.sh start)")
    rates = [float(r) for r in args.ladder.split(",")] if args.ladder else [args.rate]
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; classifier {args.classifier}; "
        f"burst {args.mentions} mentions; steady {', '.join(f'{r:g}' for r in rates)}/s for {args.seconds:g}s each",
        flush=True,
    )
    alone = [model_alone(args.classifier)] if args.ladder else []
    if alone:
        print(f"model alone: {alone[0]:.1f} mentions/s", flush=True)
    results: dict[str, tuple[Figures, list[Rung]]] = {}
    with tempfile.TemporaryDirectory(prefix="overheard-bench-") as folder:
        for workers in (int(n) for n in args.setups.split(",")):
            name = {0: "in process", 1: "1 worker"}.get(workers, f"{workers} workers")
            setup = Setup(base_url, Path(folder) / name.replace(" ", "-"))
            burst = mention_lines(args.mentions, "b")
            try:
                if workers == 0:
                    results[name] = in_process(setup, args.classifier, burst, rates, args.seconds, args.p95_limit)
                else:
                    results[name] = on_workers(
                        setup, workers, args.classifier, burst, rates, args.seconds, args.p95_limit
                    )
            finally:
                if args.keep:
                    shutil.copytree(setup.folder, args.keep / setup.folder.name, dirs_exist_ok=True)
                setup.close()
            b, rungs = results[name]
            steady = " | ".join(
                f"steady {r.rate:g}/s: p50 {r.figures.p50_s:6.2f}s, p95 {r.figures.p95_s:6.2f}s" for r in rungs
            )
            print(
                f"{name:<11} burst {b.mentions_per_s:7.1f} mentions/s (p50 {b.p50_s:6.2f}s, p95 {b.p95_s:6.2f}s, "
                f"{b.delivered} deliveries) | {steady}",
                flush=True,
            )
            if args.ladder:
                held = [r for r in rungs if r.figures.p95_s < args.p95_limit]
                print(
                    f"{name:<11} holds "
                    + (f"{held[-1].rate:g} mentions/s with p95 {held[-1].figures.p95_s:.2f}s" if held else "no rung")
                    + f" (p95 limit {args.p95_limit:g}s)",
                    flush=True,
                )
    if args.ladder:
        alone.append(model_alone(args.classifier))
        print(f"model alone after: {alone[-1]:.1f} mentions/s")
    rates_by = {name: burst.mentions_per_s for name, (burst, _) in results.items()}
    if "in process" in rates_by and "1 worker" in rates_by:
        print(f"ratio: 1 worker / in process = {rates_by['1 worker'] / rates_by['in process']:.2f}")
    if "1 worker" in rates_by and "2 workers" in rates_by:
        print(f"ratio: 2 workers / 1 worker = {rates_by['2 workers'] / rates_by['1 worker']:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
