"""Spam, bot and near-duplicate signals, recorded on the mention (never used to drop it here).

Signals are plain strings on `Mention.signals`:
- `"bot"`: the platform marks the account as automated (Mastodon `bot`, Bluesky `bot` label), or the
  author's handle and text look machine-made (digits-only suffix and link-only posts);
- `"spam"`: several spam traits at once (many links, hashtag or mention stuffing, shouting, giveaway or
  crypto bait phrases, long repeated characters);
- `"near_duplicate:<external_id>"`: the text is near-identical (SimHash within `MAX_DISTANCE` bits over
  word 3-grams) to an earlier mention seen by the same `NearDuplicateIndex` — copy-paste campaigns,
  syndicated press releases, cross-posts.

Decisions about what to do with these belong downstream (routing, metrics); the listener only observes.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable

from listener.mention import Mention
from listener.query import words

MAX_DISTANCE = 3
"""Hamming distance (of 64 bits) under which two texts are near-duplicates."""

MIN_WORDS_FOR_DUPLICATE = 6
"""Shorter texts ('thanks!', 'love it') are too common to call duplicates."""

_LINK = re.compile(r"https?://\S+")
_BAIT = re.compile(
    r"\b(giveaway|free followers|airdrop|dm me|click (the )?link|crypto|nft|earn \$?\d+|100% free|"
    r"promo code|limited offer|whatsapp)\b",
    re.IGNORECASE,
)
_REPEATS = re.compile(r"(.)\1{7,}")
_GENERATED_HANDLE = re.compile(r"^[a-z]+[_.]?\d{6,}$", re.IGNORECASE)


def spam_traits(text: str) -> list[str]:
    """The spam traits `text` shows, named (useful to explain a 'spam' signal)."""
    traits: list[str] = []
    if len(_LINK.findall(text)) >= 3:
        traits.append("many_links")
    if text.count("#") >= 6:
        traits.append("hashtag_stuffing")
    if text.count("@") >= 6:
        traits.append("mention_stuffing")
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 20 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7:
        traits.append("shouting")
    if _BAIT.search(text):
        traits.append("bait_phrase")
    if _REPEATS.search(text):
        traits.append("repeated_characters")
    return traits


def looks_spammy(text: str) -> bool:
    return len(spam_traits(text)) >= 2


def looks_automated(handle: str, text: str) -> bool:
    """A weak heuristic: generated-looking handle posting nothing but a link."""
    without_links = _LINK.sub("", text).strip()
    return bool(_GENERATED_HANDLE.match(handle.split("@", 1)[0])) and len(words(without_links)) <= 2


def simhash(text: str) -> int:
    """64-bit SimHash over word 3-grams (words as the query language sees them)."""
    tokens = words(_LINK.sub(" ", text))
    grams = [" ".join(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2))]
    weights = [0] * 64
    for gram in grams:
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


class NearDuplicateIndex:
    """Remembers the SimHash of the last `capacity` mentions and finds near-identical earlier ones.

    Lookup splits the 64 bits into 4 bands of 16: two hashes within 3 bits agree on at least one band
    (pigeonhole), so only mentions sharing a band are compared.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._hashes: OrderedDict[str, int] = OrderedDict()
        self._bands: list[dict[int, set[str]]] = [{} for _ in range(4)]

    def seen_before(self, key: str, text: str) -> str | None:
        """The key of an earlier near-duplicate of `text`, then remember `text` under `key`."""
        if len(words(text)) < MIN_WORDS_FOR_DUPLICATE:
            return None
        fingerprint = simhash(text)
        match: str | None = None
        candidates: set[str] = set()
        for band, table in enumerate(self._bands):
            candidates |= table.get(fingerprint >> (16 * band) & 0xFFFF, set())
        for other in sorted(candidates):
            if other != key and bin(self._hashes[other] ^ fingerprint).count("1") <= MAX_DISTANCE:
                match = other
                break
        self._remember(key, fingerprint)
        return match

    def _remember(self, key: str, fingerprint: int) -> None:
        if key in self._hashes:
            return
        self._hashes[key] = fingerprint
        for band, table in enumerate(self._bands):
            table.setdefault(fingerprint >> (16 * band) & 0xFFFF, set()).add(key)
        while len(self._hashes) > self.capacity:
            old_key, old = self._hashes.popitem(last=False)
            for band, table in enumerate(self._bands):
                bucket = table.get(old >> (16 * band) & 0xFFFF)
                if bucket is not None:
                    bucket.discard(old_key)


def record_signals(
    mention: Mention, *, platform_bot: bool = False, duplicates: NearDuplicateIndex | None = None
) -> Mention:
    """The mention with spam/bot/near-duplicate signals added (existing signals kept, no repeats)."""
    found: list[str] = []
    if platform_bot or looks_automated(mention.author.handle, mention.text):
        found.append("bot")
    if looks_spammy(mention.text):
        found.append("spam")
    if duplicates is not None:
        earlier = duplicates.seen_before(mention.external_id, mention.text)
        if earlier is not None:
            found.append(f"near_duplicate:{earlier}")
    merged = tuple(dict.fromkeys((*mention.signals, *found)))
    return mention if merged == mention.signals else mention.model_copy(update={"signals": merged})


def record_all(mentions: Iterable[Mention], duplicates: NearDuplicateIndex | None = None) -> list[Mention]:
    return [record_signals(m, duplicates=duplicates) for m in mentions]
