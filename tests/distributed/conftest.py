"""Real parts for the distributed runtime: redis-server processes, `overheard worker` and `overheard
scheduler` subprocesses, PostgreSQL, and a local receiver that checks Standard Webhooks signatures."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from celery import Celery
from sqlalchemy import Engine, func, select

from enrichers.delivery import WebhookVerificationError, generate_secret, verify
from listener.mention import Mention
from overheard.config import Settings
from overheard.tasks import make_app, submit_page
from storage.database import open_database
from storage.schema import cursors, deliveries, mentions, task_runs
from tests.conftest import ROOT, SAMPLES

SECRET_ENV = "OVERHEARD_TEST_WEBHOOK_SECRET"
TEAMS = ("customer_service", "sales", "marketing", "product", "communications")
# The documented deployment's durability settings (docs/scaling.md), passed as flags.
DURABLE_REDIS = ("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction")
# Short timings so crashes recover within seconds; each keeps the order Settings checks.
FAST_RECOVERY = {
    "OVERHEARD_TASK_TIME_LIMIT_S": "8",
    "OVERHEARD_VISIBILITY_TIMEOUT_S": "10",
    "OVERHEARD_STUCK_AFTER_S": "12",
    "OVERHEARD_RETRY_BASE_S": "0.3",
    "OVERHEARD_RETRY_MAX_S": "2",
    "OVERHEARD_RECOVER_EVERY_S": "1",
    "OVERHEARD_PENDING_TTL_S": "5",
    "OVERHEARD_SOFT_SHUTDOWN_S": "2",
    "OVERHEARD_TASK_MAX_ATTEMPTS": "5",
    "OVERHEARD_CLASSIFIER": "tests.distributed.keyword_classifier:load",
    "OVERHEARD_TEST_CLASSIFY_DELAY_S": "0.2",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    """redis-server on PATH; under CI (OVERHEARD_REQUIRE_POSTGRES=1) its absence fails the test."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.environ.get("OVERHEARD_REQUIRE_POSTGRES") == "1":
        pytest.fail("redis-server is not installed; run the suite with `make test` (scripts/services.sh installs it)")
    pytest.skip("redis-server is not installed (make test installs it)")


