"""Deliveries leave the outbox signed, reach a real local receiver once, and retry when it fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from classifiers.verdict import Classifier
from enrichers.delivery import generate_secret, verify
from listener.replay import ReplayCollector
from overheard.config import parse_config
from overheard.demo import SAMPLES
from overheard.pipeline import Runtime, deliver_due, sweep
from storage.schema import deliveries

SECRET = generate_secret()


class Receiver(ThreadingHTTPServer):
    """Accepts Standard Webhooks posts, verifies each signature, answers with `status`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 204
        self.received: list[str] = []
        self.bad_signatures = 0


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            verify(SECRET, dict(self.headers.items()), body, datetime.now(UTC))
        except ValueError:
            self.server.bad_signatures += 1
        if self.server.status < 300:
            self.server.received.append(self.headers["webhook-id"])
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _runtime(engine: Engine, classifier: Classifier, url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    config = parse_config(
        f"""
brands: [{{name: Lumora, query: Lumora}}]
http: {{allow_networks: ["127.0.0.1/32"]}}  # the receiver is on this machine: the SSRF guard lets it through
channels:
  hook: {{kind: webhook, url: "{url}", secret_env: TEST_HOOK_SECRET}}
routing:
  rules:
    - {{name: everything, team: customer_service, channel: hook}}
"""
    )
    return Runtime.build(config, engine, classifier)


def _sample(tmp_path: Path, lines: int = 15) -> Path:
    path = tmp_path / "sample.jsonl"
    path.write_text("".join((SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines(True)[:lines]))
    return path


def test_every_route_is_delivered_once_signed_and_never_again(
    sqlite_url: str, classifier: Classifier, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.database import open_database

    engine = open_database(sqlite_url)
    runtime = _runtime(engine, classifier, f"http://127.0.0.1:{receiver.server_port}/hook", monkeypatch)
    report = sweep(runtime, ReplayCollector(_sample(tmp_path), name="s"))
    first = deliver_due(runtime)
    second = deliver_due(runtime)
    assert report.stored == 15 and report.flagged == {"spam": 1}  # "Earn $500/day … DM me": held back from every rule
    assert first.delivered == report.stored - 1 == 14
    assert second.delivered == 0
    assert len(receiver.received) == len(set(receiver.received)) == 14
    assert receiver.bad_signatures == 0


def test_a_failing_receiver_leaves_the_delivery_for_a_later_retry(
    sqlite_url: str, classifier: Classifier, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.database import open_database

    engine = open_database(sqlite_url)
    receiver.status = 503
    runtime = _runtime(engine, classifier, f"http://127.0.0.1:{receiver.server_port}/hook", monkeypatch)
    sweep(runtime, ReplayCollector(_sample(tmp_path, 3), name="s"))
    report = deliver_due(runtime)
    with engine.connect() as c:
        rows = c.execute(
            select(deliveries.c.status, deliveries.c.attempts, deliveries.c.next_attempt_at, deliveries.c.last_error)
        ).all()
    assert report.failed == 3
    assert {r.status for r in rows} == {"failed"}
    assert all(r.attempts == 1 and r.next_attempt_at is not None and "503" in r.last_error for r in rows)
    assert deliver_due(runtime).failed == 0  # not due again until the backoff has passed


def test_a_channel_whose_secret_is_missing_keeps_its_deliveries_pending(
    sqlite_url: str, classifier: Classifier, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.database import open_database

    engine = open_database(sqlite_url)
    runtime = _runtime(engine, classifier, f"http://127.0.0.1:{receiver.server_port}/hook", monkeypatch)
    monkeypatch.delenv("TEST_HOOK_SECRET")
    sweep(runtime, ReplayCollector(_sample(tmp_path, 2), name="s"))
    deliver_due(runtime)
    with engine.connect() as c:
        rows = c.execute(select(deliveries.c.status, deliveries.c.last_error)).all()
    assert receiver.received == []
    assert all(r.status == "failed" and "not configured" in r.last_error for r in rows)
