"""What every collector does between a raw platform item and the `Mention` it hands on.

1. convert the raw item (a collector's own function); an item that fails becomes `Rejected` with the
   reason and the raw payload, and the rest of the page goes on;
2. fill in the language offline when the platform did not give one (`listener.language`);
3. tag it with the configured queries it matches (`listener.query`; a query may ask for a language,
   `acme lang:de`, so the language is known first);
4. record spam / bot / near-duplicate signals (`listener.signals`).

Also the one place that turns an HTTP failure into the `SourceError` a sweep raises, and HTML into text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import unescape
from typing import Any, TypeVar

from pydantic import ValidationError

from listener.base import Rejected, SourceError
from listener.http import HttpError, RateLimited
from listener.language import detect_language
from listener.mention import Mention
from listener.query import QuerySet
from listener.signals import NearDuplicateIndex, record_signals

log = logging.getLogger(__name__)

T = TypeVar("T")


class Skip(Exception):
    """Raised by a converter for an item that is valid but not a mention (a deleted post, a retweet)."""


@dataclass(frozen=True)
class Converted:
    """A raw item turned into a mention, with platform facts the mention has no field for."""

    mention: Mention
    platform_bot: bool = False


@dataclass
class Finishing:
    """Steps 2–4, shared by the collectors of one run. Defaults: no queries, language on, no duplicate index."""

    queries: QuerySet | None = None
    detect_languages: bool = True
    duplicates: NearDuplicateIndex | None = None

    def finish(self, converted: Converted) -> Mention:
        mention = converted.mention
        if mention.language is None and self.detect_languages:
            text = f"{mention.title}. {mention.text}" if mention.title else mention.text
            language = detect_language(text)
            if language:
                mention = mention.model_copy(update={"language": language})
        if self.queries is not None:
            mention = self.queries.tag(mention)
        return record_signals(mention, platform_bot=converted.platform_bot, duplicates=self.duplicates)


def convert_items(
    source: str,
    items: Iterable[T],
    convert: Callable[[T], Converted],
    finishing: Finishing,
) -> tuple[list[Mention], list[Rejected]]:
    """Convert and finish each item; quarantine the ones that fail, with the reason."""
    mentions: list[Mention] = []
    rejected: list[Rejected] = []
    for item in items:
        try:
            mentions.append(finishing.finish(convert(item)))
        except Skip:
            continue
        except ValidationError as exc:
            rejected.append(Rejected(source, _explain(exc), _payload(item)))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            rejected.append(Rejected(source, reason, _payload(item)))
    if rejected:
        log.warning("listener.rejected", extra={"source": source, "count": len(rejected)})
    return mentions, rejected


def source_error(source: str, exc: HttpError) -> SourceError:
    """The `SourceError` a sweep raises for an HTTP failure, logged once here."""
    retry_after = exc.reset_in_s if isinstance(exc, RateLimited) else None
    log.error("listener.source_failed", extra={"source": source, "error": str(exc)})
    return SourceError(source, str(exc), retry_after_s=retry_after)


def page_error(source: str, url: str, reason: str) -> SourceError:
    """The `SourceError` for a page that arrived but is not what the platform documents."""
    log.error("listener.page_unreadable", extra={"source": source, "url": url, "reason": reason})
    return SourceError(source, f"{url}: {reason}")


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _payload(item: Any) -> str:
    if isinstance(item, str):
        return item
    try:
        return json.dumps(item, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(item)


_HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BLOCK_END = re.compile(r"</?(?:p|div|li|ul|ol|blockquote|pre|h[1-6]|tr|table|section|article)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[^\S\n]+")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment as a reader sees it: paragraphs and line breaks kept, tags gone,
    entities decoded, runs of spaces collapsed. Regular expressions rather than a parser: the input is
    a post body we only read (never render), and this runs for every mention."""
    if "<" not in html and "&" not in html:
        return html.strip()
    text = _HIDDEN.sub("", html)
    text = _LINE_BREAK.sub("\n", text)
    text = _BLOCK_END.sub("\n\n", text)
    text = unescape(_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
