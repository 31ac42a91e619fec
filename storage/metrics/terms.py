"""Top terms and hashtags: a small tokenizer (links, handles and stopwords left out) over the period's most
engaged mentions."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, func, select

from storage.metrics.results import TermCount, TermsAndHashtags
from storage.metrics.scope import _engagement, _scope
from storage.schema import mentions

TERM_SAMPLE_LIMIT = 5_000
"""Top terms read at most this many of the period's mentions (the most engaged first): tokenising is Python."""


_HASHTAG = re.compile(r"(?<![\w&])#(\w*[^\W\d_]\w*)")
_WORD = re.compile(r"[^\W\d_][\w'’-]{2,}")
_NOISE = re.compile(r"https?://\S+|www\.\S+|@[\w.@-]+|#\w+")
_STOPWORD_TEXT = """
    the and for are but not you your yours with this that these those have has had was were will would
    can could should just than then them they their there here what when where which who whom why how
    all any both each few more most other some such only own same too very its it's i'm i've i'd don't
    doesn't didn't isn't aren't wasn't can't won't from into onto about over under again after before out
    off our ours ourselves him his her hers she he we me my mine myself yourself itself get got gets also
    like one two now still even much many been being because while did does doing let lets via amp
    anyone someone anything something says said back really thing things know think going way make made
    der die das und ist nicht mit ein eine auf für den dem des von sich auch auf wir ich sie es zu im
    les des une est pas pour que qui sur avec dans
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _terms_of(text: str) -> tuple[set[str], set[str]]:
    hashtags = {tag.lower() for tag in _HASHTAG.findall(text)}
    words = {w.lower().strip("'’-") for w in _WORD.findall(_NOISE.sub(" ", text))}
    return {w for w in words if len(w) > 2 and w not in STOPWORDS}, hashtags


def top_terms_and_hashtags(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None, limit: int = 20
) -> TermsAndHashtags:
    """Most used words (stopwords, links and handles left out) and hashtags; each counted once per mention.

    Reads at most TERM_SAMPLE_LIMIT mentions of the period, the most engaged first, and says how many.
    """
    conditions = _scope(start, end, brand)
    in_period = connection.execute(select(func.count()).select_from(mentions).where(*conditions)).scalar_one()
    texts = connection.execute(
        select(mentions.c.title, mentions.c.text)
        .where(*conditions)
        .order_by(_engagement.desc(), mentions.c.id)
        .limit(TERM_SAMPLE_LIMIT)
    ).all()
    terms: Counter[str] = Counter()
    hashtags: Counter[str] = Counter()
    for title, text in texts:
        words, tags = _terms_of(f"{title or ''}\n{text}")
        terms.update(words)
        hashtags.update(tags)

    def top(counter: Counter[str]) -> list[TermCount]:
        return [TermCount(t, n) for t, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    return TermsAndHashtags(top(terms), top(hashtags), len(texts), int(in_period))
