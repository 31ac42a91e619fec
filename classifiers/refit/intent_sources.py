"""Every labeled intent set the trainer can read, by name, with where it came from.

- ``real``: our labels of public tweets (``classifiers/data/intent/labels.tsv``, texts fetched into the data
  folder); the only source whose rows are ever held out or reported.
- ``banking77``, ``nlupp``, ``hint3``, ``bitext``: permissively licensed customer-service messages
  (``classifiers/data/intent_support/``), chat text rather than posts: augmentation only.
- ``synthetic``: brand-directed posts the project wrote (``classifiers/data/intent/synthetic/``), marked synthetic:
  augmentation only, never counted in a reported figure.

Augmentation texts are normalised like the tweets (``@user``, no URLs), as serving normalises every post.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from classifiers.refit.data import Example
from classifiers.text import normalise_tweet
from classifiers.verdict import Intent

DATA = Path(__file__).resolve().parents[1] / "data"
SUPPORT = DATA / "intent_support"
SYNTHETIC = DATA / "intent" / "synthetic" / "posts.jsonl"
SUPPORT_SETS = {
    "banking77": "banking77",
    "nlupp": "nlupp",
    "hint3": "hint3",
    "bitext": "bitext_customer_service",
}
AUGMENTATION = (*SUPPORT_SETS, "synthetic")
"""Names of the sets that may only be trained on, never held out."""
_INTENTS = {i.value for i in Intent}


def support_set(name: str) -> list[Example]:
    """One customer-service set, rows with an intent Overheard knows (``text,intent,source_label``)."""
    if name not in SUPPORT_SETS:
        raise ValueError(f"unknown support set {name!r}; expected one of {', '.join(SUPPORT_SETS)}")
    path = SUPPORT / SUPPORT_SETS[name] / "data.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Example(normalise_tweet(r["text"]), r["intent"], f"{name}:{i}")
        for i, r in enumerate(rows)
        if r.get("intent") in _INTENTS and (r.get("text") or "").strip()
    ]


def synthetic_posts(path: Path = SYNTHETIC) -> list[Example]:
    """The project's synthetic brand posts; a clear error when the file is absent."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no synthetic posts (python -m training.data.intent.synthetic.generate)")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Example(normalise_tweet(row["text"]), row["intent"], str(row["id"])))
    return out


def augmentation(name: str) -> list[Example]:
    """An augmentation set by name (one of ``AUGMENTATION``)."""
    return synthetic_posts() if name == "synthetic" else support_set(name)


def parse_weights(spec: str) -> dict[str, float]:
    """``"synthetic:1,banking77:0.3"`` → {name: weight}; a bare name weighs 1. Unknown names are clear errors."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, weight = part.partition(":")
        if name not in AUGMENTATION:
            raise ValueError(f"--augment: {name!r} is not one of {', '.join(AUGMENTATION)}")
        weights[name] = float(weight) if weight else 1.0
    return weights
