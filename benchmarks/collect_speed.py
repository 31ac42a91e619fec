"""Parse + normalise throughput of every collector, and the overhead of the polite HTTP layer.

    python benchmarks/collect_speed.py [--pages 20] [--per-page 100] [--review-pages 3] [--repeat 3] [--requests 300]

Each collector sweeps a real HTTP server on 127.0.0.1 that replays responses (`tests/listener/replay.py`),
paging the way its platform does: X `next_token`, Mastodon `Link: rel="prev"` (min_id), Reddit `after`,
Bluesky `cursor`, Hacker News `page=`, RSS/Atom RFC 5005 `rel="next"`, Amazon review pages `pageNumber`.
Pages are built from the recorded responses (`tests/fixtures/recorded/`, `tests/listener/fixtures/`): each item
is a clone of a recorded item of that platform with a unique id and its own, older timestamp, its text
taken in turn from every recorded text (X, Mastodon, Reddit, Bluesky, HN, feeds), cut to the platform's
length limit. Review pages are the recorded amazon.it page with --per-page clones of its ten review blocks;
there are only --review-pages of them, because BeautifulSoup takes seconds over each such page.
Mastodon pages hold at most 40 statuses (its largest `limit`), so it gets proportionally more pages.

Every sweep gets a fresh `Http` (min_interval_s=0, 127.0.0.1 allowed; robots.txt for reviews included)
and the shell's finishing: query tagging, offline language detection, signals with a near-duplicate index.
A sweep's time covers requests, parsing, conversion to `Mention`s and finishing; the figure is the median
of --repeat sweeps. The replay server runs in a child process, so "CPU s" is the collector's own CPU time.

HTTP overhead: --requests GETs of the same bodies from the same server through `Http.get` (retries, per-host
limit, SSRF guard at connect, size cap, content-type check) and through a plain `requests.Session().get`,
interleaved in blocks, for a small JSON body and a 100-tweet X page. Wall time per request is mostly the
replay server's (a Python http.server), the same for both; the client CPU per request (the server is another
process) shows what the polite layer itself adds.

The figures are noisy: the machine this was written on has 2 cores and was training a model at the
same time. Compare runs on one machine, not across machines.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import math
import multiprocessing
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402

from listener.base import Page  # noqa: E402
from listener.bluesky import BlueskyCollector  # noqa: E402
from listener.hackernews import HackerNewsCollector  # noqa: E402
from listener.http import Http  # noqa: E402
from listener.language import detect_language  # noqa: E402
from listener.mastodon import MastodonCollector  # noqa: E402
from listener.normalise import Finishing, html_to_text  # noqa: E402
from listener.query import QuerySet  # noqa: E402
from listener.reddit import RedditCollector  # noqa: E402
from listener.reviews import ReviewCollector  # noqa: E402
from listener.rss import FeedCollector  # noqa: E402
from listener.signals import NearDuplicateIndex  # noqa: E402
from listener.x import TWITTER_EPOCH_MS, XCollector  # noqa: E402
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, Reply, start_server  # noqa: E402

JSON = "application/json; charset=utf-8"
NEWEST = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=37)  # between two consecutive cloned items, newest first
QUERIES = {
    "brand": 'acme OR kindle OR "paperwhite"',
    "tools": "praw OR tweepy OR mastodon OR bluesky",
    "complaints": "(broken OR refund OR outage) NOT test",
}

Route = tuple[str, Reply, dict[str, str]]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _stamp(moment: datetime, *, ms: bool = True) -> str:
    return moment.isoformat(timespec="milliseconds" if ms else "seconds").replace("+00:00", "Z")


def _json_reply(body: Any, *headers: tuple[str, str]) -> Reply:
    return Reply(200, (("Content-Type", JSON), *headers), json.dumps(body).encode())


def _when(n: int) -> datetime:
    return NEWEST - n * STEP


# --- recorded material --------------------------------------------------------------------------------


def recorded_texts() -> list[str]:
    """Every distinct recorded post text of some length, from all platforms (rotated through by the clones)."""
    found: list[str] = []
    for name in (
        "TestSubredditStreams.test_submissions/001_GET_r_all_new",
        "TestSubredditListings.test_new/001_GET_r_askreddit_new",
        "TestSubredditListings.test_comments/001_GET_r_askreddit_comments",
    ):
        for child in _load(RECORDED_FIXTURES / f"reddit/{name}.body.json")["data"]["children"]:
            data = child["data"]
            found += [data.get("title") or "", data.get("selftext") or "", data.get("body") or ""]
    for post in _load(
        RECORDED_FIXTURES / "bluesky/bskyr_vcr/f_search/000_GET_xrpc_app_bsky_feed_searchPosts.body.json"
    )["posts"]:
        found.append(post["record"].get("text") or "")
    for status in _mastodon_statuses():
        found.append(html_to_text(status.get("content") or ""))
    for tweet in _load(RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/apis/searches/search_tweets_query.json")[
        "data"
    ]:
        found.append(tweet["text"])
    for page in ("search_page0.json", "search_page1.json"):
        for hit in _load(OWN_FIXTURES / f"hackernews/{page}")["hits"]:
            found.append(html_to_text(hit.get("comment_text") or hit.get("story_text") or ""))
    texts = list(
        dict.fromkeys(
            t.strip() for t in found if t and len(t.strip()) >= 20 and t.strip() not in ("[deleted]", "[removed]")
        )
    )
    return texts


def _mastodon_statuses() -> list[dict[str, Any]]:
    statuses: dict[str, dict[str, Any]] = {}
    for body in sorted((RECORDED_FIXTURES / "mastodon").glob("*/*_GET_api_v1_*.body.json")):
        try:
            items = _load(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(items, list):
            for status in items:
                if (
                    isinstance(status, dict)
                    and "id" in status
                    and "account" in status
                    and not status.get("reblog")
                    and status.get("visibility", "public") in ("public", "unlisted")
                ):
                    statuses.setdefault(str(status["id"]), status)
    return list(statuses.values())


class Texts:
    """Hands out the recorded texts in turn, cut to a platform's limit."""

    def __init__(self, texts: list[str], limit: int | None = None, start: int = 0) -> None:
        self.texts, self.limit, self.n = texts, limit, start

    def next(self) -> str:
        text = self.texts[self.n % len(self.texts)]
        self.n += 1
        return text[: self.limit].rstrip() if self.limit else text


