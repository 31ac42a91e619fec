"""Serving speed and peak memory of the shipped classifier, side by side with naive one-at-a-time inference.

    python benchmarks/classify_speed.py [--texts 640] [--rounds 3] [--quality 2000] [--paths naive,torch,onnx]

Each path runs in its own subprocess so that peak memory (max RSS, imports included) is its own:
  naive      transformers-pipeline style: one text per forward pass, same encoder, sentiment head only
  torch      load_default(backend="torch"): classify() on batches of 32, length-bucketed passes
  onnx       load_default(backend="onnx"): the same on ONNX Runtime int8 (the first run exports and caches it)
  routed     what the service serves: the onnx path behind classifiers.routing.LanguageRouter, documents tagged
             English as language detection tags them (the multilingual model is never loaded for them)
A path may name another artifacts directory after "@" (``onnx@var/candidate``), to compare two models in one
run; the default is classifiers/artifacts. All paths read the same TweetEval val tweets with 2 threads. The
paths take turns, --rounds times, so that a shared machine's changing load falls on all of them: the ratios
against the first path are taken within a round and the median is reported. Peak memory is measured before
the quality pass. An ONNX path whose int8 file is not cached yet has it prepared once, in a process of its own,
before the rounds; that one-time cost (seconds and peak memory, torch included) is printed on its own line, so the
rounds measure serving only. With --quality N the torch and ONNX paths also classify N val tweets (first round only) and
the script prints each path's val macro-recall and how often ONNX agrees with torch on the same artifacts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def val_texts(n: int) -> tuple[list[str], list[str]]:
    from classifiers.refit.data import sentiment_val

    rows = sentiment_val()[:n]
    return [r.text for r in rows], [r.label for r in rows]


def _artifacts(path: str) -> Path:
    """The artifacts folder a path names after "@", else the shipped one."""
    from classifiers.model import ARTIFACTS

    where = path.partition("@")[2]
    return Path(where).resolve() if where else ARTIFACTS


def run_path(path: str, n: int, quality: int) -> dict:
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    backend = path.partition("@")[0]
    artifacts = _artifacts(path)
    texts, _ = val_texts(n)
    started = time.perf_counter()
    if backend == "naive":
        import numpy as np
        import torch

        from classifiers.encoder import load_tokenizer, load_torch_encoder
        from classifiers.model import LinearHead

        torch.set_num_threads(2)
        layers = artifacts / "encoder_layers.safetensors"
        model = load_torch_encoder(layers if layers.exists() else None)
        tokenizer = load_tokenizer()
        with np.load(artifacts / "heads.npz") as z:
            head = LinearHead.from_arrays(dict(z), "sentiment")
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        with torch.inference_mode():
            for text in texts:
                ids = torch.tensor([tokenizer.encode(text).ids])
                states = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
                head.probabilities(states.mean(0).numpy())
        elapsed = time.perf_counter() - started
        result = {"load_s": load_s}
    else:
        from classifiers.model import load_default
        from classifiers.verdict import Classifier, Document

        routed = backend == "routed"
        english = load_default(backend="onnx" if routed else backend, batch_size=32, threads=2, artifacts=artifacts)
        classifier: Classifier = english
        if routed:
            from classifiers.multilingual import load_multilingual
            from classifiers.routing import LanguageRouter

            classifier = LanguageRouter(english, load_multilingual)
        load_s = time.perf_counter() - started
        language = "en" if routed else None
        docs = [Document(t, language=language) for t in texts]
        classifier.classify(docs[:32])  # warm-up
        started = time.perf_counter()
        for start in range(0, len(docs), 32):
            classifier.classify(docs[start : start + 32])
        elapsed = time.perf_counter() - started
        result = {"load_s": load_s, "version": classifier.version, "peak_mib": _peak_mib()}
        if quality:
            q_texts, q_labels = val_texts(quality)
            verdicts = classifier.classify([Document(t, language=language) for t in q_texts])
            result["predictions"] = [v.sentiment.value for v in verdicts]
            result["intents"] = [v.intent.value for v in verdicts]
            result["gold"] = q_labels
    return {"peak_mib": _peak_mib(), **result, "path": path, "texts": n, "seconds": elapsed, "per_s": n / elapsed}


def prepare_path(path: str) -> dict:
    """Export and quantise an ONNX path's int8 file if it is not cached, so the timed rounds find it ready."""
    from classifiers.onnx_backend import OnnxBackend

    artifacts = _artifacts(path)
    version = json.loads((artifacts / "meta.json").read_text())["model_version"]
    if OnnxBackend.cached_file(version).exists():
        return {"prepared": False}
    started = time.perf_counter()
    from classifiers.model import load_default

    load_default(backend="onnx", threads=2, artifacts=artifacts)
    return {"prepared": True, "seconds": time.perf_counter() - started, "peak_mib": _peak_mib()}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=640)
    parser.add_argument("--quality", type=int, default=2000, help="val tweets for the quality comparison (0: skip)")
    parser.add_argument("--paths", default="naive,torch,onnx")
    parser.add_argument("--rounds", type=int, default=3, help="times each path runs, taking turns")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_path(args.child, args.texts, args.quality)))
        return
    if args.prepare:
        print(json.dumps(prepare_path(args.prepare)))
        return

    from statistics import median

    from classifiers.metrics import evaluate
    from classifiers.model import SENTIMENTS

    paths = args.paths.split(",")
    for path in paths:
        if path.partition("@")[0] in ("onnx", "routed"):
            command = [sys.executable, __file__, "--prepare", path]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            prepared = json.loads(out.stdout.strip().splitlines()[-1])
            if prepared["prepared"]:
                print(
                    f"{path}: int8 file not cached; prepared it once before the rounds in {prepared['seconds']:.1f} s, "
                    f"peak {prepared['peak_mib']:.0f} MiB (first use only)"
                )
    rounds: list[dict[str, dict]] = []
    load_before = os.getloadavg()[0]
    for number in range(args.rounds):
        quality = args.quality if number == 0 else 0
        runs = {}
        for path in paths:
            command = [sys.executable, __file__, "--child", path, "--texts", str(args.texts), "--quality", str(quality)]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            runs[path] = json.loads(out.stdout.strip().splitlines()[-1])
        rounds.append(runs)
    results = rounds[0]
    print(
        f"{args.texts} val tweets, classify() on batches of 32, 2 threads, {args.rounds} rounds; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    width = max(8, *(len(p) + 1 for p in paths))
    print(f"{'path':<{width}}{'mentions/s (median)':>21}{'min–max':>15}{'peak MiB':>10}{'load s':>8}   per round")
    for path in paths:
        rates = [r[path]["per_s"] for r in rounds]
        print(
            f"{path:<{width}}{median(rates):21.1f}{f'{min(rates):.1f}–{max(rates):.1f}':>15}"
            f"{max(r[path]['peak_mib'] for r in rounds):10.0f}{median(r[path]['load_s'] for r in rounds):8.1f}   "
            + " ".join(f"{x:.1f}" for x in rates)
        )
    base = paths[0]
    for path in paths[1:]:
        ratios = [r[path]["per_s"] / r[base]["per_s"] for r in rounds]
        print(
            f"{path} vs {base}, same round: median {median(ratios):.2f}x (rounds: "
            + ", ".join(f"{x:.2f}x" for x in ratios)
            + ")"
        )
    if args.quality:
        labels = [s.value for s in SENTIMENTS]
        for path in paths:
            if "predictions" in results[path]:
                r = results[path]
                gold = [labels[int(g)] for g in r["gold"]]
                print(
                    f"{path}: val macro-recall {evaluate(gold, r['predictions'], labels).macro_recall:.4f} "
                    f"({len(gold)} tweets)"
                )
        for path in paths:
            backend, _, where = path.partition("@")
            twin = ("torch" if backend == "onnx" else "onnx") + (f"@{where}" if where else "")
            if backend in ("onnx", "routed") and twin in results:
                t, o = results[twin], results[path]
                same_s = sum(a == b for a, b in zip(t["predictions"], o["predictions"], strict=True)) / len(
                    t["predictions"]
                )
                same_i = sum(a == b for a, b in zip(t["intents"], o["intents"], strict=True)) / len(t["intents"])
                print(f"{path} agrees with {twin}: sentiment {same_s:.1%}, intent {same_i:.1%}")


if __name__ == "__main__":
    main()
