"""The boolean query language users write for brands and competitors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from listener.mention import Author, Mention, Platform
from listener.query import QuerySet, QuerySyntaxError, parse, to_plain_search, to_x_query


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("acme", "I love #Acme!", True),
        ("acme", "@acme why is my order late", True),
        ("acme", "acmeology is a word", False),
        ("acme*", "acmeology is a word", True),
        ('"acme corp"', "Acme   Corp. shipped it", True),
        ('"acme corp"', "corp acme", False),
        ("acme AND refund", "acme gave me a refund", True),
        ("acme refund", "acme was fine", False),
        ("acme OR globex", "globex is down", True),
        ("acme NOT explosives", "acme explosives rock", False),
        ("acme -explosives", "acme support rocks", True),
        ("acme AND (refund OR return)", "acme return label", True),
        ("acme AND (refund OR return)", "acme shipping", False),
        ("NOT acme", "nothing here", True),
        ("café", "Cafe crème at CAFÉ", True),
        ("acme.io", "visit acme io today", True),
        ("acme or globex", "acme or globex", True),  # lower-case 'or' is a word, not an operator
        ("acme or globex", "acme globex", False),
    ],
)
def test_query_matching(query: str, text: str, expected: bool) -> None:
    assert parse(query).matches(text) is expected


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", "empty query"),
        ('"acme', "unclosed quote at position 1"),
        ("(acme OR globex", "unclosed '\\(' at position 1"),
        ("acme OR", "expected a term at the end"),
        ("acme )", "unexpected '\\)' at position 6"),
        ('acme ""', "empty phrase at position 6"),
    ],
)
def test_syntax_errors_name_the_position(query: str, problem: str) -> None:
    with pytest.raises(QuerySyntaxError, match=problem):
        parse(query)


def test_and_binds_tighter_than_or() -> None:
    q = parse("acme refund OR globex")

    assert q.matches("globex only")
    assert not q.matches("acme only")


def test_x_rendering_keeps_exclusions_and_adds_platform_filters() -> None:
    rendered = to_x_query(parse('(acme OR "acme corp") -explosives'), language="en")

    assert rendered == '(acme OR "acme corp") -explosives -is:retweet lang:en'


def test_x_rendering_of_a_top_level_or() -> None:
    assert to_x_query(parse("acme OR globex"), exclude_retweets=False) == "(acme OR globex)"


def test_plain_search_sends_only_positive_terms() -> None:
    assert to_plain_search(parse('(acme OR "acme corp") -explosives')) == ["acme", '"acme corp"']


def mention(text: str, **extra: object) -> Mention:
    return Mention(
        source=Platform.rss,
        external_id="1",
        author=Author(handle="someone"),
        text=text,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        **extra,
    )


def test_query_set_tags_every_matching_query_and_keeps_earlier_tags() -> None:
    queries = QuerySet({"brand": "acme", "competitor": "globex", "complaints": "acme AND (broken OR refund)"})

    tagged = queries.tag(mention("Acme arrived broken, Globex never does", matched_queries=("manual",)))

    assert tagged.matched_queries == ("manual", "brand", "competitor", "complaints")


def test_titles_count_for_matching() -> None:
    tagged = QuerySet({"brand": "acme"}).tag(mention("it broke again", title="Acme kettle review"))

    assert tagged.matched_queries == ("brand",)


@given(st.text(max_size=60))
def test_any_text_either_parses_or_fails_with_a_syntax_error(text: str) -> None:
    try:
        q = parse(text)
    except QuerySyntaxError as error:
        # the message says where the query went wrong (or that there was nothing to parse)
        assert re.search(r"position \d+|empty query|at the end of", str(error)), str(error)
        return
    verdict = q.matches(text)  # never crashes on its own text
    assert isinstance(verdict, bool)
    assert parse(text).matches(text) is verdict  # parsing is deterministic


@given(st.lists(st.sampled_from(["acme", "globex", "refund", "broken"]), min_size=1, max_size=6))
def test_a_word_query_matches_exactly_texts_containing_it(text_words: list[str]) -> None:
    text = " ".join(text_words)
    assert parse("refund").matches(text) is ("refund" in text_words)