# --- pages per platform -------------------------------------------------------------------------------


def x_routes(texts: list[str], pages: int, per_page: int) -> list[Route]:
    recorded = _load(RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/apis/searches/search_tweets_query.json")
    older = _load(OWN_FIXTURES / "x/search_older_page.json")
    tweepy = _load(
        RECORDED_FIXTURES / "twitter_x/v2/test_client_search_recent_tweets/000_GET_2_tweets_search_recent.body.json"
    )
    templates = recorded["data"] + older["data"][:1] + tweepy["data"]
    users = recorded["includes"]["users"] + older["includes"]["users"]
    metrics = older["data"][0]["public_metrics"]
    say = Texts(texts, 280, start=0)
    routes: list[Route] = []
    for p in range(pages):
        tweets = []
        for i in range(per_page):
            n = p * per_page + i
            moment = _when(n)
            tweet_id = str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) + n % 4096)
            tweet = copy.deepcopy(templates[n % len(templates)])
            tweet.update(id=tweet_id, text=say.next(), created_at=_stamp(moment), conversation_id=tweet_id)
            tweet["author_id"] = users[n % len(users)]["id"]
            tweet.setdefault("public_metrics", metrics)
            tweet.setdefault("lang", "en")
            tweets.append(tweet)
        meta: dict[str, Any] = {
            "newest_id": tweets[0]["id"],
            "oldest_id": tweets[-1]["id"],
            "result_count": len(tweets),
        }
        if p + 1 < pages:
            meta["next_token"] = f"page{p + 1}token"
        body = {"data": tweets, "includes": {"users": users}, "meta": meta}
        routes.append(("/2/tweets/search/recent", _json_reply(body), {"next_token": f"page{p}token"} if p else {}))
    return routes


