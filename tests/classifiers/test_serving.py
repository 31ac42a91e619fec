"""The serving path: length-bucketed passes, passes run side by side, and the ONNX int8 encoder read against torch."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from classifiers.encoder import HIDDEN, PASS_TOKENS, Encoder
from classifiers.model import TransformerClassifier, load_default
from classifiers.verdict import Document, Intent
from tests.classifiers.cases import read_jsonl
from tests.conftest import ROOT, SAMPLES


class PositionBackend:
    """Stands in for the encoder: each token's state is its id, so a text's states show where they came from."""

    name = "positions"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.shapes: list[tuple[int, int]] = []
        self.threads: set[str] = set()
        # With several workers, the first passes wait for each other: they only meet if they run side by side (on
        # a loaded machine one thread could otherwise take every pass before the other starts).
        self.meet = threading.Barrier(workers, timeout=20) if workers > 1 else None
        self.calls = 0
        self.lock = threading.Lock()

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            self.calls += 1
            first = self.calls <= self.workers
        if self.meet is not None and first:
            self.meet.wait()
        self.shapes.append(ids.shape)
        self.threads.add(threading.current_thread().name)
        states = np.repeat((ids * mask)[:, :, None].astype(np.float32), HIDDEN, axis=2)
        return states, -states


TEXTS = [("word " * n).strip() for n in (3, 40, 7, 120, 12, 5, 60, 9, 2, 30, 18, 4, 250, 8, 25, 6)] * 3


def test_passes_pad_to_their_own_longest_text_and_every_text_comes_back_in_its_place() -> None:
    backend = PositionBackend(workers=1)
    encoder = Encoder(backend, batch_size=32)
    tokens = encoder.tokenize(TEXTS)
    encoded = encoder.encode(tokens)
    assert [list(e.final[:, 0].astype(int)) for e in encoded] == [t.ids for t in tokens]
    assert all(np.array_equal(e.mid, -e.final) for e in encoded)
    assert sum(rows for rows, _ in backend.shapes) == len(TEXTS)
    for rows, length in backend.shapes:
        assert rows <= 32
        assert rows * length <= PASS_TOKENS or rows == 1
    padded = sum(rows * length for rows, length in backend.shapes)
    assert padded <= 1.2 * sum(len(t.ids) for t in tokens)


def test_a_backend_that_takes_passes_side_by_side_gets_them_on_several_threads_with_the_same_result() -> None:
    one, two = PositionBackend(workers=1), PositionBackend(workers=2)
    alone, together = Encoder(one), Encoder(two)
    tokens = alone.tokenize(TEXTS)
    for a, b in zip(alone.encode(tokens), together.encode(tokens), strict=True):
        assert np.array_equal(a.final, b.final) and np.array_equal(a.mid, b.mid)
    assert len(two.threads) == 2 and all(name.startswith("encoder") for name in two.threads)


@pytest.fixture(scope="module")
def onnx_classifier() -> TransformerClassifier:
    return load_default(backend="onnx")  # the first use on a machine exports and caches the int8 encoder


@pytest.mark.slow
def test_onnx_int8_reads_posts_as_torch_does(
    classifier: TransformerClassifier, onnx_classifier: TransformerClassifier
) -> None:
    """The model card's tolerance is checked on all 2,000 val tweets by benchmarks/classify_speed.py; here the
    demo's 300 first posts (written by the project, so the repo may ship them) guard against a broken export."""
    lines = (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").split("\n")[:300]  # the broken lines are last
    texts = [json.loads(line)["text"] for line in lines]
    docs = [Document(text) for text in texts]
    fp32, int8 = classifier.classify(docs), onnx_classifier.classify(docs)
    same = sum(a.sentiment == b.sentiment for a, b in zip(fp32, int8, strict=True)) / len(docs)
    assert same >= 0.93
    assert onnx_classifier.version == f"{classifier.meta['model_version']}+onnx-int8"


@pytest.mark.slow
def test_onnx_int8_holds_the_shipped_model_to_the_same_clear_cases(onnx_classifier: TransformerClassifier) -> None:
    cases = read_jsonl("clear_cases.jsonl")
    verdicts = onnx_classifier.classify([Document(c["text"]) for c in cases])
    pairs = list(zip(cases, verdicts, strict=True))
    assert all(v.intent == Intent.complaint for c, v in pairs if c["intent"] == "complaint")
    assert sum(v.sentiment != c["sentiment"] for c, v in pairs if "sentiment" in c) <= 1


@pytest.mark.slow
def test_the_prepared_onnx_path_serves_without_importing_torch(onnx_classifier: TransformerClassifier) -> None:
    script = (
        "import sys; from classifiers import Document, load_default; "
        "load_default(backend='onnx').classify([Document('the update broke my phone')]); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
