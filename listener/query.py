"""The local boolean query language: one brand or competitor query, applied the same way to every source.

Syntax (case-insensitive operators, as users write them in `overheard.yaml`):

    acme OR "acme corp"                 either term
    acme AND (support OR refund)        both; AND may be left out: `acme refund` means the same
    acme NOT "acme explosives"          NOT / a leading '-' excludes: `acme -explosives`
    acme*                               prefix: acme, acmes, acmecorp
    acme lang:de                        only posts in German (ISO 639-1, the platform's tag or detected offline)
    acme (lang:de OR lang:nl)           one of several languages
    acme -lang:en                       any language but English (and posts of unknown language)

`lang:` narrows the whole query: it stands beside the terms at the top (`(acme OR lumora) lang:de`), not inside
an OR with a term, and a query needs at least one term. X searches by language itself (`lang:de`); for the other
platforms the local match checks it. A post whose language is unknown matches no `lang:` (but any `-lang:`).

Matching is on words, not substrings: `acme` matches "#Acme", "@acme" and "ACME's" but not "acmeology"
(use `acme*` for that). A quoted phrase matches consecutive words. A term with punctuation inside
(`acme.io`) is a phrase of its words.

`parse()` turns text into a `Query` (or raises `QuerySyntaxError` naming the position); `QuerySet` tags
mentions with the names of the queries they match; `to_x_query()` and `to_boolean_search()` render a query
for X and for Reddit (`to_x_queries()` splits a query past X's length limit), `to_plain_searches()` gives
one search per alternative (clause) for searches without OR (Hacker News, Bluesky, Mastodon).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from listener.mention import Mention

_WORD = re.compile(r"\w+", re.UNICODE)
_LANGUAGE_TERM = re.compile(r"lang:(\S*)", re.IGNORECASE)
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")


def words(text: str) -> list[str]:
    """The words of `text`, case-folded and accent-stripped, as the query language sees them."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(stripped)


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; the message names the position and what was expected."""


class Words:
    """The words of one text, as a list (for phrases) and a set (for the common one-word terms)."""

    __slots__ = ("sequence", "unique")

    def __init__(self, text: str) -> None:
        self.sequence = words(text)
        self.unique = frozenset(self.sequence)


@dataclass(frozen=True)
class Term:
    """A word, a prefix (`acme*`) or a phrase (`"acme corp"`): a run of words that must appear in order."""

    words: tuple[str, ...]
    prefix: bool = False
    quoted: bool = False

    def matches(self, text: Words) -> bool:
        *lead, last = self.words
        if not lead:
            if self.prefix:
                return any(word.startswith(last) for word in text.unique)
            return last in text.unique
        if lead[0] not in text.unique:
            return False
        seq, n = text.sequence, len(self.words)
        for start in range(len(seq) - n + 1):
            if seq[start] == lead[0] and all(seq[start + i] == lead[i] for i in range(1, n - 1)):
                candidate = seq[start + n - 1]
                if candidate == last or (self.prefix and candidate.startswith(last)):
                    return True
        return False


@dataclass(frozen=True)
class Lang:
    """`lang:de` as parsed, before `parse` lifts it out of the tree into `Query.languages`."""

    code: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node: TypeAlias = Term | Lang | Not | And | Or


def evaluate(node: Node, text_words: Words) -> bool:
    if isinstance(node, Term):
        return node.matches(text_words)
    if isinstance(node, Lang):  # pragma: no cover - parse() lifts every Lang out of the tree
        raise TypeError(f"lang:{node.code} inside a query tree; parse() keeps it in Query.languages")
    if isinstance(node, Not):
        return not evaluate(node.operand, text_words)
    if isinstance(node, And):
        return all(evaluate(op, text_words) for op in node.operands)
    return any(evaluate(op, text_words) for op in node.operands)


@dataclass(frozen=True)
class Query:
    """A parsed query. `source` is the text as the user wrote it; `root` its terms; `languages` the ISO 639-1
    codes a post must be in (one of them; empty: any) and `not_languages` those it must not be in."""

    source: str
    root: Node
    languages: frozenset[str] = frozenset()
    not_languages: frozenset[str] = frozenset()

    def allows_language(self, language: str | None) -> bool:
        """True when a post in `language` (None: unknown) may match: it is one of `languages` (when there are
        any) and none of `not_languages`."""
        code = language.lower() if language else None
        if self.languages and code not in self.languages:
            return False
        return code is None or code not in self.not_languages

    def matches(self, text: str, language: str | None = None) -> bool:
        return self.allows_language(language) and evaluate(self.root, Words(text))

    def positive_terms(self) -> list[Term]:
        """Terms that can make a text match (not under a NOT): what to send to platforms with plain search."""
        found: list[Term] = []

        def walk(node: Node, negated: bool) -> None:
            if isinstance(node, Term):
                if not negated and node not in found:
                    found.append(node)
            elif isinstance(node, Lang):
                pass
            elif isinstance(node, Not):
                walk(node.operand, not negated)
            else:
                for op in node.operands:
                    walk(op, negated)

        walk(self.root, False)
        return found


# --- parsing ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<phrase>"[^"]*"?)|(?P<minus>-(?=[\w"(]))|(?P<word>[^\s()"]+))')
_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # lp, rp, phrase, minus, word, AND, OR, NOT
    text: str
    pos: int


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # pragma: no cover - the word alternative matches anything else
            raise QuerySyntaxError(f"unexpected character at position {pos + 1}: {text[pos]!r}")
        kind = m.lastgroup or "word"
        value = m.group(kind)
        start = m.start(kind)
        if kind == "phrase" and (len(value) < 2 or not value.endswith('"')):
            raise QuerySyntaxError(f"unclosed quote at position {start + 1}")
        if kind == "word" and value in _OPERATORS:  # operators are upper-case so 'or' stays a word
            kind = value
        tokens.append(_Token(kind, value, start))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenise(text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise QuerySyntaxError("empty query")
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise QuerySyntaxError(f"unexpected {extra.text!r} at position {extra.pos + 1}")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while (token := self.peek()) is not None and token.kind not in ("OR", "rp"):
            if token.kind == "AND":
                self.take()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("NOT", "minus"):
            self.take()
            return Not(self.not_expr())
        return self.atom()

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(f"expected a term at the end of {self.text!r}")
        if token.kind == "lp":
            self.take()
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "rp":
                raise QuerySyntaxError(f"unclosed '(' at position {token.pos + 1}")
            self.take()
            return node
        if token.kind in ("phrase", "word"):
            self.take()
            return _term(token)
        raise QuerySyntaxError(f"expected a term at position {token.pos + 1}, found {token.text!r}")


def _term(token: _Token) -> Term | Lang:
    language = _LANGUAGE_TERM.fullmatch(token.text) if token.kind == "word" else None
    if language:
        code = language.group(1).lower()
        if not _LANGUAGE_CODE.fullmatch(code):
            raise QuerySyntaxError(
                f"{token.text!r} at position {token.pos + 1}: lang: takes a two-letter ISO 639-1 code, e.g. lang:de"
            )
        return Lang(code)
    if token.kind == "phrase":
        found = tuple(words(token.text[1:-1]))
        if not found:
            raise QuerySyntaxError(f"empty phrase at position {token.pos + 1}")
        return Term(found, quoted=True)
    prefix = token.text.endswith("*")
    found = tuple(words(token.text.rstrip("*")))
    if not found:
        raise QuerySyntaxError(f"{token.text!r} at position {token.pos + 1} has no letters or digits")
    return Term(found, prefix=prefix)


def _contains_language(node: Node) -> bool:
    if isinstance(node, Lang):
        return True
    if isinstance(node, Not):
        return _contains_language(node.operand)
    if isinstance(node, And | Or):
        return any(_contains_language(op) for op in node.operands)
    return False


def _lift_languages(text: str, root: Node) -> Query:
    """The query with its top-level `lang:` parts lifted out of the tree (see the module docstring)."""
    operands = root.operands if isinstance(root, And) else (root,)
    terms: list[Node] = []
    languages: set[str] | None = None
    excluded: set[str] = set()
    for node in operands:
        if isinstance(node, Not) and isinstance(node.operand, Lang):
            excluded.add(node.operand.code)
            continue
        if isinstance(node, Lang) or (isinstance(node, Or) and all(isinstance(op, Lang) for op in node.operands)):
            codes = {node.code} if isinstance(node, Lang) else {op.code for op in node.operands if isinstance(op, Lang)}
            languages = codes if languages is None else languages & codes
            if not languages:
                raise QuerySyntaxError(
                    f"{text[:80]!r}: a post has one language; for either, write (lang:de OR lang:fr)"
                )
            continue
        if _contains_language(node):
            raise QuerySyntaxError(
                f"{text[:80]!r}: lang: narrows the whole query; write it beside the terms, e.g. (acme OR lumora) lang:de"
            )
        terms.append(node)
    if not terms:
        raise QuerySyntaxError(f"{text[:80]!r}: a query needs a term besides lang:, e.g. acme lang:de")
    body = terms[0] if len(terms) == 1 else And(tuple(terms))
    return Query(text, body, frozenset(languages or ()), frozenset(excluded))


def parse(text: str) -> Query:
    """Parse a query; raises `QuerySyntaxError` with the position of the problem."""
    return _lift_languages(text, _Parser(text).parse())


# --- rendering for platforms ----------------------------------------------------------------------------


def to_x_query(query: Query, *, exclude_retweets: bool = True, language: str | None = None) -> str:
    """Render for X API v2 search: `(a OR "b c") -d -is:retweet lang:en`. X has no prefix operator, so a
    prefix term is sent as its stem word; the local match re-checks every result anyway."""

    def render(node: Node, top: bool = False) -> str:
        if isinstance(node, Term):
            text = " ".join(node.words)
            return f'"{text}"' if len(node.words) > 1 or node.quoted else text
        if isinstance(node, Lang):  # parse() lifts these into Query.languages; X reads them as written
            return f"lang:{node.code}"
        if isinstance(node, Not):
            inner = render(node.operand)
            return f"-{inner}" if isinstance(node.operand, Term) else f"-({inner})"
        joined = (" OR " if isinstance(node, Or) else " ").join(render(op) for op in node.operands)
        return joined if top or isinstance(node, And) else f"({joined})"

    # A top-level OR keeps its parentheses: X binds AND tighter, so `a OR b -is:retweet` would filter only b.
    parts = [render(query.root, top=not isinstance(query.root, Or))]
    return " ".join([*parts, *_x_suffix(query, exclude_retweets, language)])


def _x_suffix(query: Query, exclude_retweets: bool, language: str | None) -> list[str]:
    """X's operators after the terms: retweets left out, the source's language, the query's `lang:` parts."""
    parts = ["-is:retweet"] if exclude_retweets else []
    if language:
        parts.append(f"lang:{language}")
    codes = sorted(query.languages)
    if len(codes) == 1:
        parts.append(f"lang:{codes[0]}")
    elif codes:
        parts.append("(" + " OR ".join(f"lang:{c}" for c in codes) + ")")
    parts += [f"-lang:{c}" for c in sorted(query.not_languages)]
    return parts