MASTODON_CURSOR = 110_000_000_000_000_000
MASTODON_PAGE = 40  # the largest `limit` Mastodon accepts


def mastodon_routes(base_url: str, texts: list[str], pages: int) -> list[Route]:
    templates = _mastodon_statuses()
    say = Texts(texts, 500, start=7)
    path = "/api/v1/timelines/tag/acme"
    total = pages * MASTODON_PAGE
    routes: list[Route] = []
    min_id = MASTODON_CURSOR
    for p in range(pages):
        statuses = []
        for i in reversed(range(MASTODON_PAGE)):  # newest first within a page; pages go forward in time
            k = p * MASTODON_PAGE + i + 1
            status_id = MASTODON_CURSOR + k * 65536
            status = copy.deepcopy(templates[k % len(templates)])
            acct = status["account"]["username"]
            uri = f"{base_url}/users/{acct}/statuses/{status_id}"
            status.update(
                id=str(status_id),
                uri=uri,
                url=f"{base_url}/@{acct}/{status_id}",
                created_at=_stamp(_when(total - k)),
                content=f"<p>{html.escape(say.next())}</p>",
                reblog=None,
            )
            statuses.append(status)
        newest = int(statuses[0]["id"])
        link = f'<{base_url}{path}?min_id={newest}>; rel="prev", <{base_url}{path}?max_id={statuses[-1]["id"]}>; rel="next"'
        routes.append((path, _json_reply(statuses, ("Link", link)), {"min_id": str(min_id)}))
        min_id = newest
    routes.append((path, _json_reply([]), {"min_id": str(min_id)}))  # caught up
    return routes


def reddit_routes(texts: list[str], pages: int, per_page: int) -> list[Route]:
    templates = [
        child
        for name in (
            "TestSubredditStreams.test_submissions/001_GET_r_all_new",
            "TestSubredditListings.test_new/001_GET_r_askreddit_new",
        )
        for child in _load(RECORDED_FIXTURES / f"reddit/{name}.body.json")["data"]["children"]
        if child["data"]["author"] not in ("[deleted]", "[removed]")
        and child["data"].get("selftext") not in ("[deleted]", "[removed]")
    ]
    say = Texts(texts, 40_000, start=13)
    routes: list[Route] = []
    after: str | None = None
    for p in range(pages):
        children = []
        for i in range(per_page):
            n = p * per_page + i
            thing = copy.deepcopy(templates[n % len(templates)])
            data = thing["data"]
            new_id = _base36(10**9 + n)
            data["permalink"] = data.get("permalink", "").replace(data["id"], new_id)
            data.update(
                id=new_id, name=f"t3_{new_id}", created_utc=float(int(_when(n).timestamp())), selftext=say.next()
            )
            children.append(thing)
        last = p + 1 == pages
        listing = {
            "kind": "Listing",
            "data": {
                "after": None if last else children[-1]["data"]["name"],
                "dist": len(children),
                "children": children,
                "before": None,
            },
        }
        routes.append(("/r/all/new.json", _json_reply(listing), {"after": after} if after else {}))
        after = children[-1]["data"]["name"]
    return routes


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def bluesky_routes(texts: list[str], pages: int, per_page: int) -> list[Route]:
    recorded = _load(RECORDED_FIXTURES / "bluesky/bskyr_vcr/f_search/000_GET_xrpc_app_bsky_feed_searchPosts.body.json")[
        "posts"
    ]
    recorded += _load(OWN_FIXTURES / "bluesky/search_last_page.json")["posts"]
    templates = [
        post
        for post in recorded
        if "text" in post.get("record", {})
        and not any(label.get("val") == "!no-unauthenticated" for label in post["author"].get("labels") or [])
    ]
    say = Texts(texts, 300, start=21)
    routes: list[Route] = []
    for p in range(pages):
        posts = []
        for i in range(per_page):
            n = p * per_page + i
            post = copy.deepcopy(templates[n % len(templates)])
            rkey = "3m" + _base36(36**10 + n).rjust(11, "2")
            post["uri"] = post["uri"].rsplit("/", 1)[0] + "/" + rkey
            post["cid"] = f"bafyreib{rkey}"
            created = _when(n)
            post["record"].update(text=say.next(), createdAt=_stamp(created))
            post["indexedAt"] = _stamp(created + timedelta(milliseconds=450))
            posts.append(post)
        body: dict[str, Any] = {"posts": posts, "hitsTotal": pages * per_page}
        if p + 1 < pages:
            body["cursor"] = str((p + 1) * per_page)
        routes.append(
            ("/xrpc/app.bsky.feed.searchPosts", _json_reply(body), {"cursor": str(p * per_page)} if p else {})
        )
    return routes


