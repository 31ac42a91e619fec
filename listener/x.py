"""X (Twitter) recent search through tweepy's API v2 `Client`, with every request going through our `Http`.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    XCollector(
        http: Http,                         # the shared polite client
        *,
        name: str,                          # cursor key, conventionally 'x:<query name>'
        query: Query | str,                 # our boolean query; rendered to X syntax with -is:retweet
        bearer_token: str | None = None,    # default: $X_BEARER_TOKEN (app-only auth)
        language: str | None = None,        # adds lang:<code>
        exclude_retweets: bool = True,
        search: str | None = None,          # the rendered X query; default: rendered from `query`
        base_url: str = "https://api.twitter.com",
        page_size: int = 100,               # 10..100, X's max_results
        max_pages: int = 10,                # per sweep; the cursor keeps the rest for the next sweep
        finishing: Finishing | None = None, # query tagging, language, signals
    )

Requests ask for the author expansion (followers, verified) and `public_metrics`. The cursor is a
`listener.cursor.Watermark` over tweet ids: `since_id` = floor, `until_id` = resume, `next_token` pages
within a sweep. A tweet whose author is missing from `includes` is quarantined rather than guessed.

tweepy is kept for what it is good at (endpoint parameters, error classes); its session is replaced by
`_HttpSession`, which sends tweepy's requests through `Http` to `base_url` — that is also how tests point
it at a local server.
"""

from __future__ import annotations

import calendar
import json
import logging
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

import requests
import tweepy
from pydantic import Field

from listener.base import BuildContext, Collector, Page, Quota, SourceBase, SourceError
from listener.cursor import Watermark
from listener.engagement import XEngagement
from listener.http import Http, HttpError, HttpStatusError, RateLimited
from listener.language import normalise_language
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, convert_items, page_error, source_error
from listener.query import X_QUERY_LIMIT, Query, parse, to_x_queries, to_x_query
from listener.recheck import XChecker

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
RECENT_SEARCH_REACH = timedelta(days=7)
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids carry ms since this instant in their top 42 bits

TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "edit_history_tweet_ids",
    "in_reply_to_user_id",
    "lang",
    "public_metrics",
    "referenced_tweets",
]
USER_FIELDS = ["name", "username", "public_metrics", "verified"]


class _HttpSession:
    """What tweepy needs of a `requests.Session` (`request(...)`), implemented with our `Http`."""

    def __init__(self, http: Http, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
    ) -> requests.Response:
        if auth is not None:
            raise ValueError("user-context (OAuth 1.0a) requests are not supported; use an app bearer token")
        if url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        return self.http.request(method, url, params=params, json_body=json, headers=headers)


def _client(http: Http, base_url: str, bearer_token: str) -> tweepy.Client:
    client = tweepy.Client(bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False)
    client.session = _HttpSession(http, base_url)
    client.user_agent = http.user_agent
    return client


def snowflake_time(tweet_id: str) -> datetime:
    """When a tweet was posted, read from its id (used when `created_at` was not returned)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, tz=UTC)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tweet_to_mention(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> Converted:
    """One v2 tweet object (plus `includes.users` by id) as a Mention."""
    author_id = tweet.get("author_id")
    user = users.get(author_id) if author_id else None
    if user is None:
        raise ValueError(f"author {author_id or '(no author_id)'} not in includes.users; request expansions=author_id")
    user_metrics = user.get("public_metrics") or {}
    metrics = tweet.get("public_metrics") or {}
    references = {ref["type"]: ref["id"] for ref in tweet.get("referenced_tweets") or []}
    tweet_id = str(tweet["id"])
    # An edit is a new tweet id listing the whole history, original first: all versions are one mention.
    history = [str(i) for i in tweet.get("edit_history_tweet_ids") or []]
    original = history[0] if history else tweet_id
    username = user["username"]
    created = tweet.get("created_at")
    return Converted(
        Mention(
            source=Platform.x,
            external_id=original,
            local_id=tweet_id if tweet_id != original else None,
            url=f"https://x.com/{username}/status/{tweet_id}",
            author=Author(
                handle=username,
                name=user.get("name"),
                followers=user_metrics.get("followers_count"),
                verified=user.get("verified"),
                profile_url=f"https://x.com/{username}",
            ),
            text=tweet["text"],
            language=normalise_language(tweet.get("lang")),
            created_at=_parse_time(created) if created else snowflake_time(tweet_id),
            engagement=Engagement(
                likes=metrics.get("like_count"),
                reposts=metrics.get("retweet_count"),
                replies=metrics.get("reply_count"),
                quotes=metrics.get("quote_count"),
                impressions=metrics.get("impression_count"),
            ),
            reply_to_id=references.get("replied_to"),
            thread_id=tweet.get("conversation_id"),
            signals=(f"quote_of:{references['quoted']}",) if "quoted" in references else (),
            raw_hash=payload_hash(tweet),
        )
    )


USAGE_PATH = "/2/usage/tweets"
USAGE_REFRESH_S = 15 * 60.0
"""How long the project's usage read from X is trusted, counting reads locally meanwhile."""


