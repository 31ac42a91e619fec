"""Deliveries: what a route sends to its channel, how it is signed, sent, retried and given up on.

- Channels (`Channel`, the `channels:` section of overheard.yaml): a Standard Webhooks endpoint, a
  Slack-compatible incoming webhook, an SMTP mailbox, a CRM endpoint that takes signed lead payloads, or
  HubSpot's CRM API itself (`enrichers.crm`: contact, company, note and deal, found before created).
- A delivery is `delivered` only when its receiver acknowledged it; for HubSpot that means HubSpot returned
  the ids of what it stored, kept in the delivery's `receipt`. Inbox channels send nothing: their deliveries
  are `in_inbox`, never `delivered`.
- Each delivery carries one channel-neutral event (`event_payload`), written with its route in the
  same transaction (transactional outbox), and rendered per channel kind only when sent.
- Webhooks follow Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` is the
  delivery's idempotency key and never changes between attempts; `webhook-signature` is
  'v1,<base64 HMAC-SHA256 of "id.timestamp.body">' under a 'whsec_<base64>' secret.
- A failed send is retried with exponential backoff and jitter for at least 72 hours
  (`next_attempt`), then dead-lettered with the last reason. A receiver that is down loses nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

import httpcore
import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from classifiers.verdict import Verdict
from enrichers.crm.hubspot.client import HubSpotGateway, HubSpotSettings
from enrichers.crm.sync import lead_from_event, sync_lead
from enrichers.findings import excerpt
from enrichers.leads import LeadScore
from enrichers.model import Company, Contact, Delivery, DeliveryStatus, Route
from enrichers.ports import DeliveryQueue
from listener.http import guarded_transport
from listener.mention import Mention, web_url

log = logging.getLogger(__name__)

EVENT_TYPE = "mention.routed"
SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)

# ---- Standard Webhooks signing ---------------------------------------------------------------------------


class WebhookVerificationError(ValueError):
    """A webhook failed verification; the message says which check."""


def generate_secret() -> str:
    """A fresh signing secret: 'whsec_' + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_' followed by base64")
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as error:
        raise ValueError("the part of a webhook secret after 'whsec_' must be base64") from error


def _as_bytes(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """The 'v1,<base64>' signature of `body` sent as message `msg_id` at `timestamp` (Unix seconds)."""
    signed = f"{msg_id}.{timestamp}.".encode() + _as_bytes(body)
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (plus content-type) for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: str | bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Check a received webhook; raise `WebhookVerificationError` naming what is wrong.

    Header names are matched in any case. The timestamp must be within `tolerance` of `now` either
    way (replay protection); any one of the space-separated 'v1,...' signatures may match (rotation).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    missing = [h for h in ("webhook-id", "webhook-timestamp", "webhook-signature") if not lowered.get(h)]
    if missing:
        raise WebhookVerificationError(f"missing header(s): {', '.join(missing)}")
    try:
        timestamp = int(lowered["webhook-timestamp"])
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not Unix seconds") from None
    skew = abs(now.timestamp() - timestamp)
    if skew > tolerance.total_seconds():
        raise WebhookVerificationError(
            f"webhook-timestamp is {skew:.0f}s away from now (tolerance {tolerance.total_seconds():.0f}s)"
        )
    expected = sign(secret, lowered["webhook-id"], timestamp, body).encode()
    for candidate in lowered["webhook-signature"].split():
        if candidate.startswith(f"{SIGNATURE_VERSION},") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise WebhookVerificationError("no v1 signature matches the body")


# ---- retry schedule -------------------------------------------------------------------------------------

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=12)
RETRY_WINDOW = timedelta(hours=72)
JITTER = 0.2  # each delay grows by up to 20%, never shrinks, so the window below is a floor
SAVE_EVERY = 50
"""deliver_due saves new states in groups this large: one transaction per group instead of per send."""


def backoff(attempts: int) -> timedelta:
    """The delay after the `attempts`-th failed attempt, before jitter: 30 s doubling up to 12 h."""
    if attempts < 1:
        return timedelta(0)
    return min(RETRY_BASE * 2 ** min(attempts - 1, 40), RETRY_CAP)


