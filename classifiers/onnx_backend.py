"""ONNX Runtime int8 inference: the encoder exported once from the shipped weights, quantised, and cached.

The first use for a model version exports the fp32 encoder (base weights + fine-tuned layers) to ONNX,
quantises its weights to int8 (dynamic quantisation: int8 weights, activations quantised per batch) and keeps
the result under ``cache_dir()/onnx/<model version>/``; later uses only load it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from classifiers.cache import cache_dir
from classifiers.encoder import MID_LAYER, load_torch_encoder


def _export(layers: Path | None, target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = load_torch_encoder(layers)
    model.config._attn_implementation = "eager"

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            return out.last_hidden_state, out.hidden_states[MID_LAYER]

    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "encoder.onnx"
        torch.onnx.export(
            Wrapped().eval(),
            (ids, mask),
            str(fp32),
            input_names=["ids", "mask"],
            output_names=["final", "mid"],
            dynamic_axes={
                "ids": {0: "batch", 1: "tokens"},
                "mask": {0: "batch", 1: "tokens"},
                "final": {0: "batch", 1: "tokens"},
                "mid": {0: "batch", 1: "tokens"},
            },
            opset_version=17,
            dynamo=False,
        )
        partial = Path(tmp) / "encoder-int8.onnx"
        quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(partial, target)


class OnnxBackend:
    """int8 ONNX Runtime inference on the CPU."""

    name = "onnx-int8"

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @classmethod
    def prepare(cls, layers: Path | None, version: str, threads: int | None = None) -> OnnxBackend:
        target = cache_dir() / "onnx" / version / "encoder-int8.onnx"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            _export(layers, target)
        return cls(target, threads=threads)

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        final, mid = self.session.run(["final", "mid"], {"ids": ids, "mask": mask})
        return final, mid
