"""Reddit search and listings, against recorded PRAW cassettes on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from listener.base import BuildContext, SourceError, SourceNotAvailable
from listener.http import Http
from listener.normalise import Finishing
from listener.query import QuerySet
from listener.reddit import (
    RedditAppToken,
    RedditCollector,
    RedditSource,
    app_access_token,
    build,
    deletion_checker,
)
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, FakeTime, ReplayServer, Reply

RECORDED = RECORDED_FIXTURES / "reddit"
SEARCH = RECORDED / "TestSubreddit.test_search/001_GET_r_all_search"
ALL_NEW = RECORDED / "TestSubredditStreams.test_submissions/001_GET_r_all_new"
COMMENTS = RECORDED / "TestSubredditListings.test_comments/001_GET_r_askreddit_comments"
DELETED = RECORDED / "TestComment.test_refresh__deleted_comment/001_GET_api_info"
LAST_PAGE = OWN_FIXTURES / "reddit/new_last_page.json"
JSON = "application/json; charset=UTF-8"


def test_search_results_become_mentions_with_title_and_score(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/search.json", Reply.recorded(SEARCH))
    collector = RedditCollector(http, name="reddit:praw", query="praw AND (oauth OR search)", base_url=server.base_url)

    [page] = list(collector.sweep(None))

    assert len(page.mentions) == 6
    first = page.mentions[0]
    assert first.external_id == "t3_3gpbiu"
    assert first.title.startswith("[PRAW][OAuth2Util] Problem using get_banned()")
    assert first.text.startswith("# solved")  # selftext as written (raw_json=1: no HTML escaping)
    assert first.author.handle == "dClauzel"
    assert (
        first.url == "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
    )
    assert first.created_at == datetime(2015, 8, 12, 9, 8, 34, tzinfo=UTC)
    assert (first.engagement.score, first.engagement.replies) == (0, 21)
    assert first.thread_id == "t3_3gpbiu"
    assert page.mentions[-1].language == "ja"  # detected offline: Reddit gives no language

    [request] = server.requests_to("/r/all/search.json")
    assert request.param("q") == "praw AND (oauth OR search)"
    assert (request.param("sort"), request.param("restrict_sr"), request.param("raw_json")) == ("new", "False", "1")


def test_listing_pages_with_after_until_the_last_page(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    server.add("/r/all/new.json", Reply.file(LAST_PAGE, JSON), query={"after": "t3_5jo10c"})
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url)

    pages = list(collector.sweep("1482370000"))

    assert [len(p.mentions) for p in pages] == [100, 2]  # the removed post is skipped, not a mention
    assert pages[-1].rejected == []
    assert pages[-1].next_cursor == "1482373050"  # created_utc of the newest post
    assert [r.param("after") for r in server.requests_to("/r/all/new.json")] == [None, "t3_5jo10c"]


def test_sweep_stops_at_the_floor_of_the_last_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url)

    [page] = list(collector.sweep("1482373036"))

    floor = datetime.fromtimestamp(1482373036, tz=UTC)
    assert page.mentions and min(m.created_at for m in page.mentions) == floor  # equal seconds fetched again
    assert len(page.mentions) < 100
    assert len(server.requests_to("/r/all/new.json")) == 1


def test_page_limit_saves_the_after_position_to_resume_the_backlog(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    server.add("/r/all/new.json", Reply.file(LAST_PAGE, JSON), query={"after": "t3_5jo10c"})
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url, max_pages=1)

    [first] = list(collector.sweep("1482370000"))
    assert json.loads(first.next_cursor or "") == {
        "floor": "1482370000",
        "resume": "t3_5jo10c",
        "ceiling": "1482373050",
    }

    [backlog] = list(collector.sweep(first.next_cursor))
    assert len(backlog.mentions) == 2
    assert backlog.next_cursor == "1482373050"


def test_comments_listing_links_each_comment_to_its_post(server: ReplayServer, http: Http) -> None:
    server.add("/r/askreddit/comments.json", Reply.recorded(COMMENTS))
    collector = RedditCollector(
        http, name="reddit:askreddit", subreddit="askreddit", comments=True, base_url=server.base_url, max_pages=1
    )

    [page] = list(collector.sweep(None))

    comment = page.mentions[0]
    assert comment.external_id == "t1_d4y8bdp"
    assert comment.text == "great, life is so much better when you can do what you enjoy for a living"
    assert (comment.reply_to_id, comment.thread_id) == ("t3_4r4inc", "t3_4r4inc")
    assert comment.title == '[Serious] To anyone who "followed their dreams", how has it panned out?'


def test_deleted_comments_are_skipped(server: ReplayServer, http: Http) -> None:
    server.add("/r/askreddit/comments.json", Reply.recorded(DELETED))
    collector = RedditCollector(
        http, name="reddit:askreddit", subreddit="askreddit", comments=True, base_url=server.base_url
    )

    [page] = list(collector.sweep(None))

    assert page.mentions == [] and page.rejected == []


def test_oauth_requests_carry_the_token_and_drop_the_json_suffix(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/search", Reply.recorded(SEARCH))
    collector = RedditCollector(
        http, name="reddit:praw", query="praw", base_url=server.base_url, access_token="<ACCESS_TOKEN>"
    )

    list(collector.sweep(None))

    assert server.requests_to("/r/all/search")[0].headers["authorization"] == "Bearer <ACCESS_TOKEN>"


def test_html_error_page_instead_of_a_listing_fails_the_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/search.json", Reply.file(OWN_FIXTURES / "http/page.html", "text/html"))
    collector = RedditCollector(http, name="reddit:praw", query="praw", base_url=server.base_url)

    with pytest.raises(SourceError, match=r"reddit:praw: .*content type text/html"):
        list(collector.sweep(None))


def test_a_crash_between_pages_loses_nothing_when_the_sweep_is_run_again(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    server.add("/r/all/new.json", Reply(503), query={"after": "t3_5jo10c"})
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url)
    stored: dict[str, object] = {}

    sweep = collector.sweep("1482370000")
    stored.update((m.external_id, m) for m in next(sweep).mentions)
    with pytest.raises(SourceError, match=r"HTTP 503.*gave up after 5 attempts"):
        next(sweep)

    # The shell saved no cursor for the failed sweep; once Reddit recovers, the same sweep runs again.
    server.add("/r/all/new.json", Reply.file(LAST_PAGE, JSON), query={"after": "t3_5jo10c", "limit": "100"})
    pages = list(collector.sweep("1482370000"))
    stored.update((m.external_id, m) for p in pages for m in p.mentions)

    assert len(stored) == 102  # every post once: the upsert key makes the repeated first page harmless
    assert pages[-1].next_cursor == "1482373050"


def test_app_token_is_fetched_with_client_credentials(server: ReplayServer, http: Http) -> None:
    token_reply = Reply.recorded(RECORDED / "TestSubreddit.test_search/000_POST_api_v1_access_token")
    server.add("/api/v1/access_token", token_reply, method="POST")

    token, lifetime = app_access_token(http, "my-client-id", "my-secret", base_url=server.base_url)

    assert (token, lifetime) == ("<ACCESS_TOKEN>", 3600.0)
    [request] = server.requests_to("/api/v1/access_token")
    assert request.body == b"grant_type=client_credentials"
    assert request.headers["authorization"] == "Basic bXktY2xpZW50LWlkOm15LXNlY3JldA=="


def test_an_overlap_window_reads_on_past_the_floor_for_posts_indexed_late(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url, overlap_s=10)

    [page] = list(collector.sweep("1482373036"))

    oldest = min(m.created_at for m in page.mentions)
    assert datetime.fromtimestamp(1482373026, tz=UTC) <= oldest < datetime.fromtimestamp(1482373036, tz=UTC)


# --- OAuth (client credentials), Reddit's User-Agent form, comments ---------------------------------------------

TOKEN = RECORDED / "TestComment.test_attributes/000_POST_api_v1_access_token"
USER_AGENT = "server:overheard-acme:1.4.0 (by /u/acme_listening)"


def _app_token(server: ReplayServer, http: Http) -> RedditAppToken:
    return RedditAppToken(http, "my-client-id", "my-secret", auth_url=server.base_url, user_agent=USER_AGENT)


def test_the_app_token_is_obtained_once_and_sent_with_reddits_user_agent(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/access_token", Reply.recorded(TOKEN), method="POST")
    server.add("/r/all/search", Reply.recorded(SEARCH))
    token = _app_token(server, http)
    collector = RedditCollector(
        http, name="reddit:praw", query="praw", base_url=server.base_url, token=token, user_agent=USER_AGENT
    )

    list(collector.sweep(None))
    list(collector.sweep(None))

    assert len(server.requests_to("/api/v1/access_token")) == 1
    searches = server.requests_to("/r/all/search")  # oauth.reddit.com serves JSON without the '.json' suffix
    assert [s.headers["authorization"] for s in searches] == ["Bearer <ACCESS_TOKEN>"] * 2
    assert {s.headers["user-agent"] for s in searches} == {USER_AGENT}
    assert server.requests_to("/api/v1/access_token")[0].headers["user-agent"] == USER_AGENT


def test_the_app_token_is_renewed_before_it_expires(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    server.add("/api/v1/access_token", Reply.recorded(TOKEN), method="POST")
    token = _app_token(server, http)

    token.header()
    fake_time.now += 3600 - 120  # two minutes before the hour the token lives
    token.header()

    assert len(server.requests_to("/api/v1/access_token")) == 2


def test_a_401_renews_the_token_and_asks_again(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/access_token", Reply.recorded(TOKEN), method="POST")
    server.add("/r/all/search", Reply(401), Reply.recorded(SEARCH))
    collector = RedditCollector(
        http, name="reddit:praw", query="praw", base_url=server.base_url, token=_app_token(server, http)
    )

    [page] = list(collector.sweep(None))

    assert len(page.mentions) == 6
    assert len(server.requests_to("/api/v1/access_token")) == 2


def test_refused_app_credentials_name_what_to_check(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/access_token", Reply(401), method="POST")
    collector = RedditCollector(
        http, name="reddit:praw", query="praw", base_url=server.base_url, token=_app_token(server, http)
    )

    with pytest.raises(SourceError, match="client id and secret"):
        list(collector.sweep(None))


def test_a_subreddits_comments_are_read_and_only_those_naming_a_query_are_kept(
    server: ReplayServer, http: Http
) -> None:
    server.add("/r/askreddit/comments.json", Reply.recorded(COMMENTS))
    finishing = Finishing(queries=QuerySet({"snacks": "cheese OR vodka"}))
    collector = RedditCollector(
        http,
        name="reddit:comments@askreddit",
        subreddit="askreddit",
        comments=True,
        only_matching=True,
        base_url=server.base_url,
        max_pages=1,
        finishing=finishing,
    )

    [page] = list(collector.sweep(None))

    assert len(page.mentions) == 2
    assert all(m.matched_queries == ("snacks",) and m.external_id.startswith("t1_") for m in page.mentions)


def _context(secrets: dict[str, str]) -> BuildContext:
    return BuildContext("reddit", Http(user_agent="t"), Finishing(), {"brand:Acme": "acme"}, secrets.get)


def test_the_builder_calls_oauth_reddit_com_and_reads_comments_of_the_chosen_subreddits() -> None:
    source = RedditSource(name="reddit", kind="reddit", subreddits=("acme",), user_agent=USER_AGENT)
    built = build(source, _context({"OVERHEARD_REDDIT_CLIENT_ID": "id", "OVERHEARD_REDDIT_CLIENT_SECRET": "s"}))

    assert [c.name for c in built] == ["reddit:brand:Acme@acme", "reddit:comments@acme"]
    assert all(isinstance(c, RedditCollector) and c.base_url == "https://oauth.reddit.com" for c in built)


def test_the_builder_names_the_missing_credentials_and_user_agent() -> None:
    with pytest.raises(SourceNotAvailable, match="OVERHEARD_REDDIT_CLIENT_ID"):
        build(RedditSource(name="reddit", kind="reddit", user_agent=USER_AGENT), _context({}))
    with pytest.raises(SourceNotAvailable, match=r"user_agent.*by /u/"):
        build(RedditSource(name="reddit", kind="reddit"), _context({"OVERHEARD_REDDIT_CLIENT_ID": "i"}))


def test_a_user_agent_not_in_reddits_form_is_refused() -> None:
    with pytest.raises(ValidationError, match="by /u/"):
        RedditSource(name="reddit", kind="reddit", user_agent="Mozilla/5.0")


def test_the_deletion_recheck_uses_the_app_token_and_reddits_user_agent(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/access_token", Reply.recorded(TOKEN), method="POST")
    server.add("/api/info.json", Reply.recorded(DELETED))
    source = RedditSource(
        name="reddit", kind="reddit", user_agent=USER_AGENT, base_url=server.base_url, auth_url=server.base_url
    )
    secrets = {"OVERHEARD_REDDIT_CLIENT_ID": "id", "OVERHEARD_REDDIT_CLIENT_SECRET": "s"}
    checker = deletion_checker(source, BuildContext("reddit", http, Finishing(), {}, secrets.get))
    assert checker is not None

    answer = checker.check("t1_d7ltvl0", None)

    assert answer.gone
    [request] = server.requests_to("/api/info.json")
    assert (request.headers["authorization"], request.headers["user-agent"]) == ("Bearer <ACCESS_TOKEN>", USER_AGENT)
    assert (
        deletion_checker(source, BuildContext("reddit", http, Finishing(), {}, {}.get)) is None
    )  # no credentials: nothing to check with
