"""The boolean query language users write for brands and competitors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from listener.mention import Author, Mention, Platform
from listener.normalise import Converted, Finishing
from listener.query import (
    QuerySet,
    QuerySyntaxError,
    parse,
    to_boolean_search,
    to_plain_search,
    to_plain_searches,
    to_x_queries,
    to_x_query,
)


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


# --- lang: (issue 26) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ("acme lang:de", "de", True),
        ("acme lang:de", "fr", False),
        ("acme lang:de", None, False),  # a post of unknown language is in no language
        ("acme LANG:DE", "de", True),
        ("acme lang:de", "DE", True),
        ("(acme OR globex) lang:de", "de", True),
        ("acme (lang:de OR lang:fr)", "fr", True),
        ("acme (lang:de OR lang:fr)", "nl", False),
        ("acme -lang:en", "en", False),
        ("acme -lang:en", "nl", True),
        ("acme -lang:en", None, True),
        ("acme NOT lang:en refund", "sv", True),
    ],
)
def test_lang_keeps_posts_in_the_named_languages(query: str, language: str | None, expected: bool) -> None:
    assert parse(query).matches("Acme refund please", language) is expected


def test_lang_needs_the_terms_too() -> None:
    assert parse("acme lang:de").matches("nichts hier", "de") is False


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("lang:de", "needs a term besides lang:"),
        ("-lang:en", "needs a term besides lang:"),
        ("acme lang:german", "'lang:german' at position 6: lang: takes a two-letter ISO 639-1 code"),
        ("acme lang:", "lang: takes a two-letter"),
        ("acme OR lang:de", "lang: narrows the whole query"),
        ("acme (refund lang:de)", "lang: narrows the whole query"),
        ("acme lang:de lang:fr", "a post has one language"),
    ],
)
def test_lang_errors_say_how_to_write_it(query: str, problem: str) -> None:
    with pytest.raises(QuerySyntaxError, match=problem):
        parse(query)


def test_lang_is_sent_to_x_and_left_to_the_local_match_elsewhere() -> None:
    q = parse('(acme OR "acme corp") lang:de -lang:en')
    assert to_x_query(q) == '(acme OR "acme corp") -is:retweet lang:de -lang:en'
    assert to_x_query(parse("acme (lang:fr OR lang:de)"), exclude_retweets=False) == "acme (lang:de OR lang:fr)"
    assert to_x_queries(q) == [to_x_query(q)]
    assert to_boolean_search(q) == 'acme OR "acme corp"'
    assert to_plain_searches(q) == ["acme", '"acme corp"']


def test_a_long_query_split_for_x_keeps_its_language_in_every_part() -> None:
    q = parse("(" + " OR ".join(f"brand{i}" for i in range(120)) + ") lang:nl")
    parts = to_x_queries(q, limit=200)
    assert len(parts) > 1
    assert all(part.endswith(" -is:retweet lang:nl") and len(part) <= 200 for part in parts)


def test_tagging_reads_the_mentions_language_detected_before_the_queries() -> None:
    queries = QuerySet({"brand:Acme DE": "acme lang:de", "brand:Acme": "acme", "brand:Acme not EN": "acme -lang:en"})
    german = "Die Acme App stürzt ständig ab und der Support antwortet einfach nicht"
    post = Mention(
        source=Platform.x, external_id="1", author=Author(handle="anna"), text=german, created_at=datetime.now(UTC)
    )
    done = Finishing(queries=queries).finish(Converted(post))
    assert done.language == "de"
    assert done.matched_queries == ("brand:Acme DE", "brand:Acme", "brand:Acme not EN")
    english = post.model_copy(
        update={"text": "The Acme app keeps crashing and support never answers", "language": "en"}
    )
    assert queries.tag(english).matched_queries == ("brand:Acme",)