class XUsage:
    """The X project's monthly post reads (`GET /2/usage/tweets`) against its cap and the configured budget.

    Shared by the collectors of one source: read from X at most every `USAGE_REFRESH_S`, counted locally in
    between. A sweep asks `allow(page_size)` before each request, so it stops *before* the cap or budget
    rather than after X refused (and billed) a page. X counts a post once per cycle however often it is
    read, so the local count can only overestimate.
    """

    def __init__(
        self, http: Http, *, base_url: str, bearer_token: str, monthly_budget: int | None, source: str
    ) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + USAGE_PATH
        self.headers = {"Authorization": f"Bearer {bearer_token}"}
        self.monthly_budget = monthly_budget
        self.source = source
        self.used: int | None = None
        self.project_cap: int | None = None
        self.reset_day: int | None = None
        self._read_at: float | None = None

    def refresh(self, *, force: bool = False) -> None:
        """Read the usage from X, unless it was read recently. A refused read leaves what we knew."""
        now = self.http.clock()
        if not force and self._read_at is not None and now - self._read_at < USAGE_REFRESH_S:
            return
        try:
            body = self.http.get_json(self.url, headers=self.headers)
        except HttpError as exc:
            log.warning("x.usage_unavailable", extra={"source": self.source, "reason": str(exc)})
            self._read_at = now
            return
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict):
            self.used = _int(data.get("project_usage"))
            self.project_cap = _int(data.get("project_cap"))
            self.reset_day = _int(data.get("cap_reset_day"))
        self._read_at = now

    @property
    def cap(self) -> int | None:
        """The lower of X's cap on the project and the configured budget."""
        known = [c for c in (self.project_cap, self.monthly_budget) if c is not None]
        return min(known) if known else None

    def count(self, posts: int) -> None:
        if self.used is not None:
            self.used += posts

    def refusal(self, name: str, wanted: int) -> SourceError | None:
        """Why a request for `wanted` more posts must not be sent, or None when it may."""
        self.refresh()
        cap = self.cap
        if self.used is None or cap is None or self.used + wanted <= cap:
            return None
        until = self.resets_at()
        wait = (until.timestamp() - self.http.clock()) if until else None
        when = f"; resets {until:%Y-%m-%d}" if until else ""
        if self.project_cap is not None and self.used >= self.project_cap:
            reason = f"X usage cap reached (UsageCapExceeded): {self.used:,} of {self.project_cap:,} posts read this month{when}"
        else:
            reason = (
                f"stopped before the monthly read budget of {cap:,} posts: {self.used:,} read this month, a page "
                f"could cost {wanted:,} more{when} (raise x.monthly_post_budget to read on)"
            )
        return SourceError(name, reason, retry_after_s=wait)

    def resets_at(self) -> datetime | None:
        """When the current monthly cycle ends: the next `cap_reset_day` (UTC midnight)."""
        start, end = self._cycle()
        return end if start else None

    def _cycle(self) -> tuple[datetime | None, datetime | None]:
        if self.reset_day is None or not 1 <= self.reset_day <= 31:
            return None, None
        today = datetime.fromtimestamp(self.http.clock(), tz=UTC)
        this_month = _on_day(today.year, today.month, self.reset_day)
        if this_month <= today:
            year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
            return this_month, _on_day(year, month, self.reset_day)
        year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
        return _on_day(year, month, self.reset_day), this_month

    def quota(self) -> Quota | None:
        """Use so far, the cap, and the month's projected use at this cycle's pace."""
        self.refresh()
        if self.used is None:
            return None
        start, end = self._cycle()
        projected = None
        if start and end:
            elapsed = self.http.clock() - start.timestamp()
            if elapsed > 0:
                projected = round(self.used * (end - start).total_seconds() / elapsed)
        return Quota(self.source, "posts/month", self.used, self.cap, projected, end)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _on_day(year: int, month: int, day: int) -> datetime:
    """`day` of that month at midnight UTC, or the month's last day when it is shorter."""
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, min(day, last), tzinfo=UTC)


