"""Reddit: public search or a subreddit's newest posts / comments, from Reddit's JSON listings.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    RedditCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'reddit:<query name>'
        query: Query | str | None = None,   # search (sort=new), rendered to Reddit's AND/OR/NOT syntax
        subreddit: str | None = None,       # restrict to one subreddit; without a query: its listing
        comments: bool = False,             # without a query: /r/<subreddit>/comments instead of /new
        base_url: str = "https://www.reddit.com",  # 'https://oauth.reddit.com' with an access token
        access_token: str | None = None,
        page_size: int = 100,               # Reddit's max `limit`
        max_pages: int = 10,
        overlap_s: int = 0,                 # read on this far below the floor (late-indexed items)
        finishing: Finishing | None = None,
    )

Listings are newest first and paged backwards with `after=<fullname>`. The cursor is a
`listener.cursor.Watermark` whose floor and ceiling are `created_utc` seconds and whose resume position
is the `after` fullname: a sweep stops at the first item older than the floor (equal times are fetched
again and deduplicated by the upsert), and a sweep cut by `max_pages` resumes its backlog next time.
Deleted and removed posts and comments are skipped. `x-ratelimit-*` is honoured by `Http`.
`app_access_token(http, client_id, client_secret)` gets the application-only OAuth token Reddit's API
wants (client credentials grant).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from listener.base import BuildContext, Collector, Page, SourceBase
from listener.cursor import LATE_INDEXING_OVERLAP_S, Watermark
from listener.http import Http, HttpError, decode_json
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, page_error, source_error
from listener.query import Query, parse, to_boolean_search

SITE = "https://www.reddit.com"
GONE = frozenset({"[deleted]", "[removed]"})


def thing_to_mention(thing: Mapping[str, Any]) -> Converted:
    """A listing child (`t3` post or `t1` comment) as a Mention."""
    kind, data = thing["kind"], thing["data"]
    author = data["author"]
    if author in GONE or data.get("body") in GONE or data.get("selftext") in GONE:
        raise Skip("deleted")
    if kind == "t3":
        title = data["title"]
        text = data.get("selftext") or title
        reply_to, thread = None, data["name"]
        replies = data.get("num_comments")
    elif kind == "t1":
        title = data.get("link_title")
        text = data["body"]
        reply_to = data["parent_id"]
        thread = data["link_id"]
        replies = None
    else:
        raise ValueError(f"kind {kind!r} is neither a post (t3) nor a comment (t1)")
    permalink = (data.get("permalink") or "").split("?", 1)[0]  # search adds '?ref=search_posts'
    return Converted(
        Mention(
            source=Platform.reddit,
            external_id=data["name"],
            url=f"{SITE}{permalink}" if permalink else None,
            author=Author(handle=author, profile_url=f"{SITE}/user/{author}"),
            text=text,
            title=title,
            created_at=datetime.fromtimestamp(float(data["created_utc"]), tz=UTC),
            engagement=Engagement(score=data.get("score"), replies=replies),
            reply_to_id=reply_to,
            thread_id=thread,
            raw_hash=payload_hash(data),
        )
    )


def app_access_token(http: Http, client_id: str, client_secret: str, *, base_url: str = SITE) -> tuple[str, float]:
    """An application-only OAuth token (client credentials) and its lifetime in seconds, for
    `RedditCollector(access_token=..., base_url="https://oauth.reddit.com")`."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    response = http.request(
        "POST",
        f"{base_url.rstrip('/')}/api/v1/access_token",
        form={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    if response.status_code != 200:
        raise HttpError(response.url, f"Reddit refused the app credentials: HTTP {response.status_code}")
    body = decode_json(response)
    if not isinstance(body, dict) or "access_token" not in body:
        raise HttpError(response.url, f"Reddit gave no token: {body.get('error') if isinstance(body, dict) else body}")
    return body["access_token"], float(body.get("expires_in", 3600))


class RedditCollector:
    """Search or a subreddit listing. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        query: Query | str | None = None,
        subreddit: str | None = None,
        comments: bool = False,
        base_url: str = SITE,
        access_token: str | None = None,
        page_size: int = 100,
        max_pages: int = 10,
        overlap_s: int = 0,
        finishing: Finishing | None = None,
    ) -> None:
        self.overlap_s = overlap_s
        if query is None and subreddit is None:
            raise ValueError("Reddit: give a query, a subreddit, or both")
        self.http = http
        self.name = name
        self.query = parse(query) if isinstance(query, str) else query
        self.search = to_boolean_search(self.query) if self.query is not None else None
        self.subreddit = subreddit
        self.comments = comments
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self.suffix = "" if access_token else ".json"  # www.reddit.com serves JSON for '.json' paths
        self.page_size = min(page_size, 100)
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()

    def _request(self) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"limit": self.page_size, "raw_json": 1}
        where = f"/r/{self.subreddit or 'all'}"
        if self.search is not None:
            params.update({"q": self.search, "sort": "new", "restrict_sr": bool(self.subreddit)})
            return f"{self.base_url}{where}/search{self.suffix}", params
        listing = "comments" if self.comments else "new"
        return f"{self.base_url}{where}/{listing}{self.suffix}", params

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        floor = float(start.floor) - self.overlap_s if start.floor else None
        url, params = self._request()
        after = start.resume
        newest: str | None = None
        for _ in range(self.max_pages):
            listing = self._fetch(url, {**params, "after": after} if after else params)
            children = [c for c in listing.get("children") or [] if isinstance(c, dict)]
            fresh = [c for c in children if not _below(c, floor)]
            reached_floor = len(fresh) < len(children)
            mentions, rejected = convert_items(self.name, fresh, thing_to_mention, self.finishing)
            times = [t for t in (_created(c) for c in fresh) if t is not None]
            if times:
                page_newest = str(int(max(times)))
                newest = page_newest if newest is None else max(newest, page_newest, key=int)
            after = listing.get("after")
            exhausted = reached_floor or not after
            mark = start.after_page(newest=newest, oldest=after, exhausted=exhausted)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted:
                return

    def _fetch(self, url: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            body = self.http.get_json(url, params=params, headers=self.headers)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if not isinstance(body, dict) or body.get("kind") != "Listing" or not isinstance(body.get("data"), dict):
            raise page_error(self.name, url, "expected a Reddit Listing")
        data: Mapping[str, Any] = body["data"]
        return data


def _below(thing: Mapping[str, Any], floor: float | None) -> bool:
    created = _created(thing)
    return floor is not None and created is not None and created < floor


def _created(thing: Mapping[str, Any]) -> float | None:
    try:
        return float(thing["data"]["created_utc"])
    except (KeyError, TypeError, ValueError):
        return None


# --- overheard.yaml: `kind: reddit` -------------------------------------------------------------------------------


class RedditSource(SourceBase):
    kind: Literal["reddit"]
    subreddits: tuple[str, ...] = Field(default=(), description="Empty: search all of Reddit.")
    base_url: str | None = Field(default=None, description="Leave out for www.reddit.com.")
    access_token_env: str | None = None


def build(source: RedditSource, ctx: BuildContext) -> list[Collector]:
    """One collector per (query, subreddit); no subreddits: one per query over all of Reddit."""
    token = ctx.token(source.access_token_env)
    return [
        RedditCollector(
            ctx.http,
            name=ctx.name(f"{q}@{sub or 'all'}"),
            query=text,
            subreddit=sub,
            access_token=token,
            base_url=source.base_url or SITE,
            overlap_s=LATE_INDEXING_OVERLAP_S,
            finishing=ctx.finishing,
        )
        for q, text in ctx.queries.items()
        for sub in (source.subreddits or (None,))
    ]
