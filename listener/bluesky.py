"""Bluesky: `app.bsky.feed.searchPosts` on an AppView or PDS (XRPC over HTTP).

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    BlueskyCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'bluesky:<query name>'
        search: str,                        # sent as `q`; Bluesky's search has no OR, so the shell makes
                                            # one collector per alternative (`BuildContext.plain_searches`)
        base_url: str = "https://public.api.bsky.app",
        access_token: str | None = None,    # a session JWT (see `create_session`) where search needs one
        language: str | None = None,        # `lang` filter
        page_size: int = 100,               # 1..100
        max_pages: int = 10,
        overlap_s: int = 0,                 # ask again this far below the floor (late-indexed posts)
        finishing: Finishing | None = None,
    )

Results are asked for with `sort=latest`, newest first, paged with the opaque `cursor`. Our own cursor is
a `listener.cursor.Watermark` over each post's sort time (the earlier of `record.createdAt` and
`indexedAt`, which is what `since`/`until` filter on): `since` = floor (inclusive), `until` = resume
(exclusive, so it is sent one millisecond later to fetch the boundary post again). `RateLimit-*` headers
are honoured by `Http`. The `bot` self-label is recorded as the 'bot' signal. Posts of authors carrying the
`!no-unauthenticated` self-label (they asked not to be shown to logged-out viewers) are not collected.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from listener.base import BuildContext, Collector, Page, SourceBase
from listener.cursor import LATE_INDEXING_OVERLAP_S, Watermark
from listener.http import Http, HttpError, decode_json
from listener.language import normalise_language
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, page_error, source_error

SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
NO_UNAUTHENTICATED = "!no-unauthenticated"
"""Self-label of authors who asked not to be shown to logged-out viewers; we honour it by not collecting."""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sort_time(post: Mapping[str, Any]) -> datetime:
    """The time Bluesky sorts and filters `sort=latest` search by."""
    created = _time(post["record"]["createdAt"])
    indexed = post.get("indexedAt")
    return min(created, _time(indexed)) if indexed else created


def post_to_mention(post: Mapping[str, Any]) -> Converted:
    """One `app.bsky.feed.defs#postView` as a Mention."""
    record = post["record"]
    author = post["author"]
    uri = post["uri"]
    rkey = uri.rsplit("/", 1)[-1]
    handle = author["handle"]
    reply = record.get("reply") or {}
    labels = {label.get("val") for label in author.get("labels") or []}
    if NO_UNAUTHENTICATED in labels:
        raise Skip("author opted out of logged-out visibility")
    langs = record.get("langs") or []
    return Converted(
        Mention(
            source=Platform.bluesky,
            external_id=uri,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            author=Author(
                handle=handle,
                name=author.get("displayName") or None,
                followers=author.get("followersCount"),
                profile_url=f"https://bsky.app/profile/{handle}",
            ),
            text=record["text"],
            language=normalise_language(langs[0]) if langs else None,
            created_at=_time(record["createdAt"]),
            engagement=Engagement(
                likes=post.get("likeCount"),
                reposts=post.get("repostCount"),
                replies=post.get("replyCount"),
                quotes=post.get("quoteCount"),
            ),
            reply_to_id=(reply.get("parent") or {}).get("uri"),
            thread_id=(reply.get("root") or {}).get("uri") or uri,
            raw_hash=payload_hash(post),
        ),
        platform_bot="bot" in labels,
    )


def create_session(http: Http, identifier: str, app_password: str, *, pds_url: str = "https://bsky.social") -> str:
    """Log in with an app password (`com.atproto.server.createSession`) and return the access JWT to pass
    as `BlueskyCollector(access_token=...)`. Use an app password, never the account password."""
    url = pds_url.rstrip("/") + "/xrpc/com.atproto.server.createSession"
    response = http.request("POST", url, json_body={"identifier": identifier, "password": app_password})
    body = decode_json(response) if response.content else {}
    if response.status_code != 200 or not isinstance(body, dict) or "accessJwt" not in body:
        reason = body.get("message") or body.get("error") if isinstance(body, dict) else None
        raise HttpError(url, f"Bluesky refused the login: {reason or f'HTTP {response.status_code}'}")
    return str(body["accessJwt"])


class BlueskyCollector:
    """Post search for one term. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        search: str,
        base_url: str = "https://public.api.bsky.app",
        access_token: str | None = None,
        language: str | None = None,
        page_size: int = 100,
        max_pages: int = 10,
        overlap_s: int = 0,
        finishing: Finishing | None = None,
    ) -> None:
        if not search.strip():
            raise ValueError("Bluesky: search must not be empty")
        self.overlap_s = overlap_s
        self.http = http
        self.name = name
        self.search = search
        self.url = base_url.rstrip("/") + SEARCH_PATH
        self.headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self.language = language
        self.page_size = max(1, min(page_size, 100))
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        params: dict[str, Any] = {"q": self.search, "sort": "latest", "limit": self.page_size}
        if self.language:
            params["lang"] = self.language
        if start.floor:
            params["since"] = _stamp(_time(start.floor) - timedelta(seconds=self.overlap_s))
        if start.resume:
            params["until"] = _stamp(_time(start.resume) + timedelta(milliseconds=1))
        newest: str | None = None
        page_cursor: str | None = None
        for _ in range(self.max_pages):
            body = self._fetch({**params, "cursor": page_cursor} if page_cursor else params)
            posts = [p for p in body["posts"] if isinstance(p, dict)]
            mentions, rejected = convert_items(self.name, posts, post_to_mention, self.finishing)
            times = sorted(_stamp(t) for t in (_safe_sort_time(p) for p in posts) if t is not None)
            if times:
                newest = times[-1] if newest is None else max(newest, times[-1], key=_time)
            page_cursor = body.get("cursor")
            exhausted = not page_cursor or not posts
            mark = start.after_page(newest=newest, oldest=times[0] if times else None, exhausted=exhausted, order=_time)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted:
                return

    def _fetch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            body = self.http.get_json(self.url, params=params, headers=self.headers)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if not isinstance(body, dict) or not isinstance(body.get("posts"), list):
            raise page_error(self.name, self.url, "expected an object with a 'posts' list")
        return body


def _safe_sort_time(post: Mapping[str, Any]) -> datetime | None:
    try:
        return sort_time(post)
    except (KeyError, TypeError, ValueError):
        return None


# --- overheard.yaml: `kind: bluesky` ------------------------------------------------------------------------------


class BlueskySource(SourceBase):
    kind: Literal["bluesky"]
    service: str = "https://public.api.bsky.app"
    language: str | None = None
    access_token_env: str | None = None


def build(source: BlueskySource, ctx: BuildContext) -> list[Collector]:
    """One post search per query."""
    token = ctx.token(source.access_token_env)
    return [
        BlueskyCollector(
            ctx.http,
            name=name,
            search=search,
            base_url=source.service,
            access_token=token,
            language=source.language,
            overlap_s=LATE_INDEXING_OVERLAP_S,
            finishing=ctx.finishing,
        )
        for name, _, search in ctx.plain_searches()
    ]
