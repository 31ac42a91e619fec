"""Top terms, phrases and hashtags: a small tokenizer (links, handles and stopwords left out) over the period's most
engaged mentions, each mention read with the stopwords of its own language.

Stopwords come from stopwords-iso (the PyPI package `stopwordsiso`, MIT; ISO 639-1 codes, the codes mentions
carry): a mention in German loses the German and the English stopwords (English is mixed into posts in every
language), a mention of unknown language or of a language without a list the English ones. The generic lists
also hold words that name what customers talk about ("help", "order", "problem", "website"): `TOPICAL` keeps
those as terms.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from functools import lru_cache
from itertools import pairwise

import stopwordsiso
from sqlalchemy import Connection, func, select

from storage.metrics.results import TermCount, TermsAndHashtags
from storage.metrics.scope import _engagement, _scope
from storage.schema import mentions

TERM_SAMPLE_LIMIT = 5_000
"""Top terms read at most this many of the period's mentions (the most engaged first): tokenising is Python."""

STOPWORD_LANGUAGES = ("en", "de", "nl", "fr", "es", "it", "pt", "fi", "sv", "da", "no", "pl")
"""Languages whose stopwords the tests check; any other language stopwords-iso knows is used too."""

_TOPICAL_TEXT = """
    help helps helped helping order orders ordered problem problems work works worked working website page pages
    home open opened line lines number numbers value test tests tested trying try tried results area place end
    information
"""
TOPICAL = frozenset(_TOPICAL_TEXT.split())
"""Words in stopwords-iso's English list that name what a mention is about: kept as terms."""

_EXTRA = frozenset({"amp", "via", "rt", "lol", "https", "http", "www"})
"""Social-media noise no stopword list has: HTML's '&amp;', retweet markers, link remnants."""

_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|dell|all|dall|nell|sull|un)'(?=\w)")
"""French and Italian elided articles and pronouns: "l'appli" is the term "appli"."""

_HASHTAG = re.compile(r"(?<![\w&])#(\w*[^\W\d_]\w*)")
_WORD = re.compile(r"[^\W\d_][\w'’-]{2,}")
_NOISE = re.compile(r"https?://\S+|www\.\S+|@[\w.@-]+|#\w+")
_BREAK = re.compile(r"[.!?;:,()\[\]{}\"“”«»„…/|–—\n]+|\s-\s")
"""Where a phrase cannot run on: punctuation that ends a clause, and the places links, handles and hashtags held."""
_TOKEN = re.compile(r"\w[\w'’-]*")
"""Every word and number of a clause, short ones too: a phrase is two of them side by side."""
MIN_PHRASE_MENTIONS = 2
"""A phrase is shown when at least this many mentions use it: one post's wording is not a topic."""


@lru_cache(maxsize=64)
def stopwords(language: str | None) -> frozenset[str]:
    """The words left out of the top terms of a mention in `language` (ISO 639-1; None: unknown): that
    language's stopwords and English's, less `TOPICAL`."""
    english = stopwordsiso.stopwords("en")
    own = (
        stopwordsiso.stopwords(language) if language and language != "en" and stopwordsiso.has_lang(language) else set()
    )
    folded = {w.replace("’", "'").lower() for w in (*english, *own)}
    return frozenset((folded | _EXTRA) - TOPICAL)


STOPWORDS = stopwords("en")
"""The English stopwords (and those of a mention whose language is unknown)."""


def _term(word: str) -> str:
    return _ELISION.sub("", word.lower().replace("’", "'")).strip("'-")


def _read(text: str, language: str | None = None) -> tuple[set[str], set[str], set[str]]:
    """The terms, two-word phrases and hashtags of one mention, with the stopwords of its `language` left out.

    A phrase is two words in a row within a clause, neither a stopword nor shorter than three letters, e.g.
    "customer service" ("still waiting" is not one: "still" is a stopword). Links, handles and hashtags break
    clauses and leave no term."""
    hashtags = {tag.lower() for tag in _HASHTAG.findall(text)}
    dropped = stopwords(language)
    terms: set[str] = set()
    phrases: set[str] = set()
    for clause in _BREAK.split(_NOISE.sub(" | ", text)):
        terms |= {w for w in map(_term, _WORD.findall(clause)) if len(w) > 2 and w not in dropped}
        words = [_term(w) for w in _TOKEN.findall(clause)]
        phrases |= {f"{a} {b}" for a, b in pairwise(words) if _kept(a, dropped) and _kept(b, dropped)}
    return terms, phrases, hashtags


def _kept(word: str, dropped: frozenset[str]) -> bool:
    return len(word) > 2 and word[0].isalpha() and word not in dropped


def top_terms_and_hashtags(
    connection: Connection,
    start: datetime,
    end: datetime,
    brand: str | None = None,
    limit: int = 20,
    language: str | None = None,
) -> TermsAndHashtags:
    """Most used words (each mention's language's stopwords, links and handles left out), two-word phrases (used
    by at least MIN_PHRASE_MENTIONS mentions) and hashtags; each counted once per mention. `language` (ISO
    639-1) keeps the mentions in that language.

    Reads at most TERM_SAMPLE_LIMIT mentions of the period, the most engaged first, and says how many.
    """
    conditions = _scope(start, end, brand, language)
    in_period = connection.execute(select(func.count()).select_from(mentions).where(*conditions)).scalar_one()
    texts = connection.execute(
        select(mentions.c.title, mentions.c.text, mentions.c.language)
        .where(*conditions)
        .order_by(_engagement.desc(), mentions.c.id)
        .limit(TERM_SAMPLE_LIMIT)
    ).all()
    terms: Counter[str] = Counter()
    hashtags: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    for title, text, in_language in texts:
        code = (in_language or "").lower() or None
        words, pairs, tags = _read(f"{title or ''}\n{text}", code)
        terms.update(words)
        phrases.update(pairs)
        hashtags.update(tags)

    def top(counter: Counter[str]) -> list[TermCount]:
        return [TermCount(t, n) for t, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    repeated = Counter({p: n for p, n in phrases.items() if n >= MIN_PHRASE_MENTIONS})
    return TermsAndHashtags(top(terms), top(hashtags), len(texts), int(in_period), top(repeated))
