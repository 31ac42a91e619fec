"""In-memory ports (storage implements the real ones), the test data, a webhook receiver and an SMTP server."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from classifiers.verdict import Verdict
from enrichers.delivery import WebhookVerificationError, generate_secret, verify
from enrichers.linking import normalise_handle
from enrichers.model import Company, Consent, Contact, Delivery, DeliveryStatus, Route
from enrichers.replies import reply_client
from listener.http import guarded_transport
from listener.mention import Mention
from tests.listener.replay import ReplayServer, start_server

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class InMemoryDirectory:
    """ContactDirectory over lists; handles are looked up normalised, as storage must."""

    def __init__(self, contacts: list[Contact], companies: list[Company], consents: list[Consent]) -> None:
        self.contacts = {c.id: c for c in contacts}
        self.companies = companies
        self.consents = consents
        self.lookups: list[tuple[str, str]] = []

    def contact_by_handle(self, platform: str, handle: str) -> Contact | None:
        self.lookups.append((platform, handle))
        wanted = normalise_handle(platform, handle)
        for contact in self.contacts.values():
            if any(
                i.platform == platform and normalise_handle(platform, i.handle) == wanted for i in contact.identities
            ):
                return contact
        return None

    def contacts_by_email_domain(self, domain: str) -> list[Contact]:
        return [c for c in self.contacts.values() if any(e.endswith("@" + domain) for e in c.emails)]

    def company_by_domain(self, domain: str) -> Company | None:
        return next((c for c in self.companies if c.domain == domain), None)

    def consents_for(self, contact_id: str) -> list[Consent]:
        return [c for c in self.consents if c.contact_id == contact_id]


class InMemoryOutbox:
    """Outbox and DeliveryQueue over one dict keyed by idempotency key, as storage keeps one table."""

    def __init__(self) -> None:
        self.routes: list[tuple[Route, list[Delivery]]] = []
        self.deliveries: dict[str, Delivery] = {}

    def add(self, route: Route, deliveries: list[Delivery]) -> None:
        self.routes.append((route, deliveries))
        for delivery in deliveries:
            self.deliveries.setdefault(delivery.idempotency_key, delivery)  # re-adding changes nothing

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        waiting = [
            d
            for d in self.deliveries.values()
            if d.status in (DeliveryStatus.pending, DeliveryStatus.failed)
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
        ]
        return sorted(waiting, key=lambda d: d.next_attempt_at or now)[:limit]

    def claim(self, now: datetime, limit: int) -> list[Delivery]:
        return self.due(now, limit)  # one sender in these tests

    def save_many(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self.deliveries[delivery.idempotency_key] = delivery


@pytest.fixture
def outbox() -> InMemoryOutbox:
    return InMemoryOutbox()


def load_crm() -> dict[str, Any]:
    return json.loads((DATA / "crm.json").read_text())


@pytest.fixture
def crm() -> dict[str, Any]:
    return load_crm()


@pytest.fixture
def directory(crm: dict[str, Any]) -> InMemoryDirectory:
    return InMemoryDirectory(
        [Contact.model_validate(c) for c in crm["contacts"]],
        [Company.model_validate(c) for c in crm["companies"]],
        [Consent.model_validate(c) for c in crm["consents"]],
    )


@pytest.fixture
def companies(directory: InMemoryDirectory) -> list[Company]:
    return directory.companies


@pytest.fixture(scope="session")
def mentions() -> dict[str, Mention]:
    raw = json.loads((DATA / "mentions.json").read_text())
    return {name: Mention.model_validate(value) for name, value in raw.items()}


@pytest.fixture(scope="session")
def verdicts() -> dict[str, Verdict]:
    raw = json.loads((DATA / "verdicts.json").read_text())
    return {name: Verdict.model_validate(value) for name, value in raw.items()}


@pytest.fixture
def now() -> datetime:
    return NOW


# ---- a real webhook receiver on 127.0.0.1 -----------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    problem: str | None


@dataclass
class WebhookReceiver:
    url: str
    secret: str
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    received: list[Received] = field(default_factory=list)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    require_signature: bool = True  # False for Slack-compatible hooks, which are not signed
    delay_s: float = 0.0  # how long each answer takes, like a busy CRM
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests being answered at one time
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """An HTTP server that verifies Standard Webhooks signatures and answers 401 when they fail."""
    state = WebhookReceiver(url="", secret=generate_secret())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            with state.lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                time.sleep(state.delay_s)
                self._answer()
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                verify(state.secret, headers, body, state.clock())
                verified, problem = True, None
            except WebhookVerificationError as error:
                verified, problem = False, str(error)
            state.received.append(Received(headers, body, verified, problem))
            if not verified and state.require_signature:
                status = 401
            else:
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else f"no: {problem or 'try later'}".encode())

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/overheard"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# ---- a real (minimal) SMTP server on 127.0.0.1 ---------------------------------------------------------------


@dataclass
class SmtpMailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpMailbox]:
    """Speaks enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""
    box = SmtpMailbox("127.0.0.1", 0)

    class Session(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 test ESMTP")
            sender, recipients = "", []
            while line := self.rfile.readline():
                command = line.decode().strip()
                verb = command[:4].upper()
                if verb == "EHLO":
                    self.reply("250-test")
                    self.reply("250 8BITMIME")
                elif verb == "HELO":
                    self.reply("250 test")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip(" <>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with .")
                    lines = []
                    while (data := self.rfile.readline()) not in (b".\r\n", b""):
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    box.messages.append(message_from_bytes(b"".join(lines)))
                    box.envelopes.append((sender, recipients))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:  # RSET, NOOP and anything else
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
    server.daemon_threads = True
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local() -> Iterator[httpx.Client]:
    """A client through the collectors' SSRF guard that lets this machine's test receivers through, as
    `http.allow_networks: [127.0.0.1/32]` in overheard.yaml would."""
    with httpx.Client(transport=guarded_transport(("127.0.0.1/32",)), follow_redirects=False) as client:
        yield client


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    """A local server replaying recorded platform answers (replies, OAuth); a test adds the routes it needs."""
    replay, httpd = start_server()
    yield replay
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The client replies go out through: the SSRF guard, allowing only the local test server."""
    with reply_client(["127.0.0.1/32"]) as sending:
        yield sending
