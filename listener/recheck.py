"""Does this post still exist? Per-platform re-checks through the same polite `Http` client.

A platform says a post is gone in its own way: HTTP 404/410, an ActivityPub `Tombstone`, a '[deleted]'
or '[removed]' marker (Reddit), a missing entry in a batch lookup (Bluesky), a 'resource-not-found'
error (X). A suspended or private account makes the post unavailable to us, which we treat the same
way: we may no longer show what we cannot see. Anything we cannot read is `unknown` and changes nothing.

Platforms whose APIs allow a lookup by id have a checker here: Mastodon, Hacker News, Reddit, Bluesky
and X. RSS feeds and review pages have none (a feed entry dropping off a feed is not a deletion).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlsplit

import requests

from listener.http import Http, HttpError, decode_json

GONE_STATUSES = frozenset({404, 410})
_MARKERS = ("[deleted]", "[removed]")


class PostState(StrEnum):
    exists = "exists"
    deleted = "deleted"  # the platform says the post is gone
    unavailable = "unavailable"  # the account is suspended, private or blocks us: we can no longer see it
    unknown = "unknown"  # the check failed or is not possible; nothing changes


@dataclass(frozen=True)
class Recheck:
    """The answer about one post, with what the platform showed in words."""

    source: str
    external_id: str
    state: PostState
    reason: str

    @property
    def gone(self) -> bool:
        return self.state in (PostState.deleted, PostState.unavailable)


@dataclass(frozen=True)
class LocalId:
    """A post's id on the one server it was read from, where that differs from its `external_id` (Mastodon: the
    status id on the instance, while `external_id` is the ActivityPub URI, the same everywhere)."""

    server: str  # the server's host, e.g. 'mastodon.social'
    id: str


class PostChecker(Protocol):
    """Asks one platform whether posts still exist. `source` is the platform key ('mastodon', ...)."""

    source: str

    def check(self, external_id: str, url: str | None, local: LocalId | None = None) -> Recheck: ...


def _get(http: Http, url: str, **kwargs: Any) -> requests.Response:
    return http.request("GET", url, **kwargs)


def _json(response: requests.Response) -> Any:
    try:
        return decode_json(response)
    except HttpError:
        return None


def _by_status(source: str, external_id: str, response: requests.Response) -> Recheck | None:
    """The verdict an HTTP status alone gives, or None when the body must be read."""
    status = response.status_code
    if status in GONE_STATUSES:
        return Recheck(source, external_id, PostState.deleted, f"deleted on platform (HTTP {status})")
    if status in (401, 403):
        return Recheck(
            source, external_id, PostState.unavailable, f"no longer visible: private or suspended (HTTP {status})"
        )
    if not 200 <= status < 300:
        return Recheck(source, external_id, PostState.unknown, f"could not check: HTTP {status}")
    return None


class _Checker:
    source = ""

    def __init__(self, http: Http, base_url: str, token: str | None = None) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def check(self, external_id: str, url: str | None, local: LocalId | None = None) -> Recheck:
        try:
            return self._check(external_id, url, local)
        except HttpError as exc:  # rate limited, refused, down: we learn nothing about the post
            return Recheck(self.source, external_id, PostState.unknown, f"could not check: {exc}")

    def _check(self, external_id: str, url: str | None, local: LocalId | None) -> Recheck:
        raise NotImplementedError

    def _answer(self, external_id: str, url: str, **kwargs: Any) -> tuple[Recheck | None, Any]:
        response = _get(self.http, url, headers=self.headers, **kwargs)
        return _by_status(self.source, external_id, response), _json(response)

    def _exists(self, external_id: str) -> Recheck:
        return Recheck(self.source, external_id, PostState.exists, "still on the platform")

    def _unknown(self, external_id: str, why: str) -> Recheck:
        return Recheck(self.source, external_id, PostState.unknown, why)


class MastodonChecker(_Checker):
    """GET /api/v1/statuses/:id on the instance we collected from; 404/410 or a Tombstone means deleted.

    The id is the status's local id on this instance, kept when it was collected (`local`): a post written on
    another instance has a URI (its `external_id`) and a URL there, and only its local id here. Posts stored
    before local ids were kept fall back to the id at the end of a URI or URL on this instance."""

    source = "mastodon"

    def _status_id(self, external_id: str, url: str | None, local: LocalId | None) -> str | None:
        instance = urlsplit(self.base_url).netloc
        if local is not None and local.server == instance and local.id.isdigit():
            return local.id
        if external_id.isdigit():
            return external_id
        for candidate in (external_id, url or ""):
            parts = urlsplit(candidate)
            last = parts.path.rstrip("/").rsplit("/", 1)[-1]
            if parts.netloc == instance and last.isdigit():
                return last
        return None

    def _check(self, external_id: str, url: str | None, local: LocalId | None) -> Recheck:
        status_id = self._status_id(external_id, url, local)
        if status_id is None:
            return self._unknown(external_id, "a status from another instance cannot be looked up on this one")
        verdict, body = self._answer(external_id, f"{self.base_url}/api/v1/statuses/{status_id}")
        if verdict is not None:
            return verdict
        if isinstance(body, dict) and body.get("type") == "Tombstone":
            return Recheck(self.source, external_id, PostState.deleted, "deleted on platform (Tombstone)")
        account = body.get("account") if isinstance(body, dict) else None
        if isinstance(account, dict) and (account.get("suspended") or account.get("limited")):
            return Recheck(self.source, external_id, PostState.unavailable, "account suspended or limited")
        return self._exists(external_id)


class HackerNewsChecker(_Checker):
    """GET /api/v1/items/:id (Algolia); 404, or an item marked deleted/dead or without author, is gone."""

    source = "hackernews"

    def _check(self, external_id: str, url: str | None, local: LocalId | None) -> Recheck:
        verdict, body = self._answer(external_id, f"{self.base_url}/api/v1/items/{quote(external_id, safe='')}")
        if verdict is not None:
            return verdict
        if not isinstance(body, dict):
            return self._unknown(external_id, "could not check: the item is not a JSON object")
        if body.get("deleted") or body.get("dead"):
            return Recheck(self.source, external_id, PostState.deleted, "deleted on platform (item marked deleted)")
        if body.get("author") is None and body.get("text") is None and body.get("title") is None:
            return Recheck(self.source, external_id, PostState.deleted, "deleted on platform (item emptied)")
        return self._exists(external_id)


class RedditChecker(_Checker):
    """GET /api/info.json?id=<fullname>; an empty listing or a '[deleted]'/'[removed]' marker is gone.
    `headers` gives fresh request headers each time (the app token and Reddit's User-Agent, `listener.reddit`)."""

    source = "reddit"

    def __init__(
        self,
        http: Http,
        base_url: str,
        token: str | None = None,
        *,
        headers: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(http, base_url, token)
        self.fresh_headers = headers

    def _answer(self, external_id: str, url: str, **kwargs: Any) -> tuple[Recheck | None, Any]:
        if self.fresh_headers is not None:
            self.headers = dict(self.fresh_headers())
        return super()._answer(external_id, url, **kwargs)

    def _check(self, external_id: str, url: str | None, local: LocalId | None) -> Recheck:
        verdict, body = self._answer(external_id, f"{self.base_url}/api/info.json", params={"id": external_id})
        if verdict is not None:
            return verdict
        children = (body or {}).get("data", {}).get("children") if isinstance(body, dict) else None
        if not isinstance(children, list):
            return self._unknown(external_id, "could not check: not a Reddit listing")
        if not children:
            return Recheck(self.source, external_id, PostState.deleted, "deleted on platform (not in listing)")
        data = children[0].get("data", {}) if isinstance(children[0], dict) else {}
        if data.get("removed_by_category"):
            return Recheck(
                self.source, external_id, PostState.deleted, f"removed on platform ({data['removed_by_category']})"
            )
        for key in ("author", "selftext", "body"):
            if data.get(key) in _MARKERS:
                return Recheck(self.source, external_id, PostState.deleted, f"deleted on platform ({key} {data[key]})")
        return self._exists(external_id)


class BlueskyChecker(_Checker):
    """GET app.bsky.feed.getPosts?uris=<at-uri>; a post missing from the answer is deleted or hidden."""

    source = "bluesky"

    def _check(self, external_id: str, url: str | None, local: LocalId | None) -> Recheck:
        verdict, body = self._answer(
            external_id, f"{self.base_url}/xrpc/app.bsky.feed.getPosts", params={"uris": external_id}
        )
        if verdict is not None:
            return verdict
        posts = body.get("posts") if isinstance(body, dict) else None
        if not isinstance(posts, list):
            return self._unknown(external_id, "could not check: no posts list in the answer")
        if not any(isinstance(p, dict) and p.get("uri") == external_id for p in posts):
            return Recheck(
                self.source, external_id, PostState.deleted, "deleted on platform, or the account is taken down"
            )
        return self._exists(external_id)


class XChecker(_Checker):
    """GET /2/tweets?ids=<id>; 'resource-not-found' is deleted, 'not-authorized' is protected or suspended."""

    source = "x"

    def _check(self, external_id: str, url: str | None, local: LocalId | None) -> Recheck:
        verdict, body = self._answer(external_id, f"{self.base_url}/2/tweets", params={"ids": external_id})
        if verdict is not None:
            return verdict
        if not isinstance(body, dict):
            return self._unknown(external_id, "could not check: not a JSON object")
        if any(isinstance(t, dict) and t.get("id") == external_id for t in body.get("data") or []):
            return self._exists(external_id)
        for error in body.get("errors") or []:
            if not isinstance(error, dict) or error.get("value", error.get("resource_id")) not in (external_id, None):
                continue
            kind = str(error.get("type", "")) + " " + str(error.get("detail", ""))
            if "not-authorized" in kind or "suspended" in kind.lower():
                return Recheck(self.source, external_id, PostState.unavailable, "account protected or suspended")
            if "not-found" in kind:
                return Recheck(self.source, external_id, PostState.deleted, "deleted on platform (resource-not-found)")
        return self._unknown(external_id, "could not check: the tweet is neither returned nor reported missing")


T = TypeVar("T")


def sample(pool: Mapping[str, Sequence[T]], per_source: int, rng: random.Random | None = None) -> list[T]:
    """At most `per_source` items of each source's pool, drawn at random so that every stored post is
    re-checked now and then, not only the newest ones."""
    rng = rng or random.Random()
    chosen: list[T] = []
    for source in sorted(pool):
        items = list(pool[source])
        chosen += items if len(items) <= per_source else rng.sample(items, per_source)
    return chosen