class RedisServer:
    """One redis-server on a free 127.0.0.1 port, keeping its append-only file in `folder`."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += [*DURABLE_REDIS, "--save", "", "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no chance to write anything more than it already has."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that verifies each request's signature and records its webhook-id."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[str] = []  # webhook-id of every verified request, retries included
        self.refused: list[str] = []  # why a request failed verification
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver: a sender reuses its connections

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    verify(receiver.secret, dict(self.headers.items()), body, datetime.now(UTC))
                    json.loads(body)
                except (WebhookVerificationError, ValueError) as error:
                    with receiver._lock:
                        receiver.refused.append(str(error))
                    self.send_response(401)
                else:
                    with receiver._lock:
                        receiver.received.append(self.headers["webhook-id"])
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def distinct(self) -> set[str]:
        with self._lock:
            return set(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sample_lines() -> list[str]:
    """The valid lines of the bundled sample (the malformed two are for the quarantine demo)."""
    lines = []
    for line in (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            Mention.model_validate_json(line)
        except ValueError:
            continue
        lines.append(line)
    return lines


def children(pid: int) -> list[int]:
    """Every live descendant of `pid` (a worker's pool processes), from /proc.

    Each thread has its own list: the pool replaces a killed process from a helper thread.
    """
    found: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            direct = listing.read_text().split()
        except OSError:
            continue
        for child in map(int, direct):
            if _alive(child):
                found += [child, *children(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a killed process not yet reaped is no longer working


class Deployment:
    """A whole distributed Overheard: config, replay sources, Redis, workers, scheduler, receiver."""

    def __init__(self, folder: Path, database_url: str, redis_server: RedisServer, sources: int) -> None:
        self.folder, self.database_url, self.redis = folder, database_url, redis_server
        self.secret = generate_secret()
        self.receiver = WebhookReceiver(self.secret)
        self.engine: Engine = open_database(database_url)
        self.sources = {f"s{i}": folder / f"s{i}.jsonl" for i in range(sources)}
        self.lines_in: dict[str, int] = dict.fromkeys(self.sources, 0)
        self.expected: set[tuple[str, str]] = set()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.extra_env: dict[str, str] = {}  # per-test settings on top of FAST_RECOVERY
        self.killed: list[int] = []
        for path in self.sources.values():
            path.write_text("")
        self.config = folder / "overheard.yaml"
        self.config.write_text(yaml.safe_dump(self._config()))

    def _config(self) -> dict[str, Any]:
        demo = yaml.safe_load((SAMPLES / "demo.yaml").read_text())
        channel = {"kind": "webhook", "url": self.receiver.url, "secret_env": SECRET_ENV}
        return {
            "brands": demo["brands"],
            "competitors": demo["competitors"],
            "sources": [
                {"kind": "replay", "name": name, "path": str(path), "poll_every": "1s"}
                for name, path in self.sources.items()
            ],
            "channels": dict.fromkeys(TEAMS, channel),
            "http": {"allow_networks": ["127.0.0.1/32"]},  # the receiver is on this machine (SSRF guard)
        }

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **FAST_RECOVERY,
            **self.extra_env,
            "OVERHEARD_REDIS_URL": self.redis.url,
            "OVERHEARD_DATABASE_URL": self.database_url,
            "OVERHEARD_CONFIG": str(self.config),
            SECRET_ENV: self.secret,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",  # a SIGKILLed worker's log keeps what it said
        }

    # ---- processes -----------------------------------------------------------------------------------

    def _start(self, name: str, *arguments: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        command = [sys.executable, "-m", "overheard", *arguments, "--config", str(self.config)]
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.processes[name] = process
        return process

    def start_worker(self, name: str, concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self._start(name, "worker", "--concurrency", str(concurrency), "--name", f"{name}@test")

    def start_scheduler(self) -> subprocess.Popen[bytes]:
        return self._start("scheduler", "scheduler", "--state", str(self.folder / "beat-schedule"))

    def kill_process_group(self, name: str) -> None:
        """SIGKILL a whole worker: its main process and every pool process at once."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def worker_processes(self) -> set[int]:
        pids: set[int] = set()
        for name, process in self.processes.items():
            if name != "scheduler" and process.poll() is None:
                pids |= {process.pid, *children(process.pid)}
        return pids

    def kill_a_running_attempt(self, max_attempts: int = 3) -> dict[str, Any] | None:
        """SIGKILL the pool process running some task right now; returns the run it was working on."""
        ours = self.worker_processes()
        with self.engine.connect() as connection:
            running = connection.execute(
                select(task_runs.c.id, task_runs.c.task, task_runs.c.worker, task_runs.c.attempts).where(
                    task_runs.c.status == "running", task_runs.c.attempts < max_attempts
                )
            ).all()
        for run in random.sample(running, len(running)):  # any step may be the one cut off
            pid = int(run.worker.rsplit(":", 1)[1])
            if pid in ours and pid not in self.killed:
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
                return dict(run._mapping)
        return None

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.processes.clear()
        self.receiver.close()
        self.engine.dispose()

    # ---- work ----------------------------------------------------------------------------------------

    @cached_property
    def app(self) -> Celery:
        """A client of the same broker, for sending tasks the way the scheduler and the API do."""
        return make_app(Settings(redis_url=self.redis.url))

    def send(self, task: str, subject: str) -> None:
        self.app.send_task(task, args=[subject])

    def submit_page(self, lines: list[str]) -> str:
        """A pushed page (a stream, an import): kept in the database first, then queued."""
        self.expect(lines)
        return submit_page(self.app, self.engine, [Mention.model_validate_json(line) for line in lines])

    def append(self, source: str, lines: list[str]) -> None:
        """New posts appear on a source (its replay file grows)."""
        with self.sources[source].open("a", encoding="utf-8") as file:
            file.writelines(line + "\n" for line in lines)
        self.lines_in[source] += len(lines)
        self.expected |= {Mention.model_validate_json(line).key for line in lines}

    def expect(self, lines: list[str]) -> None:
        self.expected |= {Mention.model_validate_json(line).key for line in lines}

    # ---- what the database says -----------------------------------------------------------------------

    def stored_keys(self) -> list[tuple[str, str]]:
        with self.engine.connect() as connection:
            return [
                (r.source, r.external_id) for r in connection.execute(select(mentions.c.source, mentions.c.external_id))
            ]

    def cursor_positions(self) -> dict[str, str | None]:
        """The replay collectors' cursors (the alerts' per-brand watermarks live in the same table)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(cursors.c.name, cursors.c.position).where(cursors.c.name.like("replay:%"))
            ).all()
        return {r.name.removeprefix("replay:"): r.position for r in rows}

    def deliveries(self) -> dict[str, str]:
        """idempotency key → status, of every delivery in the outbox."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(deliveries.c.idempotency_key, deliveries.c.status)).all()
        return {r.idempotency_key: r.status for r in rows}

    def runs(self) -> list[Any]:
        with self.engine.connect() as connection:
            return connection.execute(select(task_runs)).all()

    def count_runs(self, status: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(task_runs).where(task_runs.c.status == status)
            ).scalar_one()

    def settled(self) -> bool:
        """Every line stored, every cursor at the end of its file, every page stored, every route delivered."""
        positions = self.cursor_positions()
        stored = set(self.stored_keys())
        outbox = self.deliveries()
        return (
            stored >= self.expected
            and all(positions.get(name) == str(n) for name, n in self.lines_in.items() if n)
            and all(run.status in ("done", "dead") for run in self.runs() if run.task == "overheard.process_page")
            and bool(outbox)
            and all(status == "delivered" for status in outbox.values())
            and self.receiver.distinct() >= set(outbox)
        )

    def wait_until_settled(self, timeout_s: float) -> float:
        started = time.monotonic()
        while not self.settled():
            if time.monotonic() - started > timeout_s:
                raise AssertionError(f"not settled after {timeout_s:.0f}s: {self.describe()}")
            time.sleep(0.5)
        return time.monotonic() - started

    def describe(self) -> str:
        stored = set(self.stored_keys())
        outbox = self.deliveries()
        statuses = [(r.task, r.status, r.attempts, r.last_error) for r in self.runs() if r.status != "done"]
        return (
            f"{len(self.expected - stored)} mentions missing; cursors {self.cursor_positions()} vs lines {self.lines_in}; "
            f"deliveries {len(outbox)} ({sum(s != 'delivered' for s in outbox.values())} not delivered, "
            f"{len(set(outbox) - self.receiver.distinct())} not received); unfinished runs {statuses[:10]}"
        )


@pytest.fixture
def deployment(
    tmp_path: Path, fresh_postgres_url: str, redis_server_binary: str
) -> Iterator[Callable[[int], Deployment]]:
    """Builds a Deployment with its own Redis (started) and PostgreSQL schema; stops everything after."""
    made: list[Deployment] = []
    servers: list[RedisServer] = []

    def build(sources: int) -> Deployment:
        server = RedisServer(redis_server_binary, tmp_path / "redis")
        server.start()
        servers.append(server)
        made.append(Deployment(tmp_path, fresh_postgres_url, server, sources))
        return made[-1]

    yield build
    for deployment in made:
        deployment.stop()
    for server in servers:
        if server.process and server.process.poll() is None:
            server.kill()


@pytest.fixture
def redis_server(tmp_path: Path, redis_server_binary: str) -> Iterator[RedisServer]:
    """One real redis-server, started with the documented durability settings; killed after the test."""
    server = RedisServer(redis_server_binary, tmp_path / "redis-alone")
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.kill()