def to_boolean_search(query: Query) -> str:
    """Render in the Lucene-like syntax Reddit search understands: `(a OR "b c") AND NOT d`."""

    def render(node: Node) -> str:
        if isinstance(node, Term):
            text = " ".join(node.words)
            return f'"{text}"' if len(node.words) > 1 or node.quoted else text + ("*" if node.prefix else "")
        if isinstance(node, Lang):  # parse() lifts these into Query.languages; Reddit has no language operator
            return "*"
        if isinstance(node, Not):
            return f"NOT {render(node.operand)}"
        joined = (" OR " if isinstance(node, Or) else " AND ").join(render(op) for op in node.operands)
        return f"({joined})"

    rendered = render(query.root)
    return rendered[1:-1] if isinstance(query.root, And | Or) else rendered


# --- clauses: the query as an OR of ANDs, for platforms whose search has no OR -------------------------------

MAX_CLAUSES = 32
"""Past this many OR-ed clauses (`(a OR b) (c OR d) (e OR f)…` multiplies out), a query is searched term by
term instead: more requests than that for one query would cost more than the extra results are worth."""


@dataclass(frozen=True)
class Clause:
    """One way a text can match: all of `include` and none of `exclude` (a conjunction of the query's terms)."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()


def _conjunctions(node: Node, negated: bool) -> list[frozenset[tuple[Term, bool]]]:
    """The query in disjunctive normal form: a list of conjunctions of (term, negated) literals."""
    if isinstance(node, Term):
        return [frozenset({(node, negated)})]
    if isinstance(node, Lang):  # parse() lifts these into Query.languages; no constraint on the search
        return [frozenset()]
    if isinstance(node, Not):
        return _conjunctions(node.operand, not negated)
    parts = [_conjunctions(op, negated) for op in node.operands]
    if isinstance(node, Or) != negated:  # an OR, or a negated AND (De Morgan): the alternatives side by side
        return [c for part in parts for c in part]
    product: list[frozenset[tuple[Term, bool]]] = [frozenset()]
    for part in parts:
        product = [left | right for left in product for right in part]
        if len(product) > MAX_CLAUSES:
            raise _TooManyClauses
    return product


class _TooManyClauses(Exception):
    pass


def search_clauses(query: Query) -> list[Clause]:
    """The query as alternatives a search engine without OR can run one by one: each clause is a conjunction
    of terms, clauses implied by a broader one are left out (`acme OR (acme AND refund)` is `acme`), and
    clauses with nothing to include (`NOT acme`) are dropped, since no search can ask for "everything but".

    Every result is matched again locally with the whole query, so a clause may be broader than the query
    (e.g. a platform that cannot exclude), never narrower.
    """
    try:
        conjunctions = _conjunctions(query.root, False)
    except _TooManyClauses:
        conjunctions = [frozenset({(term, False)}) for term in query.positive_terms()]
    kept: list[frozenset[tuple[Term, bool]]] = []
    for conjunction in conjunctions:
        terms = {term for term, negated in conjunction}
        if any((term, True) in conjunction and (term, False) in conjunction for term in terms):
            continue  # `a AND NOT a` matches nothing
        if not any(not negated for _, negated in conjunction):
            continue
        kept.append(conjunction)
    broadest = [c for c in kept if not any(other < c for other in kept)]
    unique = list(dict.fromkeys(broadest))
    return [
        Clause(
            include=tuple(_in_query_order(query, {t for t, negated in c if not negated})),
            exclude=tuple(_in_query_order(query, {t for t, negated in c if negated})),
        )
        for c in unique
    ]


def _in_query_order(query: Query, terms: set[Term]) -> list[Term]:
    order: list[Term] = []

    def walk(node: Node) -> None:
        if isinstance(node, Term):
            if node in terms and node not in order:
                order.append(node)
        elif isinstance(node, Not):
            walk(node.operand)
        elif isinstance(node, And | Or):
            for op in node.operands:
                walk(op)

    walk(query.root)
    return order


def _plain_term(term: Term) -> str:
    text = " ".join(term.words)
    return f'"{text}"' if len(term.words) > 1 else text


def to_plain_searches(query: Query) -> list[str]:
    """One search string per clause, terms separated by spaces (which Algolia, Bluesky and Mastodon all read as
    AND): for platforms whose search has no OR. Exclusions are left to the local match."""
    searches = [" ".join(_plain_term(t) for t in clause.include) for clause in search_clauses(query)]
    return list(dict.fromkeys(searches))


X_QUERY_LIMIT = 512
"""Characters X's recent search accepts in one query (self-serve and pay-per-use access; Pro allows 1,024)."""


