"""overheard.yaml chooses the classifier's backend; ONNX int8 serves by default."""

from __future__ import annotations

import pytest

from classifiers.verdict import Document
from overheard.config import ConfigError, load_config, parse_config
from overheard.demo import SAMPLES
from overheard.runtime import load_classifier

TEXT = "@LumoraHelp my hub has been offline since the update and support never answers. Refund please."


def _with_classifier(section: str) -> str:
    return (SAMPLES / "demo.yaml").read_text(encoding="utf-8") + f"\nclassifier:\n{section}\n"


def test_the_default_backend_is_onnx_int8_and_torch_can_be_chosen() -> None:
    default = load_classifier(load_config(SAMPLES / "demo.yaml"))
    torch = load_classifier(parse_config(_with_classifier("  backend: torch")))
    served, fp32 = default.classify([Document(TEXT)])[0], torch.classify([Document(TEXT)])[0]
    assert served.model_version.endswith("+onnx-int8")
    assert fp32.model_version.endswith("+torch")
    assert served.sentiment == fp32.sentiment == "negative"
    assert served.intent == fp32.intent == "complaint"


def test_an_unknown_backend_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"backend.*'onnx' or 'torch'"):
        parse_config(_with_classifier("  backend: tensorrt"))
