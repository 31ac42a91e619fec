"""Score model folders on the real intent test split (labels.tsv split=test), side by side.

    python -m training.intent_test_split classifiers/artifacts var/mt/r9
    python -m training.intent_test_split --sources --demo classifiers/artifacts var/mt/r9
    python -m training.intent_test_split --write-demo var/demo_intents.csv   # then: overheard evaluate var/demo_intents.csv

Each folder is read with the torch backend (the figures of the model card's tables); the tweet texts must have been
fetched (scripts/fetch_training_data.py). ``--sources`` adds the real customer-service messages of NLU++ and HINT3
per data source (held out: never trained on by a shipped model), ``--demo`` the demo sample's intended intents (a
smoke check of synthetic posts: never tuned on, never a reported figure of quality). Only a measurement: nothing is
chosen here.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path

from classifiers.metrics import evaluate
from classifiers.model import load_default
from classifiers.refit import data
from classifiers.refit.intent_sources import support_set
from classifiers.verdict import Document

LABELS = ["complaint", "purchase_intent", "question", "praise", "other"]
SAMPLES = Path(__file__).resolve().parents[1] / "overheard" / "samples"
HELD_OUT_SOURCES = ("nlupp", "hint3")


def demo_rows() -> list[tuple[Document, str, str]]:
    """(document, intended intent, language) for each demo mention that has an intended intent."""
    with (SAMPLES / "intended_intents.tsv").open(encoding="utf-8", newline="") as f:
        want = {(r["source"], r["external_id"]): r["intent"] for r in csv.DictReader(f, delimiter="\t")}
    rows = []
    for line in (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            post = json.loads(line)
        except json.JSONDecodeError:
            continue  # the sample holds malformed rows on purpose (the demo shows them quarantined)
        if not isinstance(post, dict) or "source" not in post:
            continue
        key = (post["source"], post["external_id"])
        if key in want:
            language = post.get("language") or "en"
            rows.append((Document(post["text"], language=language, rating=post.get("rating")), want[key], language))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="*", help="model folders (artifacts) to score")
    parser.add_argument("--sources", action="store_true", help="also NLU++ and HINT3, per source")
    parser.add_argument("--demo", action="store_true", help="also the demo sample's intended intents (smoke check)")
    parser.add_argument(
        "--write-demo",
        type=Path,
        help="write the demo's intended intents as CSV (text, intent, language) for `overheard evaluate`, which reads "
        "them as served (non-English through the multilingual model), and stop",
    )
    args = parser.parse_args()
    if args.write_demo:
        with args.write_demo.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["text", "intent", "language"])
            writer.writeheader()
            writer.writerows({"text": d.text, "intent": want, "language": lang} for d, want, lang in demo_rows())
        print(f"wrote {args.write_demo}")
        return
    test = data.intent_examples().get("test", [])
    if not test:
        raise SystemExit(
            f"no intent test rows: fetch the tweet texts first (scripts/fetch_training_data.py); labels: {data.INTENT_LABELS}"
        )
    for folder in args.folders:
        model = load_default(backend="torch", threads=1, artifacts=folder)
        verdicts = model.classify([Document(e.text) for e in test])
        report = evaluate([e.label for e in test], [str(v.intent) for v in verdicts], LABELS)
        print(f"== {folder} ({model.version}) on {len(test)} real test tweets\n{report.render()}", flush=True)
        if args.sources:
            for name in HELD_OUT_SOURCES:
                rows = support_set(name)
                got = evaluate(
                    [e.label for e in rows],
                    [str(v.intent) for v in model.classify([Document(e.text) for e in rows])],
                    LABELS,
                )
                print(
                    f"   {name} ({len(rows)}): "
                    + ", ".join(
                        f"{k} P/R {got.per_class[k].precision:.2f}/{got.per_class[k].recall:.2f} (n={got.per_class[k].support})"
                        for k in LABELS
                        if got.per_class[k].support
                    ),
                    flush=True,
                )
        if args.demo:
            demo = demo_rows()
            found: Counter[tuple[str, str]] = Counter()
            total: Counter[tuple[str, str]] = Counter()
            for (_, want, language), verdict in zip(demo, model.classify([d for d, _, _ in demo]), strict=True):
                for scope in ("all", "en" if language.startswith("en") else "other"):
                    total[want, scope] += 1
                    found[want, scope] += str(verdict.intent) == want
            print(
                "   demo smoke (synthetic, never tuned on): "
                + ", ".join(
                    f"{k} {found[k, 'all']}/{total[k, 'all']} (en {found[k, 'en']}/{total[k, 'en']})"
                    for k in LABELS
                    if total[k, "all"]
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