def _max_attempts() -> int:
    waited, attempts = timedelta(0), 1
    while waited < RETRY_WINDOW:
        waited += backoff(attempts)
        attempts += 1
    return attempts


MAX_ATTEMPTS = _max_attempts()
"""Attempts made before a delivery is dead-lettered; the last one is at least RETRY_WINDOW after the first."""


def next_attempt(attempts: int, now: datetime, rng: random.Random | None = None) -> datetime | None:
    """When to try again after `attempts` attempts (0 = never tried: now); None = give up (dead-letter)."""
    if attempts < 0:
        raise ValueError("attempts cannot be negative")
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = backoff(attempts)
    return now + delay * (1 + JITTER * (rng or random).random())


# ---- channels ----------------------------------------------------------------------------------------------


class ChannelKind(StrEnum):
    webhook = "webhook"  # Standard Webhooks JSON, signed
    slack = "slack"  # Slack-compatible incoming webhook (also Mattermost, Rocket.Chat)
    email = "email"  # plain-text mail over SMTP
    crm = "crm"  # lead payload for CRM import, signed like a webhook
    hubspot = "hubspot"  # HubSpot's CRM API: contact, company, note (and deal), idempotent across retries


class Channel(BaseModel):
    """One configured delivery channel (an entry of `channels:` in overheard.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Referenced by routing rules' `channel`.")
    kind: ChannelKind
    url: str | None = Field(default=None, description="Endpoint for webhook, slack and crm channels.")
    secret: SecretStr | None = Field(default=None, description="'whsec_...' signing secret (webhook, crm).")
    timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds to connect, and to wait for each read or write of an attempt."
    )
    deadline_s: float = Field(
        default=30.0, gt=0, description="Seconds a whole attempt may take, however slowly the receiver answers."
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = None
    mail_to: tuple[str, ...] = ()
    hubspot: HubSpotSettings | None = Field(default=None, description="hubspot: the account's settings.")
    token: SecretStr | None = Field(default=None, description="hubspot: the private-app access token.")

    @field_validator("secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _needs(self) -> Channel:
        missing: list[str] = []
        if self.kind in (ChannelKind.webhook, ChannelKind.slack, ChannelKind.crm) and not self.url:
            missing.append("url")
        if self.kind in (ChannelKind.webhook, ChannelKind.crm) and self.secret is None:
            missing.append("secret (generate one with enrichers.delivery.generate_secret)")
        if self.kind is ChannelKind.email:
            missing += [f for f in ("smtp_host", "mail_from") if not getattr(self, f)]
            if not self.mail_to:
                missing.append("mail_to")
        if self.kind is ChannelKind.hubspot:
            if self.hubspot is None:
                missing.append("hubspot settings (the crm.hubspot section)")
            if self.token is None:
                env = self.hubspot.token_env if self.hubspot else "the token's environment variable"
                missing.append(f"token (set {env} to the private app's access token)")
        if missing:
            raise ValueError(f"channel '{self.name}' ({self.kind.value}) needs {', '.join(missing)}")
        return self


# ---- payloads ----------------------------------------------------------------------------------------------


def delivery_id(route: Route) -> str:
    """The idempotency key of the delivery of `route` (stable: re-routing the same mention gives the same id)."""
    natural = "\x1f".join((route.source, route.external_id, route.team.value, route.channel))
    return "msg_" + hashlib.sha256(natural.encode()).hexdigest()[:32]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def crm_record(contact: Contact | None, company: Company | None) -> dict[str, Any] | None:
    """What a CRM sync needs to find or create the contact and company: only for a contact whose consent allows
    enrichment (the caller passes None otherwise), and the company the author is linked to."""
    if contact is None and company is None:
        return None
    return {
        "contact": None
        if contact is None
        else {
            "id": contact.id,
            "name": contact.name,
            "emails": list(contact.emails),
            "segment": contact.segment,
            "external_ref": contact.external_ref,
        },
        "company": None
        if company is None
        else {
            "id": company.id,
            "name": company.name,
            "domain": company.domain,
            "classification": company.classification.value,
        },
    }


def event_payload(
    route: Route,
    mention: Mention,
    verdict: Verdict,
    now: datetime,
    contact_id: str | None = None,
    *,
    crm: dict[str, Any] | None = None,
    lead: LeadScore | None = None,
) -> dict[str, Any]:
    """The channel-neutral event for one route: enough to act and reply, nothing more about the person.

    `contact_id` is included only when the caller may use the link (consent allowed); so is `crm` (the contact's
    name, emails and company, `crm_record`), which the caller gives only for leads. `lead` is the lead score.
    """
    event: dict[str, Any] = {
        "type": EVENT_TYPE,
        "timestamp": _iso(now),
        "data": {
            "route": {
                "team": route.team.value,
                "channel": route.channel,
                "priority": route.priority.value,
                "due_at": _iso(route.due_at),
                "rule": route.rule,
                "explanation": route.explanation,
                "reply_channel": route.reply_channel,
            },
            "mention": {
                "source": mention.source.value,
                "external_id": mention.external_id,
                "url": mention.url,
                "created_at": _iso(mention.created_at),
                "language": mention.language,
                "excerpt": excerpt(mention.text),
                "author": {"handle": mention.author.handle, "followers": mention.author.followers},
            },
            "verdict": {
                "sentiment": verdict.sentiment.value,
                "intent": verdict.intent.value,
                "confidence": verdict.intent_confidence,
                "needs_human": verdict.needs_human,
                "reasons": list(verdict.reasons),
            },
            "contact_id": contact_id,
        },
    }
    if crm is not None:
        event["data"]["crm"] = crm
    if lead is not None:
        event["data"]["lead"] = {
            "score": lead.score,
            "signals": [s.value for s in lead.signals],
            "quantity": lead.quantity,
            "explanation": lead.explanation,
        }
    return event


def new_delivery(route: Route, payload: dict[str, Any], now: datetime) -> Delivery:
    """A pending delivery of `route`, due now."""
    return Delivery(
        idempotency_key=delivery_id(route),
        channel=route.channel,
        status=DeliveryStatus.pending,
        next_attempt_at=now,
        payload=payload,
    )


def json_body(document: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the same event always gives the same bytes (and signature)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _slack_escape(text: str) -> str:
    """Slack reads `<…>` as a link or a mention (`<!channel>` pings everyone): only &, < and > are control
    characters in its text, and they are written as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str | None, label: str) -> str | None:
    """`<url|label>`, or None for a link that is not http(s); a `|` in the URL would end it and start a label
    of the poster's choosing, so it is percent-encoded (a URL means the same with %7C)."""
    safe = web_url(url)
    if safe is None:
        return None
    return f"<{_slack_escape(safe.replace('|', '%7C'))}|{_slack_escape(label)}>"


