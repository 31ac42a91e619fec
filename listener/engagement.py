"""Engagement counts of posts already collected, looked up again by id in batches: a post gathers most of its
likes, reposts and replies in its first days, long after the sweep that found it.

One lookup per platform whose API reads many posts by id in one request (Bluesky `getPosts`, Reddit
`/api/info`, X `/2/tweets`). Mastodon and Hacker News read one post per request and are left to the overlap
window of their sweeps. A lookup answers only for the posts it could read; what it could not read keeps its
counts. Note that on X every post looked up is a billed read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from listener.http import Http, HttpError
from listener.mention import Engagement


class EngagementLookup(Protocol):
    """Reads current engagement counts for posts of one platform (`source`, the platform key) by external id."""

    source: str
    batch: int  # most ids per request

    def lookup(self, external_ids: Sequence[str]) -> dict[str, Engagement]: ...


def _counts(**values: Any) -> Engagement:
    return Engagement(**{k: v for k, v in values.items() if (isinstance(v, int) and v >= 0) or k == "score"})


class BlueskyEngagement:
    """`app.bsky.feed.getPosts`, 25 at-URIs per request."""

    source = "bluesky"
    batch = 25

    def __init__(self, http: Http, base_url: str, headers: Callable[[], Mapping[str, str]] = dict) -> None:
        self.http, self.url, self.headers = http, base_url.rstrip("/") + "/xrpc/app.bsky.feed.getPosts", headers

    def lookup(self, external_ids: Sequence[str]) -> dict[str, Engagement]:
        found: dict[str, Engagement] = {}
        for start in range(0, len(external_ids), self.batch):
            body = _get(self.http, self.url, {"uris": list(external_ids[start : start + self.batch])}, self.headers())
            for post in body.get("posts") or [] if isinstance(body, dict) else []:
                if isinstance(post, dict) and isinstance(post.get("uri"), str):
                    found[post["uri"]] = _counts(
                        likes=post.get("likeCount"),
                        reposts=post.get("repostCount"),
                        replies=post.get("replyCount"),
                        quotes=post.get("quoteCount"),
                    )
        return found


class RedditEngagement:
    """`/api/info?id=<fullnames>`, 100 per request; score and comment counts."""

    source = "reddit"
    batch = 100

    def __init__(self, http: Http, base_url: str, headers: Callable[[], Mapping[str, str]] = dict) -> None:
        self.http, self.url, self.headers = http, base_url.rstrip("/") + "/api/info", headers

    def lookup(self, external_ids: Sequence[str]) -> dict[str, Engagement]:
        found: dict[str, Engagement] = {}
        for start in range(0, len(external_ids), self.batch):
            ids = ",".join(external_ids[start : start + self.batch])
            body = _get(self.http, self.url, {"id": ids, "raw_json": 1}, self.headers())
            data = body.get("data") if isinstance(body, dict) else None
            for child in data.get("children") or [] if isinstance(data, dict) else []:
                item = child.get("data") if isinstance(child, dict) else None
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    found[item["name"]] = _counts(score=item.get("score"), replies=item.get("num_comments"))
        return found


class XEngagement:
    """`/2/tweets?ids=…&tweet.fields=public_metrics`, 100 per request (each post returned is a billed read)."""

    source = "x"
    batch = 100

    def __init__(self, http: Http, base_url: str, bearer_token: str) -> None:
        self.http, self.url = http, base_url.rstrip("/") + "/2/tweets"
        self.auth = {"Authorization": f"Bearer {bearer_token}"}

    def lookup(self, external_ids: Sequence[str]) -> dict[str, Engagement]:
        found: dict[str, Engagement] = {}
        for start in range(0, len(external_ids), self.batch):
            params = {"ids": ",".join(external_ids[start : start + self.batch]), "tweet.fields": "public_metrics"}
            body = _get(self.http, self.url, params, self.auth)
            for tweet in body.get("data") or [] if isinstance(body, dict) else []:
                metrics = tweet.get("public_metrics") if isinstance(tweet, dict) else None
                if isinstance(metrics, dict):
                    found[str(tweet["id"])] = _counts(
                        likes=metrics.get("like_count"),
                        reposts=metrics.get("retweet_count"),
                        replies=metrics.get("reply_count"),
                        quotes=metrics.get("quote_count"),
                        impressions=metrics.get("impression_count"),
                    )
        return found


def _get(http: Http, url: str, params: Mapping[str, Any], headers: Mapping[str, str]) -> Any:
    """One lookup request; a refused one answers nothing (the counts stay as they were)."""
    try:
        return http.get_json(url, params=params, headers=headers)
    except HttpError:
        return None
