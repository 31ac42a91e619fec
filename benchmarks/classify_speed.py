"""Serving speed and peak memory of the shipped classifier, side by side with naive one-at-a-time inference.

    python benchmarks/classify_speed.py [--texts 640] [--quality 2000]

Each path runs in its own subprocess so that peak memory (max RSS, imports included) is its own:
  naive      transformers-pipeline style: one text per forward pass, same encoder and head
  torch      load_default(backend="torch"), batch 32, length buckets
  onnx-int8  load_default(backend="onnx"), batch 32 (the first run exports and caches the int8 model)
Texts are TweetEval val tweets. With --quality N the torch and ONNX paths also classify N val tweets and the
script prints each path's val macro-recall and how often the two agree.
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
    from classifiers.training.data import sentiment_val

    rows = sentiment_val()[:n]
    return [r.text for r in rows], [r.label for r in rows]


def run_path(path: str, n: int, quality: int) -> dict:
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    texts, _ = val_texts(n)
    started = time.perf_counter()
    if path == "naive":
        import numpy as np
        import torch

        from classifiers.encoder import load_tokenizer, load_torch_encoder
        from classifiers.model import ARTIFACTS, LinearHead

        torch.set_num_threads(2)
        layers = ARTIFACTS / "encoder_layers.safetensors"
        model = load_torch_encoder(layers if layers.exists() else None)
        tokenizer = load_tokenizer()
        with np.load(ARTIFACTS / "heads.npz") as z:
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
        from classifiers.verdict import Document

        classifier = load_default(backend=path, batch_size=32, threads=2)
        load_s = time.perf_counter() - started
        docs = [Document(t) for t in texts]
        classifier.classify(docs[:32])  # warm-up
        started = time.perf_counter()
        for start in range(0, len(docs), 32):
            classifier.classify(docs[start : start + 32])
        elapsed = time.perf_counter() - started
        result = {"load_s": load_s, "version": classifier.version}
        if quality:
            q_texts, q_labels = val_texts(quality)
            verdicts = classifier.classify([Document(t) for t in q_texts])
            result["predictions"] = [v.sentiment.value for v in verdicts]
            result["intents"] = [v.intent.value for v in verdicts]
            result["gold"] = q_labels
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**result, "path": path, "texts": n, "seconds": elapsed, "per_s": n / elapsed, "peak_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=640)
    parser.add_argument("--quality", type=int, default=2000, help="val tweets for the quality comparison (0: skip)")
    parser.add_argument("--paths", default="naive,torch,onnx")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_path(args.child, args.texts, args.quality)))
        return

    from classifiers.metrics import evaluate
    from classifiers.model import SENTIMENTS

    results = {}
    for path in args.paths.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", path, "--texts", str(args.texts), "--quality", str(args.quality)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[path] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{'path':<10}{'mentions/s':>12}{'peak MiB':>10}{'load s':>8}   (batch 32, {args.texts} val tweets, 2 threads)"
    )
    for path, r in results.items():
        print(f"{path:<10}{r['per_s']:12.1f}{r['peak_mib']:10.0f}{r['load_s']:8.1f}")
    if "naive" in results:
        for path in ("torch", "onnx"):
            if path in results:
                print(f"{path} vs naive: {results[path]['per_s'] / results['naive']['per_s']:.1f}x")
    if args.quality:
        labels = [s.value for s in SENTIMENTS]
        for path in ("torch", "onnx"):
            if path in results:
                r = results[path]
                gold = [labels[int(g)] for g in r["gold"]]
                print(
                    f"{path}: val macro-recall {evaluate(gold, r['predictions'], labels).macro_recall:.4f} ({len(gold)} tweets)"
                )
        if "torch" in results and "onnx" in results:
            t, o = results["torch"], results["onnx"]
            same_s = sum(a == b for a, b in zip(t["predictions"], o["predictions"], strict=True)) / len(
                t["predictions"]
            )
            same_i = sum(a == b for a, b in zip(t["intents"], o["intents"], strict=True)) / len(t["intents"])
            print(f"onnx-int8 agrees with torch: sentiment {same_s:.1%}, intent {same_i:.1%}")


if __name__ == "__main__":
    main()
