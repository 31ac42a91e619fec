"""needs_human thresholds from overheard.yaml: validated there, merged over the shipped ones by the classifier."""

from __future__ import annotations

import pytest

from classifiers.model import Thresholds, TransformerClassifier
from classifiers.verdict import Document, Intent
from overheard.config import ConfigError, parse_config

CONFIG = """brands:
  - name: Lumora
    query: lumora
classifier:
  thresholds:
    intent:
      {intent}: {value}
"""


def test_config_names_an_unknown_intent_and_an_impossible_threshold() -> None:
    with pytest.raises(ConfigError, match=r"classifier\.thresholds\.intent\.lead"):
        parse_config(CONFIG.format(intent="lead", value=0.5))
    with pytest.raises(ConfigError, match=r"classifier\.thresholds\.intent\.complaint"):
        parse_config(CONFIG.format(intent="complaint", value=1.5))
    config = parse_config(CONFIG.format(intent="complaint", value=0.95))
    assert config.classifier.thresholds.intent == {Intent.complaint: 0.95}
    assert config.classifier.thresholds.sentiment is None


def test_configured_intent_thresholds_override_only_what_they_name(classifier: TransformerClassifier) -> None:
    # 1.0: every complaint verdict goes to a person, however sure the model is (a clear complaint scores 0.9998)
    strict = TransformerClassifier(classifier.encoder, thresholds=Thresholds.from_config(None, {"complaint": 1.0}))
    assert strict.thresholds.sentiment == classifier.thresholds.sentiment
    assert strict.thresholds.intent[Intent.complaint] == 1.0
    assert strict.thresholds.intent[Intent.praise] == classifier.thresholds.intent[Intent.praise]
    assert strict.version.startswith(classifier.version + "+thresholds.")
    text = "@united you lost my bag again and nobody answers the phone. I want a refund."
    (shipped,) = classifier.classify([Document(text)])
    (flagged,) = strict.classify([Document(text)])
    assert shipped.intent == flagged.intent == Intent.complaint and shipped.intent_confidence < 1.0
    assert not shipped.needs_human
    assert flagged.needs_human and any("intent confidence" in r and "< 1.00" in r for r in flagged.reasons)
