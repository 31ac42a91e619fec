"""Per-language figures on the multilingual checks, English model alone (before issue 26) against the served
router (after), in one run.

    OMP_NUM_THREADS=1 python benchmarks/multilingual_checks.py [--only english|routed]

Each check's language is detected as for a collected mention; "english" reads every row with the English model
(non-English rows are flagged "the model reads English"), "routed" lets the language choose the model, as
`overheard evaluate` and the service do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from classifiers.labeled import LANGUAGE_HEADER, classify_examples, figures_by_language, read_labeled
    from classifiers.model import load_default
    from classifiers.multilingual import load_multilingual
    from classifiers.routing import LanguageRouter
    from classifiers.verdict import Classifier
    from listener.language import detect_language

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("english", "routed"))
    args = parser.parse_args()
    checks = sorted((REPO / "classifiers" / "data" / "multilingual" / "checks").glob("*.jsonl"))
    examples = [e for path in checks for e in read_labeled(path).examples]
    detected = [detect_language(e.text) for e in examples]
    english = load_default(backend="torch")
    paths: dict[str, Classifier] = {"english": english, "routed": LanguageRouter(english, load_multilingual)}
    for name, classifier in paths.items():
        if args.only and name != args.only:
            continue
        verdicts = classify_examples(classifier, examples, detect=detect_language)
        print(f"\n{name}: {len(examples)} checks\n{LANGUAGE_HEADER}")
        for figures in figures_by_language(examples, verdicts, detected):
            print(figures.line())


if __name__ == "__main__":
    main()
