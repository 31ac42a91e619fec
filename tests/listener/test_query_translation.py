"""Each platform gets the boolean query in its own syntax, or one search per clause where it has no OR."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from listener import bluesky, hackernews, mastodon, reddit, x
from listener.base import BuildContext, Collector
from listener.http import Http
from listener.normalise import Finishing
from listener.query import parse, search_clauses, to_plain_searches, to_x_queries


def test_an_or_query_becomes_one_plain_search_per_alternative() -> None:
    assert to_plain_searches(parse("Acme OR hoot")) == ["acme", "hoot"]


def test_and_distributes_over_or_and_exclusions_are_left_to_local_matching() -> None:
    assert to_plain_searches(parse('acme AND (refund OR "money back") -explosives')) == [
        "acme refund",
        'acme "money back"',
    ]


def test_a_clause_implied_by_a_broader_one_is_not_searched_twice() -> None:
    assert to_plain_searches(parse('acme OR "acme corp" OR (acme AND refund)')) == ["acme", '"acme corp"']


def test_clauses_keep_exclusions_for_platforms_that_can_send_them() -> None:
    [clause] = search_clauses(parse("acme NOT (explosives OR anvil)"))
    assert [t.words for t in clause.include] == [("acme",)]
    assert sorted(t.words for t in clause.exclude) == [("anvil",), ("explosives",)]


def test_a_query_of_only_exclusions_has_nothing_to_search() -> None:
    assert to_plain_searches(parse("NOT acme")) == []


def test_an_x_query_within_512_characters_is_sent_whole() -> None:
    assert to_x_queries(parse("acme OR hoot")) == ["(acme OR hoot) -is:retweet"]


def test_an_x_query_past_the_limit_is_split_into_queries_that_each_fit() -> None:
    names = [f"brandname{i:03d}" for i in range(60)]  # 60 * ~14 characters: well past 512
    query = parse(" OR ".join(names))
    rendered = to_x_queries(query, limit=512)
    assert len(rendered) > 1
    assert all(len(q) <= 512 for q in rendered)
    assert all(q.endswith(" -is:retweet") for q in rendered)
    sent = " ".join(rendered)
    assert all(name in sent for name in names)


def test_an_x_clause_that_alone_is_too_long_is_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match="512"):
        to_x_queries(parse(" ".join(f"word{i:04d}" for i in range(120))), limit=512)


# --- what each platform's builder sends ------------------------------------------------------------------------


def _context(queries: Mapping[str, str]) -> BuildContext:
    return BuildContext(
        source="s",
        http=Http(user_agent="t", allow_networks=("127.0.0.1/32",)),
        finishing=Finishing(),
        queries=queries,
        secret=lambda name: "token" if name else None,
    )


def _searches(collectors: list[Collector]) -> list[tuple[str, str]]:
    found = []
    for c in collectors:
        assert isinstance(
            c, hackernews.HackerNewsCollector | bluesky.BlueskyCollector | mastodon.MastodonCollector | x.XCollector
        )
        found.append((c.name, c.search or ""))
    return found


QUERIES = {"brand:Acme": "Acme OR hoot"}


def test_hacker_news_sends_one_search_per_alternative() -> None:
    built = hackernews.build(hackernews.HackerNewsSource(name="s", kind="hackernews"), _context(QUERIES))
    assert _searches(built) == [("s:brand:Acme:acme", "acme"), ("s:brand:Acme:hoot", "hoot")]


def test_bluesky_sends_one_search_per_alternative() -> None:
    built = bluesky.build(bluesky.BlueskySource(name="s", kind="bluesky"), _context(QUERIES))
    assert [search for _, search in _searches(built)] == ["acme", "hoot"]


def test_mastodon_sends_one_search_per_alternative() -> None:
    source = mastodon.MastodonSource(name="s", kind="mastodon", instance="https://example.social")
    built = mastodon.build(source, _context(QUERIES))
    assert [search for _, search in _searches(built)] == ["acme", "hoot"]


def test_a_single_term_query_keeps_its_collector_name_and_cursor() -> None:
    built = hackernews.build(
        hackernews.HackerNewsSource(name="s", kind="hackernews"), _context({"brand:Acme": "acme -explosives"})
    )
    assert _searches(built) == [("s:brand:Acme", "acme")]


def test_x_sends_its_native_or() -> None:
    built = x.build(x.XSource(name="s", kind="x", bearer_token_env="T"), _context(QUERIES))
    assert _searches(built) == [("s:brand:Acme", "(acme OR hoot) -is:retweet")]


def test_reddit_sends_its_own_boolean_syntax() -> None:
    built = reddit.build(
        reddit.RedditSource(name="s", kind="reddit", user_agent="server:overheard:1.0 (by /u/acme_team)"),
        _context({"b": "(acme OR hoot) -anvil"}),
    )
    [collector] = built
    assert isinstance(collector, reddit.RedditCollector)
    assert collector.search == "(acme OR hoot) AND NOT anvil"
