"""Reddit: search or a subreddit's newest posts / comments through the Data API on oauth.reddit.com.

Reddit's Data API wants OAuth and an identifying User-Agent (`<platform>:<app id>:<version> (by /u/<name>)`);
logged-out `.json` pages are blocked for servers. The builder gets an application-only token with the app's
client id and secret (client credentials grant, `RedditAppToken`), renews it before it expires, and sends the
configured User-Agent on every request. The Data API has no comment search: comments are read from the chosen
subreddits' comment listings and kept when they match a query locally.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    RedditCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'reddit:<query name>'
        query: Query | str | None = None,   # search (sort=new), rendered to Reddit's AND/OR/NOT syntax
        subreddit: str | None = None,       # restrict to one subreddit; without a query: its listing
        comments: bool = False,             # without a query: /r/<subreddit>/comments instead of /new
        base_url: str = "https://www.reddit.com",  # 'https://oauth.reddit.com' with a token
        access_token: str | None = None,    # a fixed token; or
        token: RedditAppToken | None = None,  # the app token, renewed before it expires and after a 401
        user_agent: str | None = None,      # Reddit's form: '<platform>:<app id>:<version> (by /u/<name>)'
        only_matching: bool = False,        # keep only items matching a configured query (comment listings)
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
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from listener.base import BuildContext, Collector, Page, SourceBase, SourceNotAvailable
from listener.cursor import LATE_INDEXING_OVERLAP_S, Watermark
from listener.engagement import RedditEngagement
from listener.http import Http, HttpError, HttpStatusError, decode_json
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, page_error, source_error
from listener.query import Query, parse, to_boolean_search
from listener.recheck import RedditChecker

SITE = "https://www.reddit.com"
OAUTH_API = "https://oauth.reddit.com"
TOKEN_RENEW_MARGIN_S = 300.0
"""An app token is renewed this long before Reddit says it expires (tokens live an hour)."""
USER_AGENT_FORM = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+ \(by /u/[A-Za-z0-9_-]{3,20}\)$")
"""Reddit's required User-Agent: `<platform>:<app id>:<version> (by /u/<reddit username>)`."""
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