def slack_message(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook message (`text` fallback plus blocks)."""
    data = payload["data"]
    route, mention, verdict = data["route"], data["mention"], data["verdict"]
    headline = (
        f"[{route['priority']}] {route['team']}: {verdict['intent']} ({verdict['sentiment']}, "
        f"{verdict['confidence']:.2f}) on {mention['source']} by @{mention['author']['handle']}"
    )
    quote = "> " + _slack_escape(mention["excerpt"]).replace("\n", "\n> ")
    details = [f"Reply on: {_slack_escape(str(route['reply_channel']))}"]
    if route["due_at"]:
        details.append(f"due {_slack_escape(str(route['due_at']))}")
    if (link := _slack_link(mention["url"], "open the mention")) is not None:
        details.append(link)
    why = f"Why: {_slack_escape(route['explanation'])}"
    return {
        "text": _slack_escape(headline),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(headline)}*\n{quote}"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(details)}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": why}]},
        ],
    }


def email_message(payload: dict[str, Any], mail_from: str, mail_to: tuple[str, ...], msg_id: str) -> EmailMessage:
    """A plain-text email for an SMTP channel; `msg_id` goes in a header so a mailbox can de-duplicate."""
    data = payload["data"]
    route, mention, verdict = data["route"], data["mention"], data["verdict"]
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = ", ".join(mail_to)
    message["Subject"] = f"[{route['priority']}] {verdict['intent']} on {mention['source']} for {route['team']}" + (
        f", due {route['due_at']}" if route["due_at"] else ""
    )
    message["X-Overheard-Delivery"] = msg_id
    lines = [
        f"Team: {route['team']} (rule '{route['rule']}')",
        f"Priority: {route['priority']}" + (f", respond by {route['due_at']}" if route["due_at"] else ""),
        f"Author: @{mention['author']['handle']} on {mention['source']}",
        f"Reply on: {route['reply_channel']}",
        f"Verdict: {verdict['intent']}, {verdict['sentiment']} (confidence {verdict['confidence']:.2f})",
        "",
        mention["excerpt"],
        "",
        f"Link: {mention['url'] or '(none)'}",
        f"Why: {route['explanation']}",
    ]
    message.set_content("\n".join(lines))
    return message


def crm_lead(payload: dict[str, Any], msg_id: str) -> dict[str, Any]:
    """A lead shaped for CRM import (HubSpot property names, as `enrichers.crm_io` exports contacts)."""
    data = payload["data"]
    mention, verdict, route = data["mention"], data["verdict"], data["route"]
    properties: dict[str, Any] = {
        "hs_lead_status": "NEW",
        "lead_source": f"social:{mention['source']}",
        "overheard_handle": mention["author"]["handle"],
        "overheard_mention_url": mention["url"],
        "overheard_excerpt": mention["excerpt"],
        "overheard_intent": verdict["intent"],
        "overheard_due_at": route["due_at"],
    }
    if mention["source"] == "x":
        properties["twitterhandle"] = mention["author"]["handle"]
    if data["contact_id"]:
        properties["overheard_contact_id"] = data["contact_id"]
    if data.get("lead"):
        properties["overheard_lead_score"] = data["lead"]["score"]
    return {"idempotency_key": msg_id, "properties": properties}


# ---- sending -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """The outcome of one attempt: `ok`, and in words what happened (status code, error)."""

    ok: bool
    reason: str
    status_code: int | None = None
    receipt: dict[str, Any] | None = None
    """What the receiver stored, as far as it got (a CRM's object ids); kept on the delivery for the next attempt."""
    retry_after: timedelta | None = None
    """The receiver asked us to wait this long (a rate limit): the next attempt is no sooner."""
    permanent: bool = False
    """No retry can succeed (the receiver rejects the data itself): dead-lettered at once with the reason."""


_deadline: ContextVar[float | None] = ContextVar("send_deadline", default=None)
"""When the send running in this thread must be over (time.monotonic()), for `_DeadlineStream`."""


def _within_deadline(timeout: float | None) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the send's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the running send's deadline: a receiver that
    trickles a byte a second answers each read in time, and is still cut off when the send's time is up."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _within_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _within_deadline(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, _within_deadline(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.inner.connect_tcp(host, port, _within_deadline(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.connect_unix_socket(path, _within_deadline(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def sending_client(transport: httpx.HTTPTransport | None = None) -> httpx.Client:
    """The HTTP client deliveries go out through: no redirects followed (a moved endpoint is a config error),
    and each send held to its deadline (`post_json`). `transport` may be any httpx.HTTPTransport (a guarded one)."""
    transport = transport or httpx.HTTPTransport()
    pool = transport._pool  # httpx keeps its httpcore pool here; connections take their backend from it
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return httpx.Client(transport=transport, follow_redirects=False)


def post_json(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: float = 10.0,
    deadline_s: float | None = None,
) -> SendResult:
    """POST one body; success is any 2xx. Redirects are not followed (a moved endpoint is a config error).

    `timeout_s` bounds connecting and each read or write; `deadline_s` the whole send, when `client` comes from
    `sending_client` (a plain client knows only per-read timeouts).
    """
    deadline = None if deadline_s is None else time.monotonic() + deadline_s
    held_to = _deadline.set(deadline)
    try:
        response = client.post(
            url, content=body, headers={"content-type": "application/json", **headers}, timeout=timeout_s
        )
    except httpx.TimeoutException:
        if deadline is not None and time.monotonic() >= deadline - 0.05:
            return SendResult(False, f"no complete answer within the send's deadline of {deadline_s:g}s")
        return SendResult(False, f"timed out after {timeout_s:g}s")
    except httpx.HTTPError as error:
        return SendResult(False, f"{type(error).__name__}: {error}")
    finally:
        _deadline.reset(held_to)
    if response.is_success:
        return SendResult(True, f"HTTP {response.status_code}", response.status_code)
    snippet = response.text[:200].strip()
    return SendResult(False, f"HTTP {response.status_code}" + (f": {snippet}" if snippet else ""), response.status_code)


SmtpFactory = Callable[..., smtplib.SMTP]  # called as smtp(host, port, timeout=seconds)


def send_email(channel: Channel, message: EmailMessage, smtp: SmtpFactory = smtplib.SMTP) -> SendResult:
    """Send one message through the channel's SMTP server."""
    assert channel.smtp_host is not None
    try:
        with smtp(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s) as server:
            if channel.smtp_starttls:
                server.starttls()
            if channel.smtp_username and channel.smtp_password:
                server.login(channel.smtp_username, channel.smtp_password.get_secret_value())
            refused = server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        return SendResult(False, f"{type(error).__name__}: {error}")
    if refused:
        return SendResult(False, f"refused recipients: {', '.join(sorted(refused))}")
    return SendResult(True, "accepted by SMTP server")


def send_once(
    delivery: Delivery,
    channel: Channel,
    now: datetime,
    client: httpx.Client | None = None,
    smtp: SmtpFactory = smtplib.SMTP,
) -> SendResult:
    """Render the delivery's event for `channel` and make one attempt."""
    if delivery.payload is None:
        return SendResult(False, "delivery has no payload")
    msg_id = delivery.idempotency_key
    if channel.kind is ChannelKind.hubspot:
        return send_to_hubspot(delivery, channel, client)
    if channel.kind is ChannelKind.email:
        assert channel.mail_from is not None
        return send_email(channel, email_message(delivery.payload, channel.mail_from, channel.mail_to, msg_id), smtp)
    assert channel.url is not None
    if channel.kind is ChannelKind.slack:
        body, headers = json_body(slack_message(delivery.payload)), {}
    else:
        document = delivery.payload if channel.kind is ChannelKind.webhook else crm_lead(delivery.payload, msg_id)
        body = json_body(document)
        assert channel.secret is not None
        headers = webhook_headers(channel.secret.get_secret_value(), msg_id, int(now.timestamp()), body)
    if client is None:  # receivers are configured URLs: the collectors' SSRF guard applies to them too
        with sending_client(guarded_transport()) as own:
            return post_json(own, channel.url, body, headers, channel.timeout_s, channel.deadline_s)
    return post_json(client, channel.url, body, headers, channel.timeout_s, channel.deadline_s)


def send_to_hubspot(delivery: Delivery, channel: Channel, client: httpx.Client | None = None) -> SendResult:
    """Sync the delivery's lead into HubSpot (`enrichers.crm.sync_lead`), reusing the ids earlier attempts stored."""
    assert channel.hubspot is not None and channel.token is not None and delivery.payload is not None
    try:
        lead = lead_from_event(delivery.payload, delivery.idempotency_key)
    except (KeyError, TypeError, ValueError) as error:
        return SendResult(False, f"the delivery's event cannot be read as a lead ({type(error).__name__}: {error})")

    def run(sending: httpx.Client) -> SendResult:
        gateway = HubSpotGateway(sending, channel.hubspot, channel.token.get_secret_value())  # type: ignore[union-attr,arg-type]
        # The whole sync (a handful of requests) is held to the channel's deadline, as one webhook send is.
        held_to = _deadline.set(time.monotonic() + channel.deadline_s)
        try:
            outcome = sync_lead(gateway, lead, delivery.receipt)
        finally:
            _deadline.reset(held_to)
        return SendResult(
            outcome.ok, outcome.reason, outcome.status_code, outcome.receipt, outcome.retry_after, outcome.permanent
        )

    if client is None:  # HubSpot is a configured URL like any receiver: the SSRF guard applies
        with sending_client(guarded_transport()) as own:
            return run(own)
    return run(client)


def record_attempt(delivery: Delivery, result: SendResult, now: datetime, rng: random.Random | None = None) -> Delivery:
    """The delivery after one attempt: delivered, failed with the next attempt time, or dead with the reason.

    A receipt the attempt returned (ids a CRM stored, even when a later step failed) is kept for the next one.
    """
    attempts = delivery.attempts + 1
    receipt = result.receipt if result.receipt is not None else delivery.receipt
    if result.ok:
        return delivery.model_copy(
            update={
                "status": DeliveryStatus.delivered,
                "attempts": attempts,
                "next_attempt_at": None,
                "last_error": None,
                "receipt": receipt,
            }
        )
    if result.permanent:
        return delivery.model_copy(
            update={
                "status": DeliveryStatus.dead,
                "attempts": attempts,
                "next_attempt_at": None,
                "last_error": f"not retried, no retry can succeed: {result.reason}",
                "receipt": receipt,
            }
        )
    retry_at = next_attempt(attempts, now, rng)
    if retry_at is not None and result.retry_after is not None:
        retry_at = max(retry_at, now + result.retry_after)
    if retry_at is None:
        return delivery.model_copy(
            update={
                "status": DeliveryStatus.dead,
                "attempts": attempts,
                "next_attempt_at": None,
                "last_error": f"gave up after {attempts} attempts (retried for at least "
                f"{RETRY_WINDOW.total_seconds() / 3600:.0f} h): {result.reason}",
                "receipt": receipt,
            }
        )
    return delivery.model_copy(
        update={
            "status": DeliveryStatus.failed,
            "attempts": attempts,
            "next_attempt_at": retry_at,
            "last_error": result.reason,
            "receipt": receipt,
        }
    )


def deliver(
    delivery: Delivery,
    channel: Channel,
    now: datetime,
    client: httpx.Client | None = None,
    smtp: SmtpFactory = smtplib.SMTP,
    rng: random.Random | None = None,
) -> Delivery:
    """Attempt a due delivery once and return its new state. Delivered and dead deliveries are returned unchanged."""
    if delivery.status in (DeliveryStatus.delivered, DeliveryStatus.dead, DeliveryStatus.in_inbox):
        return delivery
    if delivery.channel != channel.name:
        raise ValueError(
            f"delivery {delivery.idempotency_key} is for channel '{delivery.channel}', not '{channel.name}'"
        )
    if delivery.payload is None:  # nothing to send will never get better: no point retrying for 72 h
        return delivery.model_copy(
            update={"status": DeliveryStatus.dead, "next_attempt_at": None, "last_error": "delivery has no payload"}
        )
    result = send_once(delivery, channel, now, client, smtp)
    after = record_attempt(delivery, result, now, rng)
    log.info(
        "delivery.attempted",
        extra={
            "delivery": delivery.idempotency_key,
            "channel": channel.name,
            "kind": channel.kind.value,
            "status": after.status.value,
            "attempts": after.attempts,
            "reason": result.reason,
        },
    )
    return after


class Breaker:
    """A circuit breaker for one receiver: after `failures` failed sends in a row it opens, and sends to that
    receiver are held (not attempted, no attempt counted) for `cooldown_s`; then one send may try (half open):
    success closes it, failure opens it again. A receiver that hangs costs a few deadlines, not one per delivery.
    """

    def __init__(self, failures: int = 5, cooldown_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.failures, self.cooldown_s, self.clock = failures, cooldown_s, clock
        self._lock = threading.Lock()
        self._in_a_row = 0
        self._opened_at: float | None = None
        self._trying = False

    def allows(self) -> bool:
        """May a send go now? Closed: yes; open: no until the cooldown passed, then one send at a time."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._trying or self.clock() - self._opened_at < self.cooldown_s:
                return False
            self._trying = True
            return True

    def record(self, ok: bool) -> None:
        with self._lock:
            self._trying = False
            if ok:
                self._in_a_row, self._opened_at = 0, None
                return
            self._in_a_row += 1
            if self._opened_at is not None or self._in_a_row >= self.failures:
                self._opened_at = self.clock()

    def retry_in_s(self) -> float:
        """Seconds until the breaker lets a send try again (0 when closed)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(self.cooldown_s - (self.clock() - self._opened_at), 0.0)

    @property
    def failures_in_a_row(self) -> int:
        return self._in_a_row


class Breakers:
    """One breaker per channel, kept across passes of one process (a module-level default, `BREAKERS`)."""

    def __init__(self, failures: int = 5, cooldown_s: float = 60.0) -> None:
        self.failures, self.cooldown_s = failures, cooldown_s
        self._by_channel: dict[str, Breaker] = {}
        self._lock = threading.Lock()

    def __call__(self, channel: str) -> Breaker:
        with self._lock:
            breaker = self._by_channel.get(channel)
            if breaker is None or (breaker.failures, breaker.cooldown_s) != (self.failures, self.cooldown_s):
                breaker = self._by_channel[channel] = Breaker(self.failures, self.cooldown_s)
            return breaker


BREAKERS = Breakers()


def _held(delivery: Delivery, channel: str, breaker: Breaker, now: datetime) -> Delivery:
    """Not sent because the channel's breaker is open: due again when it lets a send try; no attempt counted."""
    wait = breaker.retry_in_s()
    return delivery.model_copy(
        update={
            "status": DeliveryStatus.failed,
            "next_attempt_at": now + timedelta(seconds=max(wait, 1.0)),
            "last_error": f"not sent: channel '{channel}' failed {breaker.failures_in_a_row} sends in a row; "
            f"its breaker lets one try again in {wait:.0f}s",
        }
    )


def deliver_due(
    queue: DeliveryQueue,
    channels: Mapping[str, Channel],
    now: datetime,
    limit: int = 100,
    client: httpx.Client | None = None,
    smtp: SmtpFactory = smtplib.SMTP,
    rng: random.Random | None = None,
    concurrency: int = 1,
    save_every: int = SAVE_EVERY,
    per_channel: int | None = None,
    breakers: Breakers | None = None,
) -> list[Delivery]:
    """Claim up to `limit` due deliveries and attempt each once; returns the new states in due order.

    At most `concurrency` sends are in flight, and at most `per_channel` (default: half of them, at least one)
    to one channel, each channel served by its own workers: a receiver that hangs holds its own slots, never
    another channel's, and its breaker (`breakers`, one per channel) stops trying it after a few failures in a
    row. With `concurrency` 1 the sends go one by one in due order.

    New states are saved in groups of `save_every` as they come in, and whatever was sent is saved even
    when a send raises. A crash between a send and its save makes that delivery (and at most
    `save_every` − 1 others) go out again with the same idempotency key once its claim lapses, which receivers
    use to drop the repeat. A delivery for a channel that is not configured is kept and retried like a failed
    send, so fixing the configuration within the retry window loses nothing.
    """
    if concurrency < 1 or save_every < 1:
        raise ValueError(f"concurrency and save_every must be at least 1, got {concurrency} and {save_every}")
    per_channel = per_channel or max(concurrency // 2, 1)
    breakers = breakers or BREAKERS
    slots = threading.Semaphore(concurrency)

    def attempt(delivery: Delivery) -> Delivery:
        channel = channels.get(delivery.channel)
        if channel is None:
            return record_attempt(
                delivery, SendResult(False, f"channel '{delivery.channel}' is not configured"), now, rng
            )
        breaker = breakers(channel.name)
        with slots:
            if not breaker.allows():
                return _held(delivery, channel.name, breaker, now)
            after = deliver(delivery, channel, now, client, smtp, rng)
        breaker.record(after.status is DeliveryStatus.delivered)
        return after

    due = queue.claim(now, limit)
    order = {d.idempotency_key: n for n, d in enumerate(due)}
    done: list[Delivery] = []
    saved = 0
    pools: list[ThreadPoolExecutor] = []
    try:
        if concurrency == 1 or len(due) < 2:
            results: Iterable[Delivery] = map(attempt, due)
        else:
            by_channel: dict[str, list[Delivery]] = {}
            for delivery in due:
                by_channel.setdefault(delivery.channel, []).append(delivery)
            futures: list[Future[Delivery]] = []
            for name, waiting in by_channel.items():
                workers = min(per_channel, concurrency, len(waiting))
                pool = ThreadPoolExecutor(workers, thread_name_prefix=f"deliver-{name}"[:40])
                pools.append(pool)
                futures += [pool.submit(attempt, d) for d in waiting]
            results = (future.result() for future in as_completed(futures))  # saved as each finishes
        for after in results:
            done.append(after)
            if len(done) - saved >= save_every:
                queue.save_many(done[saved:])
                saved = len(done)
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
        if len(done) > saved:
            queue.save_many(done[saved:])
    return sorted(done, key=lambda d: order[d.idempotency_key])