def to_x_queries(
    query: Query, *, exclude_retweets: bool = True, language: str | None = None, limit: int = X_QUERY_LIMIT
) -> list[str]:
    """The query for X, split into several queries when one would pass X's `limit` on query length: the
    clauses (`search_clauses`, exclusions kept) are OR-ed together in as few queries as fit. Raises
    ValueError naming the limit when a single clause alone is too long."""
    whole = to_x_query(query, exclude_retweets=exclude_retweets, language=language)
    if len(whole) <= limit:
        return [whole]
    suffix = "".join(f" {part}" for part in _x_suffix(query, exclude_retweets, language))  # ' -is:retweet …'

    def render(clause: Clause) -> str:
        parts = [_x_term(t) for t in clause.include] + [f"-{_x_term(t)}" for t in clause.exclude]
        return " ".join(parts)

    queries: list[str] = []
    group: list[str] = []
    for clause in search_clauses(query):
        text = render(clause)
        if len(f"({text}){suffix}") > limit:
            raise ValueError(
                f"query {query.source[:60]!r}: the part {text[:60]!r}… alone is longer than X's limit of {limit} "
                "characters per query; shorten it"
            )
        candidate = [*group, text]
        if group and len(_x_group(candidate) + suffix) > limit:
            queries.append(_x_group(group) + suffix)
            candidate = [text]
        group = candidate
    if group:
        queries.append(_x_group(group) + suffix)
    return queries