def hackernews_routes(texts: list[str], pages: int, per_page: int) -> list[Route]:
    hits = (
        _load(OWN_FIXTURES / "hackernews/search_page0.json")["hits"]
        + _load(OWN_FIXTURES / "hackernews/search_page1.json")["hits"]
    )
    templates = [h for h in hits if h.get("author") and "created_at_i" in h]
    comment = next(h for h in templates if "comment" in h["_tags"])
    templates += [comment] * 3  # most hits on a brand search are comments
    say = Texts(texts, None, start=29)
    routes: list[Route] = []
    for p in range(pages):
        page_hits = []
        for i in range(per_page):
            n = p * per_page + i
            hit = copy.deepcopy(templates[n % len(templates)])
            moment = _when(n)
            hit.update(
                objectID=str(45_000_000 - n), created_at=_stamp(moment, ms=False), created_at_i=int(moment.timestamp())
            )
            escaped = "<p>" + html.escape(say.next()).replace("\n\n", "<p>")
            if "comment" in hit["_tags"]:
                hit["comment_text"] = escaped
            elif hit.get("story_text"):
                hit["story_text"] = escaped
            page_hits.append(hit)
        body = {"hits": page_hits, "hitsPerPage": per_page, "nbHits": pages * per_page, "nbPages": pages, "page": p}
        routes.append(("/api/v1/search_by_date", _json_reply(body), {"page": str(p)}))
    return routes


_ENTRY = re.compile(r"<entry>.*?</entry>", re.DOTALL)


def feed_routes(texts: list[str], pages: int, per_page: int) -> list[Route]:
    alert = (OWN_FIXTURES / "rss/google_alert.atom").read_text(encoding="utf-8")
    blog = [(OWN_FIXTURES / f"rss/paged_page{k}.atom").read_text(encoding="utf-8") for k in (1, 2)]
    head = alert[: alert.index("<entry>")].replace('rel="self"></link>', 'rel="self"></link>\n  @@NEXT@@')
    templates = [_ENTRY.search(alert)[0]] + [_ENTRY.search(b)[0] for b in blog]  # type: ignore[index]  # each fixture holds an <entry>
    say = Texts(texts, None, start=37)
    path = "/alerts/feeds/acme"
    routes: list[Route] = []
    for p in range(pages):
        entries = []
        for i in range(per_page):
            n = p * per_page + i
            entry = templates[n % len(templates)]
            moment = _stamp(_when(n), ms=False)
            text = html.escape(say.next())
            title = html.escape(text.split("\n", 1)[0][:90])
            entry = re.sub(r"<id>.*?</id>", f"<id>tag:google.com,2013:googlealerts/feed:{10**18 + n}</id>", entry)
            entry = re.sub(r"<title([^>]*)>.*?</title>", rf"<title\1>{title}</title>", entry)
            entry = re.sub(r"<(published|updated)>.*?</\1>", rf"<\1>{moment}</\1>", entry)
            entry = re.sub(r"url=https://[^&]*&", f"url=https://news{n % 17}.example/{n}&", entry)
            entry = re.sub(r'<link href="https://blog[^"]*"', f'<link href="https://blog.acme.example/{n}"', entry)
            entry = re.sub(r"<(content|summary)([^>]*)>.*?</\1>", rf"<\1\2>{text}</\1>", entry, flags=re.DOTALL)
            entries.append(entry)
        next_link = f'<link href="{path}?page={p + 2}" rel="next"/>' if p + 1 < pages else ""
        body = head.replace("@@NEXT@@", next_link) + "  " + "\n  ".join(entries) + "\n</feed>\n"
        reply = Reply(200, (("Content-Type", "application/atom+xml; charset=utf-8"),), body.encode())
        routes.append((path, reply, {"page": str(p + 1)} if p else {}))
    return routes


