"""A real HTTP server on 127.0.0.1 that replays recorded platform responses to the collectors under test.

Recorded responses come from `tests/fixtures/recorded/` (real API recordings, see its README) and from
`tests/listener/fixtures/` (small pages we wrote ourselves, shaped as the platforms document them).
A route answers its replies in order and repeats the last one; every request is recorded for asserts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

RECORDED_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
OWN_FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Hop-by-hop and encoding headers describe the recorded transfer, not the (decoded) body we replay.
_DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection", "set-cookie"}


@dataclass(frozen=True)
class Reply:
    """One response the server sends."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def recorded(cls, stem: Path, *, rewrite: Mapping[str, str] | None = None) -> Reply:
        """A recorded interaction: `<stem>.meta.json` plus `<stem>.body.json` or `<stem>.body.txt`."""
        meta = json.loads(stem.with_name(stem.name + ".meta.json").read_text())
        body_path = stem.with_name(stem.name + ".body.json")
        if not body_path.exists():
            body_path = stem.with_name(stem.name + ".body.txt")
        body = body_path.read_bytes() if body_path.exists() else b""
        headers: list[tuple[str, str]] = []
        for name, values in meta["response"]["headers"].items():
            if name.lower() in _DROPPED_HEADERS:
                continue
            for value in values if isinstance(values, list) else [values]:
                headers.append((name, str(value)))
        status = meta["response"]["status"]  # vcrpy writes {"code": 200, ...}; R's vcr writes 200
        code = status["code"] if isinstance(status, dict) else status
        reply = cls(status=int(code), headers=tuple(headers), body=body)
        return reply.rewritten(rewrite or {})

    @classmethod
    def file(
        cls, path: Path, content_type: str, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Reply:
        return cls(status, (("Content-Type", content_type), *(headers or {}).items()), path.read_bytes())

    def rewritten(self, replacements: Mapping[str, str]) -> Reply:
        """Point links recorded against the platform's host at our server instead."""
        body, headers = self.body, list(self.headers)
        for old, new in replacements.items():
            body = body.replace(old.encode(), new.encode())
            headers = [(k, v.replace(old, new)) for k, v in headers]
        return Reply(self.status, tuple(headers), body)

    def with_headers(self, **extra: str) -> Reply:
        names = {k.replace("_", "-").lower() for k in extra}
        kept = tuple((k, v) for k, v in self.headers if k.lower() not in names)
        return Reply(self.status, kept + tuple((k.replace("_", "-"), v) for k, v in extra.items()), self.body)


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class _Route:
    method: str
    path: str
    query: dict[str, str]
    replies: list[Reply]
    served: int = 0
    redirect_back: dict[str, str] | None = None  # answer with a redirect to the request's redirect_uri (OAuth)

    def matches(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        if method != self.method or path != self.path:
            return False
        return all(query.get(k, [None])[-1] == v for k, v in self.query.items())

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


@dataclass
class ReplayServer:
    """Routes (method, path, query subset) to replies. Most specific (most query keys) route wins."""

    routes: list[_Route] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, *replies: Reply, method: str = "GET", query: Mapping[str, str] | None = None) -> None:
        self.routes.append(_Route(method, path, dict(query or {}), list(replies)))

    def add_redirect_back(self, path: str, **params: str) -> None:
        """Play an OAuth authorize page that says yes at once: a GET to `path` is redirected (302) to the request's
        `redirect_uri` with its `state` and `params` (e.g. code='...') in the query."""
        self.routes.append(_Route("GET", path, {}, [Reply(302)], redirect_back=dict(params)))

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def url(self, path: str) -> str:
        return self.base_url + path

    def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes = b"") -> Reply:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.seen.append(Seen(method, parts.path, query, headers, body))
            candidates = [r for r in self.routes if r.matches(method, parts.path, query)]
            if not candidates:
                return Reply(404, (("Content-Type", "application/json"),), b'{"error": "no route in test server"}')
            route = max(candidates, key=lambda r: len(r.query))
            if route.redirect_back is not None:
                back = {"state": query.get("state", [""])[-1], **route.redirect_back}
                target = query.get("redirect_uri", [""])[-1]
                location = target + ("&" if "?" in target else "?") + urlencode(back)
                return Reply(302, (("Location", location), ("Content-Type", "text/plain")), b"")
            return route.next_reply()


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the body 40 ms

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = server._answer(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if not any(k.lower() == "content-length" for k, _ in reply.headers):
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_HEAD = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@dataclass
class FakeTime:
    """A clock that only moves when something sleeps, so retry and rate-limit waits are instant and visible."""

    now: float = 1_700_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def start_server() -> tuple[ReplayServer, ThreadingHTTPServer]:
    replay = ReplayServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(replay))
    httpd.daemon_threads = True
    replay.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return replay, httpd
