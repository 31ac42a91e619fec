"""Engagement counts of collected posts, looked up again by id in batches, against recorded responses."""

from __future__ import annotations

from listener.engagement import BlueskyEngagement, RedditEngagement, XEngagement
from listener.http import Http
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply

JSON = "application/json; charset=utf-8"
BSKY_POST = "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"


def test_bluesky_counts_come_from_get_posts(server: ReplayServer, http: Http) -> None:
    server.add(
        "/xrpc/app.bsky.feed.getPosts",
        Reply.recorded(RECORDED_FIXTURES / "bluesky/bskyr_vcr/f_getposts/000_GET_xrpc_app_bsky_feed_getPosts"),
    )

    found = BlueskyEngagement(http, server.base_url).lookup([BSKY_POST, "at://did:plc:gone/app.bsky.feed.post/x"])

    assert found[BSKY_POST].likes == 4 and found[BSKY_POST].reposts == 0
    assert list(found) == [BSKY_POST]  # a post the answer leaves out keeps its counts
    [request] = server.requests_to("/xrpc/app.bsky.feed.getPosts")
    assert request.query["uris"] == [BSKY_POST, "at://did:plc:gone/app.bsky.feed.post/x"]


def test_bluesky_asks_25_posts_at_a_time(server: ReplayServer, http: Http) -> None:
    server.add(
        "/xrpc/app.bsky.feed.getPosts",
        Reply.recorded(RECORDED_FIXTURES / "bluesky/bskyr_vcr/f_getposts/000_GET_xrpc_app_bsky_feed_getPosts"),
    )

    BlueskyEngagement(http, server.base_url).lookup([f"at://did:plc:a/app.bsky.feed.post/{n}" for n in range(30)])

    assert [len(r.query["uris"]) for r in server.requests_to("/xrpc/app.bsky.feed.getPosts")] == [25, 5]


def test_reddit_scores_and_comment_counts_come_from_info(server: ReplayServer, http: Http) -> None:
    server.add("/api/info", Reply.recorded(RECORDED_FIXTURES / "reddit/TestReddit.test_info_url/001_GET_api_info"))

    found = RedditEngagement(http, server.base_url).lookup(["t3_6eudcy", "t3_6eabl0"])

    assert (found["t3_6eudcy"].score, found["t3_6eudcy"].replies) == (2, 1)
    assert server.requests_to("/api/info")[0].param("id") == "t3_6eudcy,t3_6eabl0"


def test_x_public_metrics_come_from_the_tweets_lookup(server: ReplayServer, http: Http) -> None:
    # /2/tweets answers `data: [tweet…]` as the quote-tweets endpoint does; its recorded page carries public_metrics
    page = RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/apis/tweet/tweet_quote_tweets_resp.json"
    server.add("/2/tweets", Reply.file(page, JSON))

    found = XEngagement(http, server.base_url, "test-token").lookup(["1495979553889697792"])

    assert found["1495979553889697792"].reposts == 160
    request = server.requests_to("/2/tweets")[0]
    assert request.param("tweet.fields") == "public_metrics"
    assert request.headers["authorization"] == "Bearer test-token"


def test_a_refused_lookup_changes_nothing(server: ReplayServer, http: Http) -> None:
    server.add("/api/info", Reply(403))

    assert RedditEngagement(http, server.base_url).lookup(["t3_6eudcy"]) == {}
