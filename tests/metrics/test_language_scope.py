"""Every figure takes a language (issue 26): KPIs, series, sources, authors, share of voice, reviews, top terms and
the dashboard and report built from them count only the mentions in that language, on SQLite and PostgreSQL, from
the rollups' tables or not. Top terms leave out each mention's own language's stopwords.

The data set (2026-11-10, all brand:Lumora unless said):

    id  language  author (followers)  sentiment  text
    de1 de        anna (100)          negative   German complaint
    de2 de        bert (300)          negative   German complaint (also competitor:Brightwave)
    fr1 fr        chloe (50)          positive   French praise
    en1 en        dave (1000)         positive   English, full of English stopwords
    en2 en        erin (10)           neutral    English (competitor:Brightwave only)
    un1 (none)    finn (5)            negative   language unknown
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from classifiers.verdict import Intent, Sentiment, Verdict
from listener.mention import Author, Engagement, Mention
from overheard.report import csv_text
from overheard.services import Caller
from overheard.services import metrics as figures
from overheard.services.access import Invalid
from storage import metrics
from storage.mentions import save_mentions, save_verdicts
from storage.metrics.terms import STOPWORD_LANGUAGES
from storage.schema import metric_dirty

START = datetime(2026, 11, 3, tzinfo=UTC)
END = datetime(2026, 11, 17, tzinfo=UTC)  # two weeks: whole rollup days and slots on both sides
DAY = datetime(2026, 11, 10, 9, tzinfo=UTC)

POSTS = [
    ("de1", "de", "anna", 100, "negative", "Die Lumora App stürzt ständig ab und der Support antwortet nicht", 4),
    ("de2", "de", "bert", 300, "negative", "Seit dem Update ist die Lumora App kaputt, ich will mein Geld zurück", 2),
    ("fr1", "fr", "chloe", 50, "positive", "J'adore l'application Lumora, elle est vraiment très pratique", 1),
    ("en1", "en", "dave", 1000, "positive", "I want every Lumora update since it keeps getting better", 9),
    ("en2", "en", "erin", 10, "neutral", "Brightwave lamps are fine I guess", 0),
    ("un1", None, "finn", 5, "negative", "Lumora!!! 😡😡", 0),
]
QUERIES = {
    "de1": ["brand:Lumora"],
    "de2": ["brand:Lumora", "competitor:Brightwave"],
    "fr1": ["brand:Lumora"],
    "en1": ["brand:Lumora"],
    "en2": ["competitor:Brightwave"],
    "un1": ["brand:Lumora"],
}


@pytest.fixture
def languages(engine: Engine) -> Engine:
    batch = [
        Mention(
            source="x",
            external_id=key,
            author=Author(handle=handle, followers=followers),
            text=text,
            created_at=DAY + timedelta(minutes=7 * i),
            language=language,
            engagement=Engagement(likes=likes),
            matched_queries=tuple(QUERIES[key]),
        )
        for i, (key, language, handle, followers, _, text, likes) in enumerate(POSTS)
    ]
    with engine.begin() as connection:
        ids = save_mentions(connection, batch)
        save_verdicts(
            connection,
            [
                (
                    ids[("x", key)],
                    Verdict(
                        sentiment=Sentiment(sentiment),
                        sentiment_confidence=0.9,
                        intent=Intent.other,
                        intent_confidence=0.9,
                        model_version="fixture",
                    ),
                )
                for key, _, _, _, sentiment, _, _ in POSTS
            ],
        )
    return engine


def test_kpis_of_one_language_count_only_its_mentions_and_say_which(languages: Engine) -> None:
    with languages.connect() as c:
        german = metrics.kpis(c, START, END, language="de")
        everything = metrics.kpis(c, START, END)
        french_lumora = metrics.kpis(c, START, END, brand="Lumora", language="FR")
    assert german.language == "de" and everything.language is None
    now = german.current
    assert (now.mentions, now.unique_authors, now.potential_reach, now.engagement) == (2, 2, 400, 6)
    assert (now.positive, now.negative, now.net_sentiment) == (0, 2, -1.0)
    assert everything.current.mentions == 6
    assert (french_lumora.current.mentions, french_lumora.current.positive, french_lumora.language) == (1, 1, "fr")


def test_a_language_is_read_from_the_mentions_when_the_rollups_hold_all_languages(languages: Engine) -> None:
    with languages.begin() as c:
        metrics.refresh_rollups(c)
        assert c.execute(metric_dirty.select()).first() is None  # the whole period is in the rollups now
        rolled = metrics.kpis(c, START, END, language="de").current.mentions
        series = metrics.volume_series(c, START, END, language="de")
        sentiment = metrics.sentiment_series(c, START, END, brand="Lumora", language="de")
        everyone = metrics.kpis(c, START, END).current.mentions
    assert (rolled, everyone) == (2, 6)
    assert sum(p.mentions for p in series) == 2 and len(series) == 14
    assert sum(p.negative for p in sentiment) == 2 and sum(p.positive for p in sentiment) == 0


def test_share_of_voice_sources_authors_and_reviews_take_a_language(languages: Engine) -> None:
    with languages.begin() as c:
        metrics.refresh_rollups(c)
        german_voice = {v.query: v.mentions for v in metrics.share_of_voice(c, START, END, language="de")}
        english_voice = {v.query: v.mentions for v in metrics.share_of_voice(c, START, END, language="en")}
        all_voice = {v.query: v.mentions for v in metrics.share_of_voice(c, START, END)}
        authors = [a.handle for a in metrics.top_authors(c, START, END, language="de")]
        sources = metrics.top_sources(c, START, END, language="fr")
        reviews = metrics.review_ratings(c, START, END, language="de")
        spoken = [(n.language, n.mentions) for n in metrics.languages(c, START, END)]
    assert german_voice == {"brand:Lumora": 2, "competitor:Brightwave": 1}
    assert english_voice == {"brand:Lumora": 1, "competitor:Brightwave": 1}
    assert all_voice == {"brand:Lumora": 5, "competitor:Brightwave": 2}
    assert authors == ["bert", "anna"]
    assert [(s.source, s.mentions, s.potential_reach) for s in sources] == [("x", 1, 50)]
    assert reviews == []
    assert spoken == [("de", 2), ("en", 2), ("fr", 1), (None, 1)]


def test_a_language_that_is_not_a_two_letter_code_is_refused_by_name(languages: Engine) -> None:
    with languages.connect() as c, pytest.raises(ValueError, match="'german' is not a two-letter ISO 639-1 code"):
        metrics.kpis(c, START, END, language="german")
    with pytest.raises(Invalid, match="'d1' is not a two-letter"):
        figures.kpis(languages, Caller.operator(), START, END, None, "d1")


def test_top_terms_leave_out_each_mentions_own_languages_stopwords(languages: Engine) -> None:
    with languages.connect() as c:
        every = {t.term for t in metrics.top_terms_and_hashtags(c, START, END, limit=100).terms}
        german = metrics.top_terms_and_hashtags(c, START, END, language="de", limit=100)
    # English stopwords (issue 22), German and French ones are gone; the words that say what happened stay
    for word in ("want", "every", "since", "die", "und", "der", "nicht", "ist", "ich", "mein", "elle", "est", "très"):
        assert word not in every, word
    for word in ("lumora", "app", "stürzt", "support", "update", "kaputt", "geld", "application", "pratique"):
        assert word in every, word
    assert "adore" in every  # "J'adore": the elided pronoun is left out, the verb kept
    assert [(t.term, t.mentions) for t in german.terms[:2]] == [("app", 2), ("lumora", 2)]
    assert (german.mentions_read, german.mentions_in_period) == (2, 2)
    assert {t.term for t in german.terms} <= every - {"adore", "application", "pratique", "keeps", "brightwave"}


@pytest.mark.parametrize(
    ("language", "kept", "dropped"),
    [
        ("en", "refund broken order", "the and want every since would"),
        ("de", "rechnung lieferung", "und nicht aber schon wieder"),
        ("nl", "bestelling levering", "niet maar wel heel"),
        ("fr", "commande livraison", "pas mais très avec"),
        ("es", "pedido entrega", "pero muy para desde"),
        ("it", "ordine consegna", "non però molto sono"),
        ("pt", "pedido entrega", "não mas muito desde"),
        ("fi", "tilaus toimitus", "mutta vielä kanssa koska"),
        ("sv", "beställning leverans", "inte men mycket sedan"),
    ],
)
def test_each_supported_language_has_its_stopwords_and_keeps_its_topic_words(
    language: str, kept: str, dropped: str
) -> None:
    stop = metrics.stopwords(language)
    assert language in STOPWORD_LANGUAGES
    assert not set(kept.split()) & stop
    assert set(dropped.split()) <= stop
    assert {"the", "and", "want", "every", "since"} <= stop  # English is mixed into posts in every language


def test_the_dashboard_and_the_report_show_the_same_topics_of_the_chosen_language(languages: Engine) -> None:
    operator = Caller.operator()
    board = figures.dashboard(languages, operator, START, END, language="de")
    report = figures.report(languages, operator, START, END, language="de")
    assert board.report.language == report.language == "de"
    assert board.report.kpis.current.mentions == report.kpis.current.mentions == 2
    assert [t.term for t in board.report.terms.terms] == [t.term for t in report.terms.terms]
    assert [(n.language, n.mentions) for n in board.languages][:3] == [("de", 2), ("en", 2), ("fr", 1)]
    assert figures.dashboard(languages, operator, START, END, language="fi").report.kpis.current.mentions == 0


def test_phrases_are_two_words_side_by_side_in_a_clause_used_by_two_mentions_or_more(languages: Engine) -> None:
    # Both German posts say "Lumora App"; one post's own wording ("Geld zurück") is not a topic; a phrase never
    # runs over a stopword ("der Support": "der" is one) or a comma.
    with languages.connect() as c:
        found = metrics.top_terms_and_hashtags(c, START, END, limit=100)
        french = metrics.top_terms_and_hashtags(c, START, END, language="fr", limit=100)
    assert [(p.term, p.mentions) for p in found.phrases] == [("lumora app", 2)]
    assert french.phrases == []  # one mention: nothing is used twice


def test_the_report_csv_has_a_phrases_table(languages: Engine) -> None:
    report = figures.report(languages, Caller.operator(), START, END)
    assert csv_text(report, "phrases").splitlines() == ["phrase,mentions", "lumora app,2"]