class XCollector:
    """Recent search for one configured query. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        query: Query | str,
        bearer_token: str | None = None,
        language: str | None = None,
        exclude_retweets: bool = True,
        search: str | None = None,
        base_url: str = TWEEPY_HOST,
        page_size: int = 100,
        max_pages: int = 10,
        usage: XUsage | None = None,
        finishing: Finishing | None = None,
    ) -> None:
        token = bearer_token or os.environ.get("X_BEARER_TOKEN")
        self.usage = usage
        if not token:
            raise ValueError("X needs a bearer token: set X_BEARER_TOKEN in the environment")
        if not 10 <= page_size <= 100:
            raise ValueError("page_size: X recent search returns 10 to 100 tweets per page")
        self.name = name
        self.query = query if isinstance(query, Query) else parse(query)
        self.search = search or to_x_query(self.query, exclude_retweets=exclude_retweets, language=language)
        if len(self.search) > X_QUERY_LIMIT:
            raise ValueError(f"X query is {len(self.search)} characters, past X's limit of {X_QUERY_LIMIT}")
        self.page_size = page_size
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()
        self.http = http
        self.client = _client(http, base_url, token)

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        newest: str | None = None
        next_token: str | None = None
        for _ in range(self.max_pages):
            if self.usage is not None and (refused := self.usage.refusal(self.name, self.page_size)) is not None:
                raise refused
            body = self._search(start, next_token)
            if self.usage is not None:
                self.usage.count(len(body.get("data") or []))
            meta = body.get("meta") or {}
            users = {str(u["id"]): u for u in (body.get("includes") or {}).get("users", []) if "id" in u}
            mentions, rejected = convert_items(
                self.name, body.get("data") or [], partial(tweet_to_mention, users=users), self.finishing
            )
            if meta.get("newest_id") and (newest is None or int(meta["newest_id"]) > int(newest)):
                newest = str(meta["newest_id"])
            next_token = meta.get("next_token")
            mark = start.after_page(newest=newest, oldest=meta.get("oldest_id"), exhausted=next_token is None)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if next_token is None:
                return

    def quota(self) -> Quota | None:
        """The project's monthly reads, for `overheard sources`; None without usage accounting."""
        return self.usage.quota() if self.usage is not None else None

    def _search(self, start: Watermark, next_token: str | None) -> dict[str, Any]:
        # Recent search only reaches back 7 days and refuses older since_id/until_id: after a long outage
        # the floor is replaced by the oldest time X still serves (what is older is beyond reach anyway).
        horizon = datetime.fromtimestamp(self.http.clock(), tz=UTC) - RECENT_SEARCH_REACH
        since_id = start.floor if start.floor and snowflake_time(start.floor) > horizon else None
        until_id = start.resume if start.resume and snowflake_time(start.resume) > horizon else None
        if start.floor and since_id is None:
            log.warning("x.floor_out_of_reach", extra={"source": self.name, "floor": start.floor})
        try:
            body = self.client.search_recent_tweets(
                self.search,
                max_results=self.page_size,
                since_id=since_id,
                until_id=until_id,
                start_time=None if since_id or not start.floor else horizon + timedelta(minutes=1),
                next_token=next_token,
                expansions=["author_id"],
                tweet_fields=TWEET_FIELDS,
                user_fields=USER_FIELDS,
            )
        except RateLimited as exc:
            if self.usage is not None:  # a 429 is also how X says the month's cap is used up
                self.usage.refresh(force=True)
                if (capped := self.usage.refusal(self.name, 1)) is not None:
                    raise capped from exc
            raise source_error(self.name, exc) from exc
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        except tweepy.HTTPException as exc:
            if exc.response is not None and exc.response.status_code == 402:
                raise SourceError(
                    self.name,
                    f"X API credits exhausted (HTTP 402 {'; '.join(exc.api_messages) or 'Payment Required'}): "
                    "add credits or change the plan in the X developer console",
                ) from exc
            raise SourceError(self.name, f"X API refused the search: {exc}") from exc
        except tweepy.TweepyException as exc:
            raise SourceError(self.name, f"X API refused the search: {exc}") from exc
        except ValueError as exc:  # requests' JSONDecodeError, invalid UTF-8
            raise page_error(self.name, f"{TWEEPY_HOST}/2/tweets/search/recent", f"unreadable JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise page_error(self.name, "/2/tweets/search/recent", "response is not a JSON object")
        return body


# --- filtered stream --------------------------------------------------------------------------------------

STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"


class XFilteredStream:
    """X's filtered stream: our queries become stream rules (tagged with the query name), matching tweets
    arrive as they are posted. A sweep listens for at most `listen_s` seconds or `max_mentions` tweets and
    yields pages of at most `page_size`; the stream has no cursor (X only offers backfill on paid tiers),
    so `next_cursor` stays None and the recent-search collector covers any gap between sweeps.

    Constructor:

        XFilteredStream(
            http: Http,
            *,
            name: str,                          # 'x-stream:<account>'; one stream per app
            queries: Mapping[str, Query | str], # rule tag -> our query (rendered to X syntax)
            bearer_token: str | None = None,    # default: $X_BEARER_TOKEN
            base_url: str = "https://api.twitter.com",
            listen_s: float = 60.0,
            max_mentions: int = 1000,
            page_size: int = 100,
            max_reconnects: int = 5,
            finishing: Finishing | None = None,
        )

    Reconnects follow X's guidance: network errors back off linearly (0.25 s steps up to 16 s), HTTP
    errors exponentially from 5 s (up to 320 s), 429 exponentially from 60 s — or what the rate-limit
    headers say. More than `max_reconnects` in one sweep fails the sweep with `SourceError`.
    Matching rule tags become `matched_queries`, besides any local query tagging.
    """

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        queries: Mapping[str, Query | str],
        bearer_token: str | None = None,
        base_url: str = TWEEPY_HOST,
        listen_s: float = 60.0,
        max_mentions: int = 1000,
        page_size: int = 100,
        max_reconnects: int = 5,
        finishing: Finishing | None = None,
    ) -> None:
        token = bearer_token or os.environ.get("X_BEARER_TOKEN")
        if not token:
            raise ValueError("X needs a bearer token: set X_BEARER_TOKEN in the environment")
        self.http = http
        self.name = name
        self.rules = {
            tag: to_x_query(q if isinstance(q, Query) else parse(q), exclude_retweets=True)
            for tag, q in queries.items()
        }
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.listen_s = listen_s
        self.max_mentions = max_mentions
        self.page_size = page_size
        self.max_reconnects = max_reconnects
        self.finishing = finishing or Finishing()

    def sync_rules(self) -> dict[str, int]:
        """Make the stream's rules equal to our queries: add missing ones, delete ones we no longer have.
        Returns counts {'added': n, 'deleted': m}."""
        try:
            current = self.http.get_json(self.base_url + RULES_PATH, headers=self.headers).get("data") or []
            wanted = {(tag, value) for tag, value in self.rules.items()}
            existing = {(r.get("tag"), r.get("value")): r["id"] for r in current}
            stale = [rule_id for key, rule_id in existing.items() if key not in wanted]
            missing = [{"value": value, "tag": tag} for tag, value in sorted(wanted) if (tag, value) not in existing]
            if stale:
                self._post_rules({"delete": {"ids": stale}})
            if missing:
                self._post_rules({"add": missing})
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        return {"added": len(missing), "deleted": len(stale)}

    def _post_rules(self, body: Mapping[str, Any]) -> None:
        response = self.http.request("POST", self.base_url + RULES_PATH, json_body=body, headers=self.headers)
        answer = response.json() if response.content else {}
        if not 200 <= response.status_code < 300 or answer.get("errors"):
            raise HttpError(response.url, f"rules update refused: {answer.get('errors') or response.status_code}")

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        started = self.http.clock()
        received = 0
        failures = 0
        batch: list[Mapping[str, Any]] = []
        while True:
            try:
                for item in self._connect():
                    if item is not None:  # only tweets prove the stream healthy; keep-alives do not
                        failures = 0
                        batch.append(item)
                        received += 1
                    if len(batch) >= self.page_size:
                        yield self._page(batch)
                        batch = []
                    if received >= self.max_mentions or self.http.clock() - started >= self.listen_s:
                        break
                else:
                    raise _StreamEnded()
                break
            except (HttpError, _StreamEnded) as exc:
                failures += 1
                if failures > self.max_reconnects:
                    if batch:
                        yield self._page(batch)
                    error = (
                        exc if isinstance(exc, HttpError) else HttpError(self.base_url + STREAM_PATH, "stream ended")
                    )
                    raise source_error(self.name, error) from exc
                self.http.sleep(self._backoff(exc, failures))
            if self.http.clock() - started >= self.listen_s:
                break
        if batch:
            yield self._page(batch)

    def _connect(self) -> Iterator[Mapping[str, Any] | None]:
        """Tweets as they arrive; None for each keep-alive, so the caller can check its clock."""
        params = {
            "expansions": "author_id",
            "tweet.fields": ",".join(TWEET_FIELDS),
            "user.fields": ",".join(USER_FIELDS),
        }
        with self.http.stream(self.base_url + STREAM_PATH, params=params, headers=self.headers) as lines:
            for line in lines:
                if not line.strip():
                    yield None  # keep-alive (X sends one every 20 s)
                    continue
                try:
                    message = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    yield {"_unreadable": line.decode("utf-8", errors="replace")}
                    continue
                if "data" not in message and message.get("errors"):
                    raise HttpError(self.base_url + STREAM_PATH, f"stream error: {message['errors']}")
                yield message

    def _page(self, messages: list[Mapping[str, Any]]) -> Page:
        return Page(*convert_items(self.name, messages, self._convert, self.finishing), next_cursor=None)

    @staticmethod
    def _convert(message: Mapping[str, Any]) -> Converted:
        if "_unreadable" in message:
            raise ValueError("stream line is not JSON")
        users = {str(u["id"]): u for u in (message.get("includes") or {}).get("users", []) if "id" in u}
        converted = tweet_to_mention(message["data"], users)
        tags = tuple(r["tag"] for r in message.get("matching_rules") or [] if r.get("tag"))
        mention = converted.mention.model_copy(update={"matched_queries": tags})
        return Converted(mention, converted.platform_bot)

    def _backoff(self, exc: Exception, failures: int) -> float:
        if isinstance(exc, RateLimited):
            return exc.reset_in_s if exc.reset_in_s is not None else min(60.0 * 2.0 ** (failures - 1), 960.0)
        if isinstance(exc, HttpStatusError):
            return min(5.0 * 2.0 ** (failures - 1), 320.0)
        return min(0.25 * failures, 16.0)