def _x_term(term: Term) -> str:
    text = " ".join(term.words)
    return f'"{text}"' if len(term.words) > 1 or term.quoted else text


def _x_group(clauses: list[str]) -> str:
    return "(" + " OR ".join(f"({c})" if " " in c else c for c in clauses) + ")"


def to_plain_search(query: Query) -> list[str]:
    """One search string per positive term, for platforms whose search has no boolean operators."""
    return [f'"{" ".join(t.words)}"' if len(t.words) > 1 else t.words[0] for t in query.positive_terms()]


def plain_search(query_text: str) -> str:
    """A platform search string for a boolean query: its positive terms, OR-ed by the platform's own rules."""
    return " OR ".join(to_plain_search(parse(query_text)))


# --- tagging --------------------------------------------------------------------------------------------


class QuerySet:
    """The configured queries by name; tags mentions with every query they match."""

    def __init__(self, queries: Mapping[str, str | Query]) -> None:
        self.queries: dict[str, Query] = {name: q if isinstance(q, Query) else parse(q) for name, q in queries.items()}

    def matching(self, text: str, language: str | None = None) -> tuple[str, ...]:
        """Names of the queries `text` (in `language`, ISO 639-1; None: unknown) matches."""
        text_words = Words(text)
        return tuple(
            name for name, q in self.queries.items() if q.allows_language(language) and evaluate(q.root, text_words)
        )

    def tag(self, mention: Mention) -> Mention:
        """The mention with `matched_queries` set from its title, text and language (earlier tags kept)."""
        haystack = f"{mention.title}\n{mention.text}" if mention.title else mention.text
        matched = self.matching(haystack, mention.language)
        merged = tuple(dict.fromkeys((*mention.matched_queries, *matched)))
        return mention if merged == mention.matched_queries else mention.model_copy(update={"matched_queries": merged})

    def tag_all(self, mentions: Iterable[Mention]) -> list[Mention]:
        return [self.tag(m) for m in mentions]
