"""Mastodon: a hashtag timeline or v2 status search on one instance.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    MastodonCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'mastodon:<instance>:<query name>'
        base_url: str,                      # the instance, e.g. 'https://mastodon.social'
        hashtag: str | None = None,         # GET /api/v1/timelines/tag/:hashtag (public, no token needed)
        search: str | None = None,          # GET /api/v2/search?type=statuses (needs a user token on most
                                            # instances; searches only posts that opted in to search)
        access_token: str | None = None,
        page_size: int = 40,                # Mastodon's max `limit`
        max_pages: int = 10,
        finishing: Finishing | None = None,
    )

Exactly one of `hashtag` / `search`.

A hashtag timeline pages *forward* in time: the cursor is the newest status id stored, and a sweep asks for
`min_id=<cursor>` (the statuses immediately newer), then follows the `Link: rel="prev"` header (or
`min_id=<newest on the page>`) until a page comes back empty. Stopping at `max_pages` therefore loses nothing.
Search answers the newest matches first and sends no Link header, so it is read in id windows *downwards*:
`min_id=<floor>` and, after a full page, `max_id=<oldest id seen>`, until a page is short; the cursor is a
`listener.cursor.Watermark` over status ids, so a sweep cut by `max_pages` resumes its window next time and
nothing past the first 40 new matches is lost. The first sweep (no cursor) takes the newest page only.
`x-ratelimit-*` headers are honoured by `Http`. Some instances (Mastodon 4.5 can be set so) show tag
timelines to logged-in users only: a 401 names the `access_token_env` setting.

`external_id` is the status's ActivityPub URI, so the same post seen through two instances is one mention;
`local_id` keeps the instance-local id (the instance's API looks statuses up, and names reply parents, by it).
Boosts are skipped (the boosted status is its own mention); private and direct statuses never are
collected. `account.bot` is recorded as the 'bot' signal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from pydantic import Field

from listener.base import BuildContext, Collector, Page, SourceBase, SourceError
from listener.cursor import Watermark
from listener.http import Http, HttpError, HttpStatusError, decode_json
from listener.language import normalise_language
from listener.mention import Author, Engagement, Mention, Platform, ReplyRef, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, html_to_text, page_error, source_error
from listener.recheck import MastodonChecker

PUBLIC_VISIBILITY = frozenset({"public", "unlisted"})


def status_to_mention(status: Mapping[str, Any], instance_host: str) -> Converted:
    """One Mastodon Status entity as a Mention. Handles are made global: 'acct@instance'."""
    if status.get("reblog"):
        raise Skip("boost")
    if status.get("visibility", "public") not in PUBLIC_VISIBILITY:
        raise Skip("not public")
    account = status["account"]
    acct = account["acct"]
    handle = acct if "@" in acct else f"{acct}@{instance_host}"
    return Converted(
        Mention(
            source=Platform.mastodon,
            # The ActivityPub URI is the same on every instance; local ids differ from instance to instance.
            external_id=status.get("uri") or str(status["id"]),
            local_id=str(status["id"]),
            url=status.get("url") or status.get("uri"),
            author=Author(
                handle=handle,
                name=account.get("display_name") or None,
                followers=account.get("followers_count"),
                profile_url=account.get("url"),
            ),
            text=html_to_text(status.get("content") or ""),
            language=normalise_language(status.get("language")),
            created_at=datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")),
            engagement=Engagement(
                likes=status.get("favourites_count"),
                reposts=status.get("reblogs_count"),
                replies=status.get("replies_count"),
                quotes=status.get("quotes_count"),
            ),
            # in_reply_to_id is an instance-local id, not the parent's URI, so it cannot name the parent.
            # The status id is local too: kept with its instance, so a reply from an account there needs no lookup.
            reply_ref=ReplyRef(status_id=str(status["id"]), instance=instance_host) if status.get("id") else None,
            raw_hash=payload_hash(status),
        ),
        platform_bot=bool(account.get("bot")),
    )


class MastodonCollector:
    """One hashtag timeline or one status search on one instance. See the module docstring."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        base_url: str,
        hashtag: str | None = None,
        search: str | None = None,
        access_token: str | None = None,
        page_size: int = 40,
        max_pages: int = 10,
        finishing: Finishing | None = None,
    ) -> None:
        if (hashtag is None) == (search is None):
            raise ValueError("Mastodon: give exactly one of hashtag or search")
        self.http = http
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.instance_host = urlsplit(self.base_url).netloc
        self.hashtag = hashtag.lstrip("#") if hashtag else None
        self.search = search
        self.headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self.page_size = min(page_size, 40)
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()

    def _first_request(self, cursor: str | None) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"limit": self.page_size}
        if cursor:
            params["min_id"] = cursor
        if self.hashtag is not None:
            return f"{self.base_url}/api/v1/timelines/tag/{self.hashtag}", params
        params.update({"q": self.search, "type": "statuses", "resolve": "false"})
        return f"{self.base_url}/api/v2/search", params

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        if self.search is not None:
            yield from self._sweep_search(cursor)
            return
        url, params = self._first_request(cursor)
        newest = cursor
        for _ in range(self.max_pages):
            response, statuses = self._fetch(url, params)
            mentions, rejected = convert_items(
                self.name, statuses, lambda s: status_to_mention(s, self.instance_host), self.finishing
            )
            ids = [str(s["id"]) for s in statuses if isinstance(s, dict) and str(s.get("id", "")).isdigit()]
            if ids:
                page_newest = max(ids, key=int)
                newest = page_newest if newest is None else max(newest, page_newest, key=int)
            yield Page(mentions, rejected, next_cursor=newest)
            if not statuses or cursor is None:
                return  # caught up; or first sweep: start listening from the newest status
            url, params = self._next_request(response, url, params, newest)

    def _sweep_search(self, cursor: str | None) -> Iterator[Page]:
        """Search answers the newest matches first and sends no Link header: read id windows downwards, from
        the newest match to the floor (`min_id`), each next window below the oldest status seen (`max_id`)."""
        start = Watermark.load(cursor)
        url = f"{self.base_url}/api/v2/search"
        params: dict[str, Any] = {"q": self.search, "type": "statuses", "resolve": "false", "limit": self.page_size}
        if start.floor:
            params["min_id"] = start.floor
        max_id = start.resume
        newest: str | None = None
        for _ in range(self.max_pages):
            _, statuses = self._fetch(url, {**params, "max_id": max_id} if max_id else params)
            mentions, rejected = convert_items(
                self.name, statuses, lambda s: status_to_mention(s, self.instance_host), self.finishing
            )
            ids = [str(s["id"]) for s in statuses if isinstance(s, dict) and str(s.get("id", "")).isdigit()]
            if ids:
                newest = max([*ids, *([newest] if newest else [])], key=int)
            oldest = min(ids, key=int) if ids else None
            exhausted = len(statuses) < self.page_size or oldest is None
            mark = start.after_page(newest=newest, oldest=oldest, exhausted=exhausted)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted or (start.floor is None and not start.in_backlog):
                return  # down to the floor; or a first sweep, which starts listening from the newest match
            max_id = oldest

    def _next_request(
        self, response: requests.Response, url: str, params: dict[str, Any], newest: str | None
    ) -> tuple[str, dict[str, Any]]:
        newer = response.links.get("prev", {}).get("url")
        if newer and urlsplit(newer).netloc == urlsplit(url).netloc:
            return newer, {}
        return url, {**params, "min_id": newest}

    def _fetch(self, url: str, params: Mapping[str, Any]) -> tuple[requests.Response, list[Any]]:
        try:
            response = self.http.get(url, params=params, headers=self.headers, accept=("application/json",))
            body = decode_json(response)
        except HttpStatusError as exc:
            if exc.status == 401 and not self.headers:
                raise SourceError(
                    self.name,
                    f"{exc}: this instance shows it to logged-in users only; set access_token_env to the variable "
                    "holding an access token (Preferences → Development → New application, scope read:statuses)",
                ) from exc
            raise source_error(self.name, exc) from exc
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        statuses = body.get("statuses") if isinstance(body, dict) else body
        if not isinstance(statuses, list):
            raise page_error(self.name, url, "expected a list of statuses")
        return response, statuses