class _StreamEnded(Exception):
    """The server closed the stream (X disconnects operationally); reconnect."""


# --- overheard.yaml: `kind: x` ------------------------------------------------------------------------------------


class XSource(SourceBase):
    kind: Literal["x"]
    bearer_token_env: str = Field(
        default="OVERHEARD_X_BEARER_TOKEN", description="Environment variable with the token."
    )
    language: str | None = Field(default=None, description="Only posts X tagged with this ISO 639-1 language.")
    stream: bool = Field(
        default=False, description="Also listen to the filtered stream (rules = our queries) before each recent search."
    )
    stream_listen_s: float = Field(default=60.0, gt=0, le=3600, description="Seconds each sweep listens to the stream.")
    base_url: str | None = Field(default=None, description="API host; leave out for api.x.com.")
    refresh_engagement: bool = Field(
        default=False,
        description="Look up the counts of posts younger than three days again with each re-check (billed reads).",
    )
    monthly_post_budget: int | None = Field(
        default=None,
        gt=0,
        description="Posts this source may read per billing cycle (X bills reads per post); sweeps stop before it. "
        "Left out: only X's own cap on the project stops them.",
    )


class StreamWithRules:
    """The X filtered stream as a collector whose sweep first makes the stream's rules equal to our queries.

    Rules are synced on the first sweep of the process and again after a failed sweep, so an edited
    overheard.yaml takes effect on restart and a rejected rule update is retried.
    """

    def __init__(self, stream: XFilteredStream) -> None:
        self.stream = stream
        self.name = stream.name
        self._synced = False

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        if not self._synced:
            self.stream.sync_rules()
            self._synced = True
        try:
            yield from self.stream.sweep(cursor)
        except Exception:
            self._synced = False
            raise


