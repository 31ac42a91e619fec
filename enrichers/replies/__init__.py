"""Answering a customer in the channel where they spoke: one vendor-neutral call, one module per platform.

`send_reply(thread, text, credentials, client)` posts the reply and returns a `ReplyResult`: sent, with the
platform's id and link, or failed with a reason a person can act on and the draft kept. Platforms that take no
reply (feeds, review sites, Hacker News) have no entry in `CAPABILITIES`: `can_reply` says so, and the shell shows
no reply control for them. Reviews of the brand's own apps are answered through their store's API (Google Play,
App Store Connect): such a review is a `review` mention whose external_id names its store (`ThreadRef.answered_on`).

The client should come from `enrichers.delivery.sending_client(listener.http.guarded_transport(...))`, so replies
go through the same SSRF guard as every other request Overheard makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import httpx

from enrichers.delivery import sending_client
from enrichers.replies import appstore, bluesky, googleplay, mastodon, reddit, x
from enrichers.replies.model import (
    MissingSecret,
    ReplyAccount,
    ReplyCredentials,
    ReplyResult,
    ThreadRef,
    credentials_for,
)
from listener.http import guarded_transport

__all__ = [
    "CAPABILITIES",
    "MissingSecret",
    "ReplyAccount",
    "ReplyCapability",
    "ReplyCost",
    "ReplyCredentials",
    "ReplyResult",
    "ThreadRef",
    "can_reply",
    "credentials_for",
    "reply_client",
    "reply_cost",
    "send_reply",
]

Sender = Callable[[ThreadRef, str, ReplyCredentials, httpx.Client, str | None], ReplyResult]


@dataclass(frozen=True)
class ReplyCapability:
    """How a platform takes replies: the sender, and about how long a reply may be, for the composer's counter (the
    platform counts its own way, X weighting some characters and Bluesky counting graphemes, and says when it is
    too long)."""

    send: Sender
    max_chars: int | None
    paid: bool = False


CAPABILITIES: dict[str, ReplyCapability] = {
    "mastodon": ReplyCapability(mastodon.send, 500),  # the default limit; instances may allow more
    "bluesky": ReplyCapability(bluesky.send, 300),  # graphemes
    "x": ReplyCapability(x.send, 280, paid=True),
    "reddit": ReplyCapability(reddit.send, 10_000),
    "googleplay": ReplyCapability(googleplay.send, googleplay.MAX_REPLY_CHARS),
    "appstore": ReplyCapability(appstore.send, appstore.MAX_RESPONSE_CHARS),
}
"""Platforms we can answer on. rss, hackernews and review pages are absent: they take no reply through an API;
reviews collected from Google Play or App Store Connect are answered there."""


def can_reply(platform: str, external_id: str | None = None) -> bool:
    """True when a mention from `platform` (with `external_id`, which names an app store review's store) can be
    answered where it was posted."""
    if platform == "review":
        return external_id is not None and ThreadRef(platform=platform, external_id=external_id).answered_on != platform
    return platform in CAPABILITIES


@dataclass(frozen=True)
class ReplyCost:
    """What one reply costs, to show before sending; `amount` None when the platform does not charge."""

    amount: Decimal | None
    currency: str

    def __str__(self) -> str:
        return "free" if self.amount is None else f"{self.amount} {self.currency} per post"


def reply_cost(account: ReplyAccount) -> ReplyCost:
    """The per-post cost of replying from `account` (X's paid API), from its configured `cost_per_post`."""
    paid = CAPABILITIES[account.platform].paid
    return ReplyCost(account.cost_per_post if paid else None, account.currency)


def reply_client(allow_networks: Iterable[str] = ()) -> httpx.Client:
    """The client replies go out through: the SSRF guard every request of Overheard passes (`allow_networks` as in
    overheard.yaml's `http:`, e.g. a self-hosted Mastodon on 10.0.0.0/8), no redirects followed. Close it after use."""
    return sending_client(guarded_transport(allow_networks))


def send_reply(
    thread: ThreadRef,
    text: str,
    credentials: ReplyCredentials | MissingSecret,
    client: httpx.Client,
    idempotency_key: str | None = None,
) -> ReplyResult:
    """Post `text` as a reply to `thread` from the credentials' account. Never raises for a refusal or a network
    failure: the result says why and keeps the draft."""
    platform = thread.answered_on
    capability = CAPABILITIES.get(platform)
    if capability is None:
        return ReplyResult.failed(
            platform, text, f"{platform} takes no replies through an API; answer on the site itself"
        )
    if isinstance(credentials, MissingSecret):
        return ReplyResult.failed(platform, text, credentials.reason)
    if credentials.account.platform != platform:
        return ReplyResult.failed(
            platform,
            text,
            f"the {credentials.account.platform} account cannot answer a {platform} post; "
            f"configure a {platform} reply account",
        )
    if not text.strip():
        return ReplyResult.failed(platform, text, "the reply is empty")
    return capability.send(thread, text, credentials, client, idempotency_key)
