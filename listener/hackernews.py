"""Hacker News stories and comments through the Algolia HN Search API (`/api/v1/search_by_date`).

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    HackerNewsCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'hackernews:<query name>'
        search: str,                        # sent as `query`; Algolia ANDs the words, so the shell makes
                                            # one collector per alternative (`BuildContext.plain_searches`)
        base_url: str = SEARCH_HOST,
        kinds: tuple[str, ...] = ("story", "comment"),
        page_size: int = 100,               # `hitsPerPage`
        max_pages: int = 10,
        overlap_s: int = 0,                 # ask again this far below the floor (late-indexed items)
        finishing: Finishing | None = None,
    )

Hits come newest first, paged with `page=0,1,…` within a sweep. The cursor is a
`listener.cursor.Watermark` over `created_at_i` (epoch seconds): `numericFilters=created_at_i>=floor`
and, for an unfinished backlog, `created_at_i<=resume` (both inclusive, so boundary seconds are fetched
again and deduplicated by the upsert). Comments' HTML is turned into text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from listener.base import BuildContext, Collector, Page, SourceBase
from listener.cursor import LATE_INDEXING_OVERLAP_S, Watermark
from listener.http import Http, HttpError
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, html_to_text, page_error, source_error
from listener.recheck import HackerNewsChecker

SEARCH_HOST = "https://hn.algolia.com"
SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"


def hit_to_mention(hit: Mapping[str, Any]) -> Converted:
    """One Algolia hit (story or comment) as a Mention."""
    tags = set(hit.get("_tags") or [])
    author = hit.get("author")
    if not author:
        raise Skip("deleted item")
    item_id = str(hit["objectID"])
    if "comment" in tags:
        text = html_to_text(hit["comment_text"])
        title = hit.get("story_title")
        reply_to = str(hit["parent_id"]) if hit.get("parent_id") is not None else None
    else:
        title = hit["title"]
        text = html_to_text(hit.get("story_text") or "") or hit.get("url") or title
        reply_to = None
    story = hit.get("story_id")
    return Converted(
        Mention(
            source=Platform.hackernews,
            external_id=item_id,
            url=ITEM_URL.format(item_id),
            author=Author(handle=author, profile_url=f"https://news.ycombinator.com/user?id={author}"),
            text=text,
            title=title,
            created_at=datetime.fromtimestamp(int(hit["created_at_i"]), tz=UTC),
            engagement=Engagement(score=hit.get("points"), replies=hit.get("num_comments")),
            reply_to_id=reply_to,
            thread_id=str(story) if story is not None else item_id,
            raw_hash=payload_hash(hit),
        )
    )


class HackerNewsCollector:
    """Search by date for one term. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        search: str,
        base_url: str = "https://hn.algolia.com",
        kinds: tuple[str, ...] = ("story", "comment"),
        page_size: int = 100,
        max_pages: int = 10,
        overlap_s: int = 0,
        finishing: Finishing | None = None,
    ) -> None:
        if not search.strip():
            raise ValueError("Hacker News: search must not be empty")
        self.overlap_s = overlap_s
        self.http = http
        self.name = name
        self.search = search
        self.url = base_url.rstrip("/") + SEARCH_PATH
        self.kinds = kinds
        self.page_size = page_size
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        filters = []
        if start.floor:
            filters.append(f"created_at_i>={int(start.floor) - self.overlap_s}")
        if start.resume:
            filters.append(f"created_at_i<={int(start.resume)}")
        params: dict[str, Any] = {
            "query": self.search,
            "tags": f"({','.join(self.kinds)})",
            "hitsPerPage": self.page_size,
        }
        if filters:
            params["numericFilters"] = ",".join(filters)
        newest: str | None = None
        for page_number in range(self.max_pages):
            body = self._fetch({**params, "page": page_number})
            hits = [h for h in body["hits"] if isinstance(h, dict)]
            mentions, rejected = convert_items(self.name, hits, hit_to_mention, self.finishing)
            times = sorted(int(h["created_at_i"]) for h in hits if isinstance(h.get("created_at_i"), int))
            if times:
                newest = str(times[-1]) if newest is None else str(max(int(newest), times[-1]))
            exhausted = not hits or page_number + 1 >= int(body.get("nbPages") or 0)
            mark = start.after_page(newest=newest, oldest=str(times[0]) if times else None, exhausted=exhausted)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted:
                return

    def _fetch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            body = self.http.get_json(self.url, params=params)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
            raise page_error(self.name, self.url, "expected an object with a 'hits' list")
        return body


# --- overheard.yaml: `kind: hackernews` ---------------------------------------------------------------------------


class HackerNewsSource(SourceBase):
    kind: Literal["hackernews"]
    base_url: str | None = Field(default=None, description="Leave out for hn.algolia.com.")


def build(source: HackerNewsSource, ctx: BuildContext) -> list[Collector]:
    """One search of stories and comments per query."""
    return [
        HackerNewsCollector(
            ctx.http,
            name=name,
            search=search,
            base_url=source.base_url or SEARCH_HOST,
            overlap_s=LATE_INDEXING_OVERLAP_S,
            finishing=ctx.finishing,
        )
        for name, _, search in ctx.plain_searches()
    ]


def deletion_checker(source: HackerNewsSource, ctx: BuildContext) -> HackerNewsChecker:
    """The re-check for deletions: Algolia's item by id."""
    return HackerNewsChecker(ctx.http, source.base_url or SEARCH_HOST)