AMAZON_PATH = "/Paperwhite-resistente-allacqua-risoluzione-speciali/product-reviews/B07747FR44"
_MESI = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
]


def review_routes(pages: int, per_page: int) -> list[Route]:
    """The recorded amazon.it review page, its ten review blocks cloned to `per_page` with new ids and dates."""
    soup = BeautifulSoup(
        (RECORDED_FIXTURES / "reviews_html/amazon_it_mega_scraper/product-reviews-B07747FR44-1.html").read_bytes(),
        "lxml",
    )
    blocks = soup.select('[data-hook="review"]')
    container = blocks[0].parent
    assert container is not None
    templates = []
    for block in blocks:
        block_id = str(block["id"])
        date_tag = block.select_one('[data-hook="review-date"]')
        assert date_tag is not None
        date_tag.string = "@@DATE@@"
        templates.append(str(block).replace(block_id, "@@ID@@"))
    for block in blocks:
        block.decompose()
    container.append("@@REVIEWS@@")
    for link in soup.select('link[rel~="next"]'):
        link.decompose()
    last = soup.select_one("li.a-last")
    assert last is not None
    last.clear()
    last.append("@@NEXT@@")
    page_html = str(soup)
    routes: list[Route] = [("/robots.txt", Reply.file(OWN_FIXTURES / "reviews/robots.txt", "text/plain"), {})]
    for p in range(pages):
        reviews = []
        for i in range(per_page):
            n = p * per_page + i
            day = _when(n * 360)
            review = templates[n % len(templates)].replace("@@ID@@", f"R{_base36(36**12 + n).upper()}")
            reviews.append(
                review.replace("@@DATE@@", f"Recensito in Italia il {day.day} {_MESI[day.month - 1]} {day.year}")
            )
        next_link = f'<a href="{AMAZON_PATH}?ie=UTF8&amp;pageNumber={p + 2}">Successivo→</a>' if p + 1 < pages else ""
        body = page_html.replace("@@REVIEWS@@", "".join(reviews)).replace("@@NEXT@@", next_link)
        reply = Reply(200, (("Content-Type", "text/html; charset=utf-8"),), body.encode())
        routes.append((AMAZON_PATH, reply, {"pageNumber": str(p + 1)} if p else {}))
    return routes


# --- the replay server in its own process -------------------------------------------------------------


def _serve(conn: Connection) -> None:
    replay, httpd = start_server()
    conn.send(replay.base_url)
    routes = conn.recv()
    if routes == "stop":  # the parent failed before it had anything to serve
        return
    for path, reply, query in routes:
        replay.add(path, reply, query=query)
    conn.send("ready")
    conn.recv()  # until the parent says stop
    httpd.shutdown()
    httpd.server_close()


@dataclass
class ReplayProcess:
    """The replay server, serving from a child process so its work is not the collectors' CPU time."""

    base_url: str
    conn: Connection
    process: multiprocessing.process.BaseProcess

    @classmethod
    def start(cls) -> ReplayProcess:
        ours, theirs = multiprocessing.get_context("fork").Pipe()
        process = multiprocessing.get_context("fork").Process(target=_serve, args=(theirs,), daemon=True)
        process.start()
        return cls(ours.recv(), ours, process)

    def serve(self, routes: list[Route]) -> None:
        self.conn.send(routes)
        assert self.conn.recv() == "ready"

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


