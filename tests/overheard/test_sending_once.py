"""Deliveries go out once: any number of `overheard collect` processes on one database, one sweep and one
claim per delivery; one pass sends everything due, however many."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from enrichers.delivery import generate_secret
from listener.replay import ReplayCollector
from overheard.config import parse_config
from overheard.demo import SAMPLES
from overheard.pipeline import BackgroundSender, Runtime, deliver_due, sweep
from storage.database import open_database
from storage.schema import deliveries
from tests.distributed.keyword_classifier import KeywordClassifier

SECRET = generate_secret()
ROOT = Path(__file__).resolve().parents[2]


class Receiver(ThreadingHTTPServer):
    """Counts each webhook-id it is sent, taking `delay_s` to answer each."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay_s = delay_s
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        time.sleep(self.server.delay_s)
        with self.server.lock:
            self.server.received[self.headers["webhook-id"]] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _config_text(url: str, sample: Path) -> str:
    return f"""
brands: [{{name: Lumora, query: Lumora}}]
channels:
  hook: {{kind: webhook, url: "{url}", secret_env: TEST_HOOK_SECRET}}
routing:
  rules:
    - {{name: everything, team: customer_service, channel: hook}}
delivery: {{concurrency: 1}}
http: {{allow_networks: ["127.0.0.1/32"]}}  # the receiver is on this machine: the SSRF guard lets it through
sources:
  - {{kind: replay, name: sample, path: "{sample}"}}
"""


