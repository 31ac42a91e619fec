"""Offline language detection (py3langid) for mentions whose platform did not say.

Links, @handles, #hashtags and emoji say nothing about the language and are removed first. Texts with
fewer than `MIN_LETTERS` letters left, or a best guess under `MIN_CONFIDENCE`, stay unknown (None):
a wrong language is worse than none, because classifiers downstream pick their model by it.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

MIN_LETTERS = 12
MIN_CONFIDENCE = 0.80
SAMPLE_CHARS = 1000
"""Only the start of long texts is classified: it decides as well, in a fraction of the time."""

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\S+@\S+")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Loading the model takes most of a second, so it happens once, on first use, not at import.
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def normalise_language(code: str | None) -> str | None:
    """A platform's language tag as ISO 639-1 ('en-US' → 'en'); 'und'/'zxx'/'' → None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary in ("und", "zxx", "mul", "qme", "qht", "qam", "qst", "art") or len(primary) != 2:
        return None
    return primary


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`, or None when too short or too uncertain to say."""
    cleaned = _NOISE.sub(" ", text[: SAMPLE_CHARS * 2])[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None
    with _LOCK:
        code, confidence = _identifier().classify(cleaned)
    return normalise_language(code) if confidence >= MIN_CONFIDENCE else None