# --- measuring ----------------------------------------------------------------------------------------


def new_http() -> Http:
    return Http(user_agent="OverheardBot/0.1 (+benchmark)", allow_networks=("127.0.0.1/32",), min_interval_s=0.0)


def finishing() -> Finishing:
    """What the shell passes every collector (overheard/sources.py)."""
    return Finishing(queries=QuerySet(QUERIES), duplicates=NearDuplicateIndex())


@dataclass(frozen=True)
class Source:
    label: str
    sweep: Callable[[], Iterator[Page]]


@dataclass(frozen=True)
class Figure:
    label: str
    mentions: int
    rejected: int
    pages: int
    seconds: float
    cpu_seconds: float


def measure(source: Source, repeat: int) -> Figure:
    runs: list[tuple[float, float]] = []
    mentions = rejected = pages = 0
    for _ in range(repeat):
        mentions = rejected = pages = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for page in source.sweep():
            mentions += len(page.mentions)
            rejected += len(page.rejected)
            pages += 1
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return Figure(
        source.label,
        mentions,
        rejected,
        pages,
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
    )


def sources(base: str, pages: int, mastodon_pages: int, review_pages: int) -> list[Source]:
    def x() -> Iterator[Page]:
        collector = XCollector(
            new_http(),
            name="x:bench",
            query="acme OR kindle",
            bearer_token="bench-token",
            base_url=base,
            max_pages=pages,
            finishing=finishing(),
        )
        return collector.sweep(None)

    def mastodon() -> Iterator[Page]:
        collector = MastodonCollector(
            new_http(),
            name="mastodon:acme",
            base_url=base,
            hashtag="acme",
            max_pages=mastodon_pages + 1,
            finishing=finishing(),
        )
        return collector.sweep(str(MASTODON_CURSOR))

    def reddit() -> Iterator[Page]:
        collector = RedditCollector(
            new_http(), name="reddit:all", subreddit="all", base_url=base, max_pages=pages, finishing=finishing()
        )
        return collector.sweep(None)

    def bluesky() -> Iterator[Page]:
        collector = BlueskyCollector(
            new_http(), name="bluesky:acme", search="acme", base_url=base, max_pages=pages, finishing=finishing()
        )
        return collector.sweep(None)

    def hackernews() -> Iterator[Page]:
        collector = HackerNewsCollector(
            new_http(), name="hackernews:acme", search="acme", base_url=base, max_pages=pages, finishing=finishing()
        )
        return collector.sweep(None)

    def feed() -> Iterator[Page]:
        collector = FeedCollector(
            new_http(), name="rss:alerts", url=f"{base}/alerts/feeds/acme", max_pages=pages, finishing=finishing()
        )
        return collector.sweep(None)

    def reviews() -> Iterator[Page]:
        collector = ReviewCollector(
            new_http(), name="review:kindle", url=base + AMAZON_PATH, max_pages=review_pages, finishing=finishing()
        )
        return collector.sweep(None)

    return [
        Source("X (recent search)", x),
        Source("Mastodon (tag timeline)", mastodon),
        Source("Reddit (r/all/new)", reddit),
        Source("Bluesky (searchPosts)", bluesky),
        Source("Hacker News (Algolia)", hackernews),
        Source("RSS/Atom (paged feed)", feed),
        Source("Reviews (amazon.it markup)", reviews),
    ]


@dataclass(frozen=True)
class HttpFigure:
    label: str
    requests: int
    seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def mean_ms(self) -> float:
        return self.seconds / self.requests * 1000

    @property
    def cpu_ms(self) -> float:
        """Client-side CPU per request (the server is another process): the least noisy overhead figure."""
        return self.cpu_seconds / self.requests * 1000