def _sample(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "sample.jsonl"
    path.write_text("".join((SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines(True)[:lines]))
    return path


def _statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as c:
        return Counter(c.execute(select(deliveries.c.status)).scalars())


def test_two_collect_processes_on_one_database_send_each_delivery_once(
    database_url: str, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    sample = _sample(tmp_path, 30)
    config_file = tmp_path / "overheard.yaml"
    config_file.write_text(_config_text(receiver.url, sample))
    engine = open_database(database_url)  # migrated once, before the two processes race for it
    # The mentions are stored and routed first (another source's sweep, say): both processes find the same due
    # deliveries, the moment two unclaimed senders would each send all of them.
    sweep(Runtime.build(parse_config(config_file.read_text()), engine, KeywordClassifier()), ReplayCollector(sample))
    due = _statuses(engine)["pending"]
    assert due >= 20
    receiver.delay_s = 0.15  # each pass takes seconds, so the two processes send at the same time
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "PYTHONPATH": str(ROOT),
        "OVERHEARD_CLASSIFIER": "tests.distributed.keyword_classifier:load",
        "OVERHEARD_DATABASE_URL": database_url,
        "TEST_HOOK_SECRET": SECRET,
    }
    command = [sys.executable, "-m", "overheard", "collect", "--config", str(config_file)]
    processes = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    with engine.connect() as c:
        keys = set(c.execute(select(deliveries.c.idempotency_key)).scalars())  # with any spike alert's routes
    assert set(receiver.received) == keys and len(keys) >= due
    assert receiver.received.most_common(1)[0][1] == 1, receiver.received.most_common(3)
    assert _statuses(engine) == {"delivered": len(keys)}
    sent = [int(out.split(" delivered")[0].rsplit(" ", 1)[1]) for out, _ in outputs]
    assert sum(sent) == len(keys), outputs  # between them, once each


def test_one_pass_sends_every_due_delivery_beyond_one_batch(
    database_url: str, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    sample = _sample(tmp_path, 12)
    engine = open_database(database_url)
    runtime = Runtime.build(parse_config(_config_text(receiver.url, sample)), engine, KeywordClassifier())
    stored = sweep(runtime, ReplayCollector(sample))
    assert stored.flagged == {"spam": 1}  # the sample's "Earn $500/day … DM me" post reaches no queue

    report = deliver_due(runtime, limit=5)  # 11 due, claimed 5 at a time

    assert report.delivered == 11 and sum(receiver.received.values()) == 11
    assert _statuses(engine) == {"delivered": 11}


def test_a_background_sender_sends_each_stored_pages_deliveries_once_beside_the_rounds_own_pass(
    database_url: str, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`overheard run`'s sender: pages nudge it while the collecting thread goes on; the round's own pass and the
    sender never send one delivery twice."""
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    sample = _sample(tmp_path, 20)
    engine = open_database(database_url)
    runtime = Runtime.build(parse_config(_config_text(receiver.url, sample)), engine, KeywordClassifier())
    receiver.delay_s = 0.02
    with BackgroundSender(runtime) as sender:
        sweep(runtime, ReplayCollector(sample), sender.nudge)
        created = sum(_statuses(engine).values())
        assert created == 19  # one per routed post: one of the first 20 sample posts is spam, held back
        deadline = time.monotonic() + 60
        while sum(receiver.received.values()) < created and time.monotonic() < deadline:
            time.sleep(0.05)  # nothing but the sender sends: the nudge alone gets them out
        assert sum(receiver.received.values()) == created
        after = deliver_due(runtime)  # the round's own pass finds nothing left
    assert after.delivered == 0 and sender.report.delivered == created and sender.failures == []
    assert receiver.received.most_common(1)[0][1] == 1
    assert _statuses(engine) == {"delivered": created}


def test_what_a_background_sender_could_not_send_goes_out_on_its_last_pass(
    database_url: str, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = _sample(tmp_path, 5)
    engine = open_database(database_url)
    runtime = Runtime.build(parse_config(_config_text(receiver.url, sample)), engine, KeywordClassifier())
    sweep(runtime, ReplayCollector(sample))
    monkeypatch.delenv("TEST_HOOK_SECRET", raising=False)  # the channel cannot sign: left out, retried later
    sender = BackgroundSender(runtime)
    sender.nudge()
    time.sleep(0.5)
    assert sum(receiver.received.values()) == 0
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    with engine.begin() as connection:  # due again now rather than after the backoff
        connection.execute(deliveries.update().values(next_attempt_at=None, status="pending"))
    report = sender.close()  # the last pass sends them
    assert report.delivered == 5 and sum(receiver.received.values()) == 5


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # keeps the connection open for the next request, as most receivers do

    def end_headers(self) -> None:
        self.send_header("Content-Length", "0")
        super().end_headers()


class KeepAliveReceiver(Receiver):
    """A `Receiver` that keeps connections alive and counts the connections it was opened."""

    def __init__(self) -> None:
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), _KeepAliveHandler)
        self.delay_s = 0.0
        self.received = Counter()
        self.lock = threading.Lock()
        self.connections = 0

    def finish_request(self, request: object, client_address: object) -> None:
        with self.lock:
            self.connections += 1
        super().finish_request(request, client_address)  # type: ignore[arg-type]


def test_a_background_sender_keeps_its_connection_to_a_receiver_from_one_pass_to_the_next(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    receiver = KeepAliveReceiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    lines = (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines(True)[:10]
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(lines[:5]))
    engine = open_database(database_url)
    runtime = Runtime.build(parse_config(_config_text(receiver.url, sample)), engine, KeywordClassifier())

    def delivered(count: int) -> None:
        deadline = time.monotonic() + 60
        while sum(receiver.received.values()) < count and time.monotonic() < deadline:
            time.sleep(0.02)

    try:
        with BackgroundSender(runtime) as sender:
            sweep(runtime, ReplayCollector(sample), sender.nudge)
            first = sum(_statuses(engine).values())
            delivered(first)
            sample.write_text("".join(lines))  # five more posts: the next page, the next pass
            sweep(runtime, ReplayCollector(sample), sender.nudge)
            total = sum(_statuses(engine).values())
            delivered(total)
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert 0 < first < total and sum(receiver.received.values()) == total
    assert receiver.connections == 1  # delivery.concurrency is 1: one connection, kept across both passes