def app_access_token(
    http: Http, client_id: str, client_secret: str, *, base_url: str = SITE, user_agent: str | None = None
) -> tuple[str, float]:
    """An application-only OAuth token (client credentials) and its lifetime in seconds, for
    `RedditCollector(access_token=..., base_url="https://oauth.reddit.com")`."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", **({"User-Agent": user_agent} if user_agent else {})}
    response = http.request(
        "POST",
        f"{base_url.rstrip('/')}/api/v1/access_token",
        form={"grant_type": "client_credentials"},
        headers=headers,
    )
    if response.status_code != 200:
        raise HttpError(
            response.url,
            f"Reddit refused the app credentials (HTTP {response.status_code}): check the app's client id and secret "
            "at https://www.reddit.com/prefs/apps and that Reddit approved the app for the Data API",
            status=response.status_code,
        )
    body = decode_json(response)
    if not isinstance(body, dict) or "access_token" not in body:
        raise HttpError(response.url, f"Reddit gave no token: {body.get('error') if isinstance(body, dict) else body}")
    return body["access_token"], float(body.get("expires_in", 3600))


class RedditAppToken:
    """The application-only OAuth token of one Reddit app, fetched on first use and again `TOKEN_RENEW_MARGIN_S`
    before it expires (or at once after Reddit answers 401). Shared by the collectors of one source."""

    def __init__(
        self,
        http: Http,
        client_id: str,
        client_secret: str,
        *,
        auth_url: str = SITE,
        user_agent: str | None = None,
    ) -> None:
        self.http = http
        self.client_id = client_id
        self.client_secret = client_secret
        self.auth_url = auth_url
        self.user_agent = user_agent
        self._token: str | None = None
        self._expires_at = 0.0

    def header(self) -> dict[str, str]:
        """The Authorization header, with a token valid for at least the renewal margin."""
        if self._token is None or self.http.clock() >= self._expires_at - TOKEN_RENEW_MARGIN_S:
            self._token, lifetime = app_access_token(
                self.http, self.client_id, self.client_secret, base_url=self.auth_url, user_agent=self.user_agent
            )
            self._expires_at = self.http.clock() + lifetime
        return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> None:
        """Drop the token Reddit refused, so the next request fetches a new one."""
        self._token = None


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
        token: RedditAppToken | None = None,
        user_agent: str | None = None,
        only_matching: bool = False,
        page_size: int = 100,
        max_pages: int = 10,
        overlap_s: int = 0,
        finishing: Finishing | None = None,
    ) -> None:
        self.overlap_s = overlap_s
        self.token = token
        self.only_matching = only_matching
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
        if user_agent:
            self.headers["User-Agent"] = user_agent
        # www.reddit.com serves JSON for '.json' paths; oauth.reddit.com always does
        self.suffix = "" if access_token or token else ".json"
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
            if self.only_matching:
                mentions = [m for m in mentions if m.matched_queries]
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
            try:
                body = self.http.get_json(url, params=params, headers=self._headers())
            except HttpStatusError as exc:
                if exc.status != 401 or self.token is None:
                    raise
                self.token.forget()  # revoked or expired early: one new token, one more try
                body = self.http.get_json(url, params=params, headers=self._headers())
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if not isinstance(body, dict) or body.get("kind") != "Listing" or not isinstance(body.get("data"), dict):
            raise page_error(self.name, url, "expected a Reddit Listing")
        data: Mapping[str, Any] = body["data"]
        return data

    def _headers(self) -> dict[str, str]:
        return {**self.headers, **(self.token.header() if self.token else {})}


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
    comments: bool = Field(
        default=True,
        description="Also read the chosen subreddits' new comments, kept when they match a query (the Data API "
        "has no comment search).",
    )
    user_agent: str | None = Field(
        default=None,
        description="Reddit's required form: '<platform>:<app id>:<version> (by /u/<reddit username>)'.",
    )
    client_id_env: str = Field(default="OVERHEARD_REDDIT_CLIENT_ID", description="Env var with the app's client id.")
    client_secret_env: str = Field(
        default="OVERHEARD_REDDIT_CLIENT_SECRET", description="Env var with the app's client secret."
    )
    access_token_env: str | None = Field(
        default=None, description="Env var with a token obtained elsewhere, instead of the client credentials."
    )
    base_url: str | None = Field(default=None, description="Leave out for oauth.reddit.com.")
    auth_url: str | None = Field(default=None, description="Where tokens come from; leave out for www.reddit.com.")

    @field_validator("user_agent")
    @classmethod
    def _reddit_form(cls, value: str | None) -> str | None:
        if value is not None and not USER_AGENT_FORM.match(value):
            raise ValueError(
                f"{value!r} is not in Reddit's form '<platform>:<app id>:<version> (by /u/<reddit username>)', "
                "e.g. 'server:overheard-acme:1.0 (by /u/acme_social)'"
            )
        return value


def build(source: RedditSource, ctx: BuildContext) -> list[Collector]:
    """One search per (query, subreddit) (no subreddits: one per query over all of Reddit), plus one comment
    listing per subreddit, all on oauth.reddit.com with the app's token and Reddit's User-Agent."""
    if source.user_agent is None:
        raise SourceNotAvailable(
            f"source '{source.name}': set user_agent in Reddit's form "
            "'<platform>:<app id>:<version> (by /u/<reddit username>)'"
        )
    access_token = ctx.token(source.access_token_env)
    token = None
    if access_token is None:
        client_id = ctx.token(source.client_id_env, required=True) or ""
        secret = ctx.token(source.client_secret_env, required=True) or ""
        token = RedditAppToken(
            ctx.http, client_id, secret, auth_url=source.auth_url or SITE, user_agent=source.user_agent
        )
    common: dict[str, Any] = {
        "access_token": access_token,
        "token": token,
        "user_agent": source.user_agent,
        "base_url": source.base_url or OAUTH_API,
        "overlap_s": LATE_INDEXING_OVERLAP_S,
        "finishing": ctx.finishing,
    }
    searches: list[Collector] = [
        RedditCollector(ctx.http, name=ctx.name(f"{q}@{sub or 'all'}"), query=text, subreddit=sub, **common)
        for q, text in ctx.queries.items()
        for sub in (source.subreddits or (None,))
    ]
    comments: list[Collector] = [
        RedditCollector(
            ctx.http, name=ctx.name(f"comments@{sub}"), subreddit=sub, comments=True, only_matching=True, **common
        )
        for sub in source.subreddits
        if source.comments
    ]
    return searches + comments


def api_headers(
    source: RedditSource, http: Http, secret: Callable[[str], str | None]
) -> Callable[[], dict[str, str]] | None:
    """Fresh headers for a Data API call outside a sweep (the app token and the User-Agent); None without
    the credentials or the User-Agent."""
    client_id, client_secret = secret(source.client_id_env), secret(source.client_secret_env)
    fixed = secret(source.access_token_env) if source.access_token_env else None
    if source.user_agent is None or not (fixed or (client_id and client_secret)):
        return None
    agent = {"User-Agent": source.user_agent}
    if fixed:
        return lambda: {**agent, "Authorization": f"Bearer {fixed}"}
    token = RedditAppToken(
        http, client_id or "", client_secret or "", auth_url=source.auth_url or SITE, user_agent=source.user_agent
    )
    return lambda: {**agent, **token.header()}


def engagement_lookup(source: RedditSource, ctx: BuildContext) -> RedditEngagement | None:
    """Score and comment-count lookups with the source's app token and User-Agent; None without credentials."""
    headers = api_headers(source, ctx.http, ctx.secret)
    return RedditEngagement(ctx.http, source.base_url or OAUTH_API, headers) if headers else None


def deletion_checker(source: RedditSource, ctx: BuildContext) -> RedditChecker | None:
    """The re-check for deletions, on oauth.reddit.com with the app token; None without credentials."""
    headers = api_headers(source, ctx.http, ctx.secret)
    return RedditChecker(ctx.http, source.base_url or OAUTH_API, headers=headers) if headers else None