def http_overhead(url: str, count: int, block: int = 25) -> tuple[HttpFigure, HttpFigure]:
    """`Http.get` and plain `requests` on the same URL, alternating blocks so both see the same noise."""
    polite, plain = new_http(), requests.Session()
    polite.get(url, accept=("application/json",))  # connections open and the pools warm for both
    plain.get(url).content  # noqa: B018
    spent = {"polite": [0.0, 0.0], "plain": [0.0, 0.0]}
    done = 0
    while done < count:
        n = min(block, count - done)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            polite.get(url, accept=("application/json",))
        spent["polite"][0] += time.perf_counter() - wall
        spent["polite"][1] += time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            response = plain.get(url)
            response.raise_for_status()
            response.content  # noqa: B018
        spent["plain"][0] += time.perf_counter() - wall
        spent["plain"][1] += time.process_time() - cpu
        done += n
    return HttpFigure("Http.get", count, *spent["polite"]), HttpFigure("requests.Session.get", count, *spent["plain"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pages",
        type=int,
        default=20,
        help="pages per source (Mastodon: as many 40-status pages as hold the same number)",
    )
    parser.add_argument("--per-page", type=int, default=100, help="items per page (Mastodon: at most 40)")
    parser.add_argument(
        "--review-pages",
        type=int,
        default=3,
        help="review pages (each is the ~350 KiB amazon.it page with --per-page reviews)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="sweeps per source; the median is printed")
    parser.add_argument("--requests", type=int, default=300, help="GETs per client and body in the HTTP overhead run")
    args = parser.parse_args()

    server = ReplayProcess.start()
    try:
        base = server.base_url
        texts = recorded_texts()
        mastodon_pages = math.ceil(args.pages * args.per_page / MASTODON_PAGE)
        small = Reply.file(OWN_FIXTURES / "http/ok.json", JSON)
        x_page = x_routes(texts, 1, 100)[0][1]
        routes = [
            *x_routes(texts, args.pages, args.per_page),
            *mastodon_routes(base, texts, mastodon_pages),
            *reddit_routes(texts, args.pages, args.per_page),
            *bluesky_routes(texts, args.pages, args.per_page),
            *hackernews_routes(texts, args.pages, args.per_page),
            *feed_routes(texts, args.pages, args.per_page),
            *review_routes(args.review_pages, args.per_page),
            ("/bench/small.json", small, {}),
            ("/bench/x_page.json", x_page, {}),
        ]
        server.serve(routes)
        detect_language("warming up the language model before the clock starts")

        print(
            f"{len(texts)} recorded texts; {args.pages} pages x {args.per_page} items per source; median of {args.repeat}"
        )
        print(f"{'source':<28} {'mentions':>8} {'pages':>5} {'seconds':>8} {'mentions/s':>10} {'CPU s':>7}")
        for source in sources(base, args.pages, mastodon_pages, args.review_pages):
            figure = measure(source, args.repeat)
            print(
                f"{figure.label:<28} {figure.mentions:>8} {figure.pages:>5} {figure.seconds:>8.2f} "
                f"{figure.mentions / figure.seconds:>10.0f} {figure.cpu_seconds:>7.2f}"
                + (f"  ({figure.rejected} rejected)" if figure.rejected else "")
            )

        print()
        print(f"HTTP layer overhead ({args.requests} GETs each, same server, interleaved blocks of 25)")
        for name, reply in (("/bench/small.json", small), ("/bench/x_page.json", x_page)):
            polite, plain = http_overhead(base + name, args.requests)
            print(f"  {name} ({len(reply.body):,} bytes)")
            for figure in (polite, plain):
                print(
                    f"    {figure.label:<22} {figure.per_second:>7.0f} requests/s  {figure.mean_ms:>6.2f} ms/request  {figure.cpu_ms:>5.2f} CPU ms/request"
                )
            print(
                f"    Http.get / requests: {polite.cpu_ms / plain.cpu_ms:.2f}x the client CPU per request "
                f"({polite.cpu_ms - plain.cpu_ms:+.2f} ms); "
                f"{polite.mean_ms / plain.mean_ms:.2f}x the time per request ({polite.mean_ms - plain.mean_ms:+.2f} ms)"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
