"""overheard.yaml chooses the classifier's backend; by default (auto) the fastest ONNX path measured on this host."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from classifiers.model import ARTIFACTS, FAST_ARTIFACTS
from classifiers.refit.artifacts import load_heads, load_meta, save_heads, save_meta
from classifiers.verdict import Document
from overheard.config import ConfigError, load_config, parse_config
from overheard.demo import SAMPLES
from overheard.runtime import load_classifier, serving_path

TEXT = "@LumoraHelp my hub has been offline since the update and support never answers. Refund please."


def _with_classifier(section: str) -> str:
    return (SAMPLES / "demo.yaml").read_text(encoding="utf-8") + f"\nclassifier:\n{section}\n"


def test_the_default_backend_is_auto_serving_the_path_it_chose_and_torch_can_be_chosen() -> None:
    default = load_classifier(load_config(SAMPLES / "demo.yaml"))
    torch = load_classifier(parse_config(_with_classifier("  backend: torch")))
    served, fp32 = default.classify([Document(TEXT)])[0], torch.classify([Document(TEXT)])[0]
    assert default.choice is not None and default.choice.backend in ("onnx-int8", "onnx-fp32")
    assert served.model_version.endswith(f"+{default.choice.backend}")
    assert fp32.model_version.endswith("+torch")
    assert served.sentiment == fp32.sentiment == "negative"
    assert served.intent == fp32.intent == "complaint"


def test_onnx_fp32_and_int8_can_be_chosen_and_doctor_says_which_path_serves() -> None:
    for backend in ("onnx-fp32", "onnx-int8"):
        config = parse_config(_with_classifier(f"  backend: {backend}"))
        assert load_classifier(config).classify([Document(TEXT)])[0].model_version.endswith(f"+{backend}")
        path = serving_path(config)
        assert path.serves == f"{backend} on standard" and "set in overheard.yaml" in path.reason
    auto = serving_path(load_config(SAMPLES / "demo.yaml"))
    assert auto.backend == "auto" and auto.serves.endswith(" on standard") and "fastest path" in auto.reason
    assert auto.file is not None and Path(auto.file).is_file() and len(auto.measured) == 2


def test_an_unknown_backend_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"backend.*'onnx' or 'torch'"):
        parse_config(_with_classifier("  backend: tensorrt"))


def test_classifier_artifacts_serves_another_model_folder_named_relative_to_the_config(tmp_path: Path) -> None:
    # a model folder whose sentiment head is pushed hard towards positive: if it is served, the verdict shows it
    model = tmp_path / "models" / "pushed"
    shutil.copytree(ARTIFACTS, model)
    heads = load_heads(model)
    positive = list(heads["sentiment_labels"]).index("positive")
    heads["sentiment_bias"][positive] += 50.0
    save_heads(heads, model)
    version = save_meta(load_meta(model), model)["model_version"]
    config = parse_config(_with_classifier("  backend: torch\n  artifacts: models/pushed"), tmp_path / "overheard.yaml")
    assert config.classifier.artifacts == model.resolve()
    verdict = load_classifier(config).classify([Document(TEXT)])[0]
    assert verdict.model_version == f"{version}+torch"
    assert verdict.sentiment == "positive"
    shipped = load_classifier(parse_config(_with_classifier("  backend: torch"))).classify([Document(TEXT)])[0]
    assert shipped.sentiment == "negative" and shipped.model_version != verdict.model_version


def test_a_classifier_artifacts_folder_without_a_model_is_refused_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"classifier\.artifacts: .*empty is not a model folder \(no meta\.json"):
        parse_config(_with_classifier("  artifacts: empty"), tmp_path / "overheard.yaml")


def test_classifier_model_fast_serves_the_shipped_four_layer_model() -> None:
    config = parse_config(_with_classifier("  backend: torch\n  model: fast"))
    classifier = load_classifier(config)
    assert classifier.encoder.backend.model.config.num_hidden_layers == 4
    verdict = classifier.classify([Document(TEXT)])[0]
    assert verdict.model_version == f"{load_meta(FAST_ARTIFACTS)['model_version']}+torch"
    assert load_meta(FAST_ARTIFACTS)["model_version"] != load_meta(ARTIFACTS)["model_version"]
    assert verdict.sentiment == "negative" and verdict.intent == "complaint"
    standard = load_classifier(parse_config(_with_classifier("  backend: torch\n  model: standard")))
    assert standard.encoder.backend.model.config.num_hidden_layers == 6


def test_a_shipped_model_and_a_model_folder_together_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"classifier\.model .* or classifier\.artifacts .*not both"):
        parse_config(_with_classifier("  model: fast\n  artifacts: models/pushed"))


def test_an_unknown_shipped_model_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"model.*'standard' or 'fast'"):
        parse_config(_with_classifier("  model: tiny"))


def test_overheard_doctor_shows_the_serving_path_its_reason_and_the_cpu_flags() -> None:
    from typer.testing import CliRunner

    from overheard.cli import app

    config = str(SAMPLES / "demo.yaml")
    result = CliRunner().invoke(app, ["doctor", "--config", config, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["backend"] == "auto" and shown["serves"] in ("onnx-int8 on standard", "onnx-fp32 on standard")
    assert "agreement tolerance" in shown["reason"] and shown["file"].endswith(".json")
    assert {m["label"] for m in shown["measured"]} == {"onnx-int8 on standard", "onnx-fp32 on standard"}
    text = CliRunner().invoke(app, ["doctor", "--config", config], catch_exceptions=False)
    assert "serves on" in text.output and "why:" in text.output and "CPU flags" in text.output
    refused = CliRunner().invoke(app, ["doctor", "--config", config, "--format", "xml"])
    assert refused.exit_code == 1 and "--format 'xml' is not one of text, json" in refused.output
