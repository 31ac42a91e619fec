"""Turn raw mention text into what the model reads, and note what was changed on the way.

The sentiment head was trained on TweetEval-style text (handles as ``@user``, no URLs, HTML unescaped),
so serving normalises the same way. Bad input is repaired, never fatal: lone surrogates are replaced,
control characters dropped, and over-long posts cut at a word boundary with the cut recorded.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 2000
"""Characters of a post the model reads; the encoder itself sees at most ``MAX_TOKENS`` word pieces."""

_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise_tweet(text: str) -> str:
    """TweetEval's preprocessing: HTML-unescaped, @handles → ``@user``, URLs removed, spaces collapsed."""
    text = html.unescape(text)
    text = _HANDLE.sub("@user", text)
    text = _URL.sub("", text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class PreparedText:
    """A document's text as the model will read it, with notes on every repair made."""

    text: str
    notes: tuple[str, ...]
    original_chars: int


def prepare(text: str) -> PreparedText:
    """Repair and normalise one text. Raises TypeError when given something that is not text."""
    if not isinstance(text, str):
        raise TypeError(f"Document.text must be str, got {type(text).__name__}: {text!r:.60}")
    notes: list[str] = []
    original_chars = len(text)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        text = text.encode("utf-8", "replace").decode("utf-8", "replace")
        notes.append("invalid UTF-16 surrogates replaced")
    cleaned = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    if cleaned != text:
        notes.append("control characters removed")
    text = cleaned
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[: cut if cut > MAX_CHARS // 2 else MAX_CHARS]
        notes.append(f"truncated: read the first {len(text)} of {original_chars} characters")
    return PreparedText(text=normalise_tweet(text), notes=tuple(notes), original_chars=original_chars)