def build(source: XSource, ctx: BuildContext) -> list[Collector]:
    """One recent-search collector per query, after the filtered stream when `stream` is on."""
    token = ctx.token(source.bearer_token_env, required=True)
    base_url = source.base_url or TWEEPY_HOST
    # The stream has no cursor (backfill is a paid tier): recent search after it covers what it missed.
    stream: list[Collector] = (
        [
            StreamWithRules(
                XFilteredStream(
                    ctx.http,
                    name=ctx.name("stream"),
                    queries=ctx.queries,
                    bearer_token=token,
                    base_url=base_url,
                    listen_s=source.stream_listen_s,
                    finishing=ctx.finishing,
                )
            )
        ]
        if source.stream
        else []
    )
    usage = XUsage(
        ctx.http,
        base_url=base_url,
        bearer_token=token or "",
        monthly_budget=source.monthly_post_budget,
        source=source.name,
    )
    searches: list[Collector] = []
    for q, text in ctx.queries.items():
        # X has OR; a query past its length limit is split into several searches, each with its own cursor.
        rendered = to_x_queries(parse(text), language=source.language)
        searches += [
            XCollector(
                ctx.http,
                name=ctx.name(q) if len(rendered) == 1 else ctx.name(f"{q}#{number}"),
                query=text,
                search=search,
                bearer_token=token,
                language=source.language,
                base_url=base_url,
                usage=usage,
                finishing=ctx.finishing,
            )
            for number, search in enumerate(rendered, start=1)
        ]
    return stream + searches


def deletion_checker(source: XSource, ctx: BuildContext) -> XChecker | None:
    """The re-check for deletions (`/2/tweets` by id) with the source's bearer token; None without it."""
    token = ctx.token(source.bearer_token_env)
    return XChecker(ctx.http, source.base_url or TWEEPY_HOST, token) if token else None


def engagement_lookup(source: XSource, ctx: BuildContext) -> XEngagement | None:
    """Counts of young posts, only with `refresh_engagement: true` (every post looked up is a billed read)."""
    token = ctx.token(source.bearer_token_env) if source.refresh_engagement else None
    return XEngagement(ctx.http, source.base_url or TWEEPY_HOST, token) if token else None
