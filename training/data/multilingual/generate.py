"""Write the synthetic multilingual posts: per-language checks and, from other templates, training posts.

    python -m training.data.multilingual.generate

Every post here was written for this repository (no real post is copied): templates by language and intent,
each with its sentiment, phrasing alternatives in ``[a|b|c]`` and slots for brand, handle, product, days, price
and city, filled from per-language lists with a seeded random generator. The checks
(``checks/<lang>.jsonl``) and the training posts (``train.jsonl``) come from disjoint template lists
(``CHECK`` and ``TRAIN`` in ``templates.py``) and different seeds, so a check never repeats a training
sentence; a test holds the two apart. Checks are for evaluation only (``overheard evaluate``); never train on
them.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

from training.data.multilingual.templates import CHECK, SLOTS, TRAIN

HERE = Path(__file__).resolve().parents[3] / "classifiers" / "data" / "multilingual"
"""Where the generated posts are written: the runtime package's data folder."""

INTENTS = ("complaint", "purchase_intent", "question", "praise", "other")
SENTIMENT = {"n": "negative", "0": "neutral", "p": "positive"}
CHECKS_PER_INTENT = 32
TRAIN_PER_INTENT = 48
CHECK_SEED = "checks-2026-12"
TRAIN_SEED = "train-2026-12"
_CHOICE = re.compile(r"\[([^\[\]]*)\]")


def _rng(seed: str, lang: str, intent: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{seed}/{lang}/{intent}".encode()).hexdigest()[:16], 16))


def fill(template: str, lang: str, rng: random.Random) -> str:
    """One post from a template: choices picked, slots filled, spacing tidied."""
    text = template
    while _CHOICE.search(text):
        text = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), text, count=1)
    slots = SLOTS[lang]
    item = rng.choice(slots["items"])
    brand = rng.choice(slots["brands"])
    values = {
        "b": brand,
        "h": "@" + re.sub(r"\W", "", brand) + rng.choice(["", "", "_help", "Service", "_support"]),
        "i": item[0],
        "I": item[0][:1].upper() + item[0][1:],
        "io": item[1],
        "d": str(rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 14, 17, 21])),
        "p": rng.choice(["19,99 €", "49 €", "89 €", "129 €", "249 €", "399 €", "12,50 €"]),
        "c": rng.choice(slots["cities"]),
        "o": str(rng.randrange(10_000, 999_999)),
    }
    text = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)
    return (
        re.sub(r"\s+([,.!?])(?=\s|$)", r"\1", re.sub(r"\s+", " ", text)).strip()
        if lang != "fr"
        else re.sub(r"\s+", " ", text).strip()
    )


def posts(table: dict[str, dict[str, list[str]]], seed: str, per_intent: int, prefix: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for lang in sorted(table):
        for intent in INTENTS:
            templates = table[lang][intent]
            rng = _rng(seed, lang, intent)
            seen: set[str] = set()
            tries = 0
            while len(seen) < per_intent and tries < per_intent * 50:
                tries += 1
                index = rng.randrange(len(templates))
                code, template = templates[index].split(" ", 1)
                text = fill(template, lang, rng)
                if text in seen:
                    continue
                seen.add(text)
                out.append(
                    {
                        "id": f"{prefix}-{lang}-{len(out) + 1:05d}",
                        "language": lang,
                        "text": text,
                        "intent": intent,
                        "sentiment": SENTIMENT[code],
                        "template": f"{lang}/{intent}/{index}",
                        "synthetic": True,
                    }
                )
    return out


def render(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def generate() -> tuple[dict[str, str], str]:
    """The check files' contents by language, and the training file's."""
    checks = posts(CHECK, CHECK_SEED, CHECKS_PER_INTENT, "chk")
    by_language = {lang: render([p for p in checks if p["language"] == lang]) for lang in sorted(CHECK)}
    check_texts = {p["text"] for p in checks}
    train = [p for p in posts(TRAIN, TRAIN_SEED, TRAIN_PER_INTENT, "trn") if p["text"] not in check_texts]
    return by_language, render(train)


def main(out: Path = HERE) -> None:
    checks, train = generate()
    (out / "checks").mkdir(parents=True, exist_ok=True)
    for lang, content in checks.items():
        (out / "checks" / f"{lang}.jsonl").write_text(content, encoding="utf-8")
    (out / "train.jsonl").write_text(train, encoding="utf-8")
    print(f"{sum(c.count(chr(10)) for c in checks.values())} check posts, {train.count(chr(10))} training posts")


if __name__ == "__main__":
    main()
