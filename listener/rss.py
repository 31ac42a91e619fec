"""RSS and Atom feeds (news sites, blogs, Google Alerts and other alert feeds), parsed with feedparser.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    FeedCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'rss:<feed name>'
        url: str,                           # the feed URL (user-supplied: the SSRF guard applies)
        max_pages: int = 5,                 # RFC 5005 paged feeds: follow rel="next" this many times
        finishing: Finishing | None = None,
    )

A feed is a window onto its newest entries with no reliable order, so the cursor is not a position but
what we know of the last fetch: the `ETag` / `Last-Modified` for a conditional GET (a 304 costs nothing),
and short hashes of the entry ids handed on last time, so unchanged entries are not handed on again.
Nothing is filtered by date, so a back-dated entry is never lost. Feeds are fetched like a feed reader
does (not crawled), so robots.txt is not consulted; the polite limits of `Http` still apply.

Google Alerts links (`https://www.google.com/url?…&url=<target>`) are unwrapped to the target.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
from pydantic import Field

from listener.base import BuildContext, Collector, Page, SourceBase
from listener.http import Http, HttpError, HttpStatusError, check_content_type
from listener.language import normalise_language
from listener.mention import Author, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, convert_items, html_to_text, page_error, source_error

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
    "application/json",
)


def _id_digest(entry_id: str) -> str:
    return hashlib.sha256(entry_id.encode()).hexdigest()[:16]


def unwrap_alert_link(link: str) -> str:
    """The target of a Google Alerts redirect link; any other link unchanged."""
    parts = urlsplit(link)
    if parts.netloc.endswith("google.com") and parts.path == "/url":
        target = parse_qs(parts.query).get("url")
        if target:
            return target[0]
    return link


def _when(entry: Mapping[str, Any], fallback: Any) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    if fallback:
        return datetime.fromtimestamp(calendar.timegm(fallback), tz=UTC)
    raise ValueError("entry has no published or updated date, and neither has the feed")


def entry_id(entry: Mapping[str, Any], feed_url: str) -> str:
    """A stable id: the entry's own id (or link) where it is a URI; otherwise qualified by the feed host."""
    raw = entry.get("id") or entry.get("link")
    if not raw:
        raise ValueError("entry has neither an id (guid) nor a link")
    return raw if ":" in raw else f"{urlsplit(feed_url).netloc}:{raw}"


def entry_to_mention(entry: Mapping[str, Any], feed: Mapping[str, Any], feed_url: str) -> Converted:
    """One feedparser entry as a Mention."""
    content = entry.get("content") or []
    html = content[0].get("value") if content else entry.get("summary")
    title = html_to_text(entry["title"]) if entry.get("title") else None
    text = html_to_text(html or "") or title or ""
    link = entry.get("link")
    author_name = entry.get("author") or feed.get("title") or urlsplit(feed_url).netloc
    language = (content[0].get("language") if content else None) or feed.get("language")
    return Converted(
        Mention(
            source=Platform.rss,
            external_id=entry_id(entry, feed_url),
            url=unwrap_alert_link(link) if link else None,
            author=Author(handle=author_name, name=entry.get("author"), profile_url=feed.get("link")),
            text=text,
            title=title,
            language=normalise_language(language),
            created_at=_when(entry, feed.get("updated_parsed")),
            raw_hash=payload_hash(dict(entry)),
        )
    )


class FeedCollector:
    """One feed. See the module docstring for the constructor."""

    def __init__(self, http: Http, *, name: str, url: str, max_pages: int = 5, finishing: Finishing | None = None):
        self.http = http
        self.name = name
        self.url = url
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        state = json.loads(cursor) if cursor else {}
        seen: set[str] = set(state.get("seen", []))
        handed: list[str] = []
        url: str | None = self.url
        validators: dict[str, str] = {}
        for page_number in range(self.max_pages):
            assert url is not None
            conditional = state if page_number == 0 else {}
            response_validators, parsed = self._fetch(url, conditional)
            if page_number == 0:
                validators = response_validators
            if parsed is None:  # 304 Not Modified
                yield Page([], [], next_cursor=cursor)
                return
            entries = [e for e in parsed.entries if _safe_digest(e, self.url) not in seen]
            convert = partial(entry_to_mention, feed=parsed.feed, feed_url=self.url)
            mentions, rejected = convert_items(self.name, entries, convert, self.finishing)
            handed.extend(d for d in (_safe_digest(e, self.url) for e in parsed.entries) if d)
            url = _next_page(parsed, url)
            last = url is None or page_number + 1 == self.max_pages
            next_state = {**validators, "seen": sorted(set(handed))} if last else state
            yield Page(mentions, rejected, next_cursor=json.dumps(next_state, sort_keys=True) if last else cursor)
            if last:
                return

    def _fetch(self, url: str, state: Mapping[str, Any]) -> tuple[dict[str, str], Any]:
        headers = {"Accept": ", ".join(FEED_TYPES[:5]) + ", */*;q=0.1"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        try:
            response = self.http.request("GET", url, headers=headers)
            if response.status_code == 304:
                return {}, None
            if not 200 <= response.status_code < 300:
                raise HttpStatusError(response.url, f"HTTP {response.status_code}", status=response.status_code)
            check_content_type(response, FEED_TYPES)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        parsed = feedparser.parse(response.content, response_headers={"content-location": response.url})
        if parsed.bozo and (not parsed.entries or not _ends_like_a_feed(response.content)):
            # Small XML errors (an undefined entity) are common and feedparser reads past them; a feed cut off
            # before its closing tag has half-read entries, so the page is refused rather than guessed at.
            raise page_error(self.name, url, f"not a readable feed: {parsed.get('bozo_exception')}")
        validators = {}
        if response.headers.get("etag"):
            validators["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            validators["last_modified"] = response.headers["last-modified"]
        return validators, parsed


def _ends_like_a_feed(body: bytes) -> bool:
    tail = body.rstrip()[-64:].lower()
    return tail.endswith((b"</rss>", b"</feed>", b"</rdf:rdf>", b"}"))


def _next_page(parsed: Any, current: str) -> str | None:
    """RFC 5005 paged feeds: the rel="next" link, resolved against the current page."""
    for link in parsed.feed.get("links", []):
        if link.get("rel") == "next" and link.get("href"):
            target = urljoin(current, link["href"])
            # Paging stays on the feed's own site; a "next" elsewhere ends the sweep.
            return target if urlsplit(target).netloc == urlsplit(current).netloc else None
    return None


def _safe_digest(entry: Mapping[str, Any], feed_url: str) -> str | None:
    try:
        return _id_digest(entry_id(entry, feed_url))
    except ValueError:
        return None


# --- overheard.yaml: `kind: rss` ----------------------------------------------------------------------------------


class RssSource(SourceBase):
    kind: Literal["rss"]
    feeds: tuple[str, ...] = Field(min_length=1)


def build(source: RssSource, ctx: BuildContext) -> list[Collector]:
    """One collector per feed: a feed is read whole, not searched."""
    return [FeedCollector(ctx.http, name=ctx.name(url), url=url, finishing=ctx.finishing) for url in source.feeds]
