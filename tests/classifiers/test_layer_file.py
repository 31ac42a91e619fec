"""The fine-tuned layer file decides the encoder's depth, and a file that does not fit the model is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from classifiers.encoder import artifact_layer_count, load_torch_encoder
from classifiers.model import ARTIFACTS


def _layer_3(path: Path, metadata: dict[str, str] | None, drop: str = "", extra: str = "") -> Path:
    state = {k: v for k, v in load_file(str(ARTIFACTS / "encoder_layers.safetensors")).items() if ".layer.3." in k}
    state.pop(drop, None)
    if extra:
        state[extra] = torch.zeros(3)
    save_file(state, str(path), metadata=metadata)
    return path


def test_depth_is_the_files_stated_layer_count_else_one_past_its_highest_layer() -> None:
    keys = ["encoder.layer.3.output.dense.weight", "encoder.layer.5.output.dense.weight"]
    assert artifact_layer_count(keys, None) == 6
    assert artifact_layer_count(keys[:1], None) == 4
    assert artifact_layer_count(keys[:1], {"num_layers": "4"}) == 4
    with pytest.raises(ValueError, match="says 4 layers but carries layer 5"):
        artifact_layer_count(keys, {"num_layers": "4"})


def test_a_file_with_only_layer_3_runs_four_layers_not_the_base_layers_4_and_5_on_top(tmp_path: Path) -> None:
    model = load_torch_encoder(_layer_3(tmp_path / "four.safetensors", {"num_layers": "4"}))
    assert len(model.encoder.layer) == 4
    ids = torch.tensor([[101, 7592, 102]])
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True)
    assert len(out.hidden_states) == 5
    assert torch.equal(out.last_hidden_state, out.hidden_states[4])


def test_the_shipped_file_makes_the_depth_the_model_card_names() -> None:
    # meta.json names the shipped encoder with its depth ("multitask6": embeddings and layers 0-2 of the base model,
    # layers 3-5 trained)
    encoder = json.loads((ARTIFACTS / "meta.json").read_text())["encoder"]
    layers = load_torch_encoder(ARTIFACTS / "encoder_layers.safetensors").encoder.layer
    assert encoder.endswith(str(len(layers))) and not encoder[: -len(str(len(layers)))][-1:].isdigit()
    assert len(layers) == 6


def test_a_file_missing_part_of_a_layer_it_carries_is_refused(tmp_path: Path) -> None:
    path = _layer_3(tmp_path / "partial.safetensors", None, drop="encoder.layer.3.output.dense.bias")
    with pytest.raises(ValueError, match="missing parameters of the layers it carries"):
        load_torch_encoder(path)


def test_a_file_with_weights_the_model_does_not_have_is_refused(tmp_path: Path) -> None:
    path = _layer_3(tmp_path / "unknown.safetensors", None, extra="encoder.layer.3.adapter.weight")
    with pytest.raises(ValueError, match="unknown parameters"):
        load_torch_encoder(path)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_a_folder_without_the_heads_is_refused_naming_what_it_lacks(tmp_path: Path, backend: str) -> None:
    from classifiers import missing_model_files
    from classifiers.model import load_default

    assert missing_model_files(ARTIFACTS) == []
    (tmp_path / "meta.json").write_text((ARTIFACTS / "meta.json").read_text())
    assert missing_model_files(tmp_path) == ["heads.npz"]
    with pytest.raises(FileNotFoundError, match=r"is not a model folder: no heads\.npz"):
        load_default(backend=backend, artifacts=tmp_path)
