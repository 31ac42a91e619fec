"""Workers share each host's pacing through Redis: the interval and a host's rate-limit reset hold fleet-wide.

Real parts: a redis-server and a local HTTP server that records when each request arrived. Each simulated
worker is a thread with its own `Http` client and its own `RedisPacer` (its own Redis connection), so all
they share is what a fleet of processes on several machines would share: the broker.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
import yaml

from listener.http import Http, LocalPacer, RateLimited
from overheard.pacing import RedisPacer
from tests.distributed.conftest import Deployment, RedisServer

pytestmark = [pytest.mark.redis]

INTERVAL = 0.25
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><link>http://example.org</link>
<item><title>Lumora support is great</title><link>http://example.org/1</link><guid>1</guid>
<description>Lumora support answered in minutes.</description><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""


class Platform:
    """127.0.0.1 on a free port; `/spent` answers like X when the budget is used up for about two seconds."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, float]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                platform.arrivals.append((self.path, time.monotonic()))
                body = FEED.encode() if self.path.startswith("/feed") else b"{}"
                self.send_response(200)
                if self.path == "/spent":
                    self.send_header("x-rate-limit-remaining", "0")
                    self.send_header("x-rate-limit-reset", str(int(time.time()) + 2))
                self.send_header("Content-Type", "application/rss+xml" if body != b"{}" else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def gaps(self) -> list[float]:
        times = sorted(t for _, t in self.arrivals)
        return [b - a for a, b in itertools.pairwise(times)]


@pytest.fixture
def platform() -> Iterator[Platform]:
    served = Platform()
    yield served
    served.server.shutdown()


def worker_client(redis_server: RedisServer | None, max_wait_s: float = 10) -> Http:
    pacer = RedisPacer(redis_server.client(), "overheard") if redis_server else LocalPacer()
    return Http(allow_networks=("127.0.0.1/32",), min_interval_s=INTERVAL, max_wait_s=max_wait_s, pacer=pacer)


def run_side_by_side(clients: list[Http], url: str, requests_each: int) -> None:
    start = threading.Barrier(len(clients))

    def work(client: Http) -> None:
        start.wait()
        for _ in range(requests_each):
            client.get(url)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def test_two_workers_calling_one_host_keep_the_interval_between_all_their_requests(
    redis_server: RedisServer, platform: Platform
) -> None:
    run_side_by_side([worker_client(redis_server), worker_client(redis_server)], f"{platform.url}/search", 5)
    assert len(platform.arrivals) == 10
    assert min(platform.gaps()) >= INTERVAL * 0.8, f"gaps between requests: {platform.gaps()}"


def test_without_a_shared_pacer_two_workers_call_the_host_at_once(platform: Platform) -> None:
    """The control: each process pacing only itself lets the fleet double the rate on one host."""
    run_side_by_side([worker_client(None), worker_client(None)], f"{platform.url}/search", 5)
    assert len(platform.arrivals) == 10
    assert min(platform.gaps()) < INTERVAL * 0.5


def test_a_reset_one_worker_is_told_about_holds_the_other_back(redis_server: RedisServer, platform: Platform) -> None:
    first, second = worker_client(redis_server), worker_client(redis_server)
    first.get(f"{platform.url}/spent")  # no requests remain until the reset, about two seconds away
    second.get(f"{platform.url}/search")
    (_, told), (_, next_call) = platform.arrivals
    assert next_call - told >= 0.9, "the second worker waited for the reset the first one was told about"


def test_a_worker_fails_fast_when_the_shared_reset_is_further_than_it_may_wait(
    redis_server: RedisServer, platform: Platform
) -> None:
    worker_client(redis_server).get(f"{platform.url}/spent")
    impatient = worker_client(redis_server, max_wait_s=0.5)
    with pytest.raises(RateLimited, match=r"rate limit of 127\.0\.0\.1:\d+ resets in"):
        impatient.get(f"{platform.url}/search")
    assert [path for path, _ in platform.arrivals] == ["/spent"], "the impatient worker never called the host"


def test_an_unreachable_redis_falls_back_to_pacing_this_process(platform: Platform) -> None:
    pacer = RedisPacer(redis.Redis.from_url("redis://127.0.0.1:1/0"), "overheard")
    client = Http(allow_networks=("127.0.0.1/32",), min_interval_s=INTERVAL, pacer=pacer)
    for _ in range(3):
        client.get(f"{platform.url}/search")
    assert len(platform.arrivals) == 3
    assert min(platform.gaps()) >= INTERVAL * 0.8


@pytest.mark.postgres
@pytest.mark.slow
def test_two_worker_processes_sweeping_feeds_on_one_host_keep_its_interval(
    deployment: Callable[[int], Deployment], platform: Platform
) -> None:
    d = deployment(0)
    config = yaml.safe_load(d.config.read_text())
    config["http"] = {"min_interval_s": 0.5, "allow_networks": ["127.0.0.1/32"]}
    config["sources"] = [
        {
            "kind": "rss",
            "name": name,
            "poll_every": "1s",
            "feeds": [f"{platform.url}/feed-{name}-{i}.xml" for i in (1, 2)],
        }
        for name in ("news", "blogs")
    ]
    d.config.write_text(yaml.safe_dump(config))
    d.start_worker("w1")
    d.start_worker("w2")
    d.start_scheduler()
    deadline = time.monotonic() + 60
    while len(platform.arrivals) < 16 and time.monotonic() < deadline:
        time.sleep(0.2)
    d.stop()

    feeds = {path for path, _ in platform.arrivals}
    assert len(feeds) == 4, f"all four feeds were swept: {feeds}"
    workers = {run.worker for run in d.runs() if run.task == "overheard.collect" and run.status == "done"}
    assert len(workers) == 2, f"both workers swept: {workers}"
    assert min(platform.gaps()) >= 0.5 * 0.8, f"gaps between requests to the one host: {platform.gaps()}"
