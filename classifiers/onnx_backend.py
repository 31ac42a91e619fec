"""ONNX Runtime inference, int8 or fp32: the encoder exported once from the shipped weights, and cached.

The first use for a model version exports the fp32 encoder (base weights + fine-tuned layers) to ONNX and, for
int8, quantises its weights (dynamic quantisation: int8 weights, activations quantised per batch); both files are
kept under ``cache_dir()/onnx/<model version>/``, and later uses only load them, without importing torch. Which
of the two serves on a host is ``classifiers.backend_choice``'s to measure: int8 wins where the CPU multiplies
8-bit numbers natively (VNNI), and brings nothing on AVX2 alone.

Choices, measured on 2 AVX2 cores without VNNI (see the model card's speed section):
- per-channel weights with ``reduce_range`` (7-bit): AVX2's u8×s8 multiply-add saturates 16-bit sums with full
  8-bit weights; with 7 bits val macro-recall is 0.712 against 0.707 and speed is the same.
- no offline transformer fusion (``onnxruntime.transformers.optimizer``): ONNX Runtime's own graph
  optimisations already fuse the quantised MatMuls, LayerNorm and GELU, and the fused int8 attention was no
  faster.
- one thread per session run and passes run side by side on ``threads`` Python threads: small passes (a few
  tweets) split poorly across threads inside one MatMul, and spinning pool threads collapse when another process
  shares the cores.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from classifiers.cache import cache_dir
from classifiers.encoder import MID_LAYER, load_torch_encoder


def _export(layers: Path | None, target: Path) -> None:
    """The fp32 encoder of ``layers`` as an ONNX file at ``target``."""
    import torch

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
        partial = Path(tmp) / "encoder.onnx"
        torch.onnx.export(
            Wrapped().eval(),
            (ids, mask),
            str(partial),
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
        os.replace(partial, target)


def _quantise(fp32: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / "encoder-int8.onnx"
        quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        os.replace(partial, target)


RECIPE = "int8-dynamic-perchannel-r7"
"""Names the export + quantisation recipe in the cached file's name, so a changed recipe is prepared afresh."""
FP32_RECIPE = "fp32-opset17"
"""Names the fp32 export in its cached file's name."""
PRECISIONS = ("int8", "fp32")


class OnnxBackend:
    """ONNX Runtime inference on the CPU (int8 or fp32 weights); ``threads`` passes run at once, one thread each."""

    def __init__(self, path: Path, threads: int | None = None, precision: str = "int8") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.name = f"onnx-{precision}"
        self.workers = max(1, threads or os.cpu_count() or 1)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @staticmethod
    def cached_file(version: str, precision: str = "int8") -> Path:
        """Where the encoder of model ``version`` is cached at ``precision``; ``prepare`` writes it on first use."""
        recipe = RECIPE if precision == "int8" else FP32_RECIPE
        return cache_dir() / "onnx" / version / f"encoder-{recipe}.onnx"

    @classmethod
    def prepare(
        cls, layers: Path | None, version: str, threads: int | None = None, precision: str = "int8"
    ) -> OnnxBackend:
        """The backend for model ``version`` at ``precision``, exporting (and quantising) it first if not cached."""
        target = cls.cached_file(version, precision)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fp32 = cls.cached_file(version, "fp32")
            if not fp32.exists():
                _export(layers, fp32)
            if precision == "int8":
                _quantise(fp32, target)
        return cls(target, threads=threads, precision=precision)

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        final, mid = self.session.run(["final", "mid"], {"ids": ids, "mask": mask})
        return final, mid