# --- overheard.yaml: `kind: mastodon` -----------------------------------------------------------------------------


class MastodonSource(SourceBase):
    kind: Literal["mastodon"]
    instance: str = Field(description="Base URL, e.g. https://mastodon.social")
    hashtags: tuple[str, ...] = Field(default=(), description="Tag timelines to follow; empty: search each query.")
    access_token_env: str | None = Field(
        default=None, description="Env var with a token (search needs one on most instances)."
    )


def build(source: MastodonSource, ctx: BuildContext) -> list[Collector]:
    """One collector per hashtag when the source names some, else one status search per query."""
    token = ctx.token(source.access_token_env)
    if source.hashtags:
        return [
            MastodonCollector(
                ctx.http,
                name=ctx.name(f"#{tag}"),
                base_url=source.instance,
                hashtag=tag,
                access_token=token,
                finishing=ctx.finishing,
            )
            for tag in source.hashtags
        ]
    return [
        MastodonCollector(
            ctx.http,
            name=name,
            base_url=source.instance,
            search=search,
            access_token=token,
            finishing=ctx.finishing,
        )
        for name, _, search in ctx.plain_searches()
    ]


def deletion_checker(source: MastodonSource, ctx: BuildContext) -> MastodonChecker:
    """The re-check for deletions: the status by id on the instance it was read from."""
    return MastodonChecker(ctx.http, source.instance, ctx.token(source.access_token_env))
