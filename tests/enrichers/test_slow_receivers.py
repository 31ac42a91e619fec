"""One slow receiver holds up only itself: per-channel workers, an overall deadline per send, a breaker per
channel — against a real local HTTP server that hangs or trickles its answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from enrichers.delivery import (
    Breaker,
    Breakers,
    Channel,
    ChannelKind,
    deliver_due,
    generate_secret,
    send_once,
    sending_client,
)
from enrichers.model import Delivery, DeliveryStatus
from listener.http import guarded_transport
from tests.enrichers.conftest import InMemoryOutbox

SECRET = generate_secret()


class SlowServer(ThreadingHTTPServer):
    """/ok answers 204 at once; /hang never answers; /trickle sends its status line a byte every 0.4 s."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.arrived: dict[str, list[float]] = {"/ok": [], "/hang": [], "/trickle": []}
        self.stop = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_port}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: SlowServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.server.arrived[self.path].append(time.monotonic())
        if self.path == "/hang":
            self.server.stop.wait(30)
            return
        if self.path == "/trickle":
            for byte in b"HTTP/1.1 204 No Content\r\n\r\n":
                if self.server.stop.wait(0.4):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[SlowServer]:
    httpd = SlowServer()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()


def _channel(name: str, url: str, timeout_s: float = 1.0, deadline_s: float = 2.0) -> Channel:
    return Channel(
        name=name, kind=ChannelKind.webhook, url=url, secret=SECRET, timeout_s=timeout_s, deadline_s=deadline_s
    )


def _due(channel: str, count: int, start: datetime) -> list[Delivery]:
    return [
        Delivery(
            idempotency_key=f"msg_{channel}_{n}",
            channel=channel,
            status=DeliveryStatus.pending,
            next_attempt_at=start + timedelta(microseconds=n),
            payload={"type": "mention.routed", "n": n},
        )
        for n in range(count)
    ]


@pytest.fixture
def sending() -> Iterator[httpx.Client]:
    """The sending client deliveries use (deadline kept, SSRF guard on), letting this machine's test server through
    as `http.allow_networks: [127.0.0.1/32]` in overheard.yaml would."""
    with sending_client(guarded_transport(("127.0.0.1/32",))) as client:
        yield client


def test_a_hanging_receiver_does_not_delay_another_channels_deliveries(
    server: SlowServer, sending: httpx.Client
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    outbox = InMemoryOutbox()
    # The stuck channel's 12 deliveries are due first: one shared pool in due order would serve them first.
    for delivery in [*_due("stuck", 12, start), *_due("healthy", 6, start + timedelta(seconds=0.5))]:
        outbox.deliveries[delivery.idempotency_key] = delivery
    channels = {"stuck": _channel("stuck", server.url("/hang")), "healthy": _channel("healthy", server.url("/ok"))}

    began = time.monotonic()
    done = deliver_due(
        outbox,
        channels,
        datetime.now(UTC),
        client=sending,
        concurrency=4,
        per_channel=2,
        breakers=Breakers(2, cooldown_s=60),
    )
    took = time.monotonic() - began

    healthy = [d for d in done if d.channel == "healthy"]
    assert [d.status for d in healthy] == [DeliveryStatus.delivered] * 6
    assert len(server.arrived["/ok"]) == 6
    assert max(server.arrived["/ok"]) - began < 1.0  # within the hanging receiver's own timeout: not behind it
    stuck = [d for d in done if d.channel == "stuck"]
    tried = [d for d in stuck if d.attempts == 1]
    held = [d for d in stuck if d.attempts == 0]
    # Two in flight at once; the breaker opens at the second failure, by when a third send may have started.
    assert 2 <= len(tried) <= 3 and all("timed out" in (d.last_error or "") for d in tried)
    assert len(held) == 12 - len(tried) and all(d.status is DeliveryStatus.failed for d in held)
    assert all(d.last_error and "breaker" in d.last_error and d.next_attempt_at > start for d in held)
    assert len(server.arrived["/hang"]) == len(tried)  # the others were never sent to it
    assert took < 3.5


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_send_deadline(
    server: SlowServer, sending: httpx.Client
) -> None:
    [delivery] = _due("trickle", 1, datetime.now(UTC))

    began = time.monotonic()
    result = send_once(
        delivery,
        _channel("trickle", server.url("/trickle"), timeout_s=1.0, deadline_s=2.0),
        datetime.now(UTC),
        client=sending,
    )
    took = time.monotonic() - began

    assert not result.ok
    assert "deadline of 2s" in result.reason
    assert 1.9 < took < 3.0  # each byte came within the 1 s read timeout; the deadline ended it


def test_a_breaker_opens_after_failures_in_a_row_and_lets_one_send_try_after_its_cooldown() -> None:
    now = [0.0]
    breaker = Breaker(failures=3, cooldown_s=60, clock=lambda: now[0])
    breaker.record(False)
    breaker.record(False)
    assert breaker.allows()
    breaker.record(False)
    assert not breaker.allows() and breaker.retry_in_s() == 60

    now[0] = 61
    assert breaker.allows()  # half open: one send tries
    assert not breaker.allows()  # and only one
    breaker.record(False)
    assert not breaker.allows() and breaker.retry_in_s() == 60  # failed: open again for a whole cooldown

    now[0] = 122
    assert breaker.allows()
    breaker.record(True)
    assert breaker.allows() and breaker.allows()  # closed
