"""Distil an ensemble of fully fine-tuned sentiment teachers into the shipped layout, on a GPU when one is lent.

    python -m training.ensemble bundle --out var/gpu                 # here: tokenise, pack the base
    python -m training.ensemble run --bundle var/gpu --out DIR        # on the GPU machine
    python -m training.ensemble export --results DIR --variant NAME --out var/cand   # here
    python -m training.intent --artifacts var/cand

Why: self-distillation from one 6-layer teacher gave +0.017 and +0.006 on val and then nothing (MODEL_CARD.md,
History). A stronger teacher needs more compute than 2 CPU cores have; on one GPU, many full fine-tunes of
all-MiniLM-L6-v2 (every layer and the embeddings trained) cost minutes.

``bundle`` writes what the GPU machine needs and cannot fetch, within its 64 MiB transfer limit: the train and val
tweets tokenised as served (``load_tokenizer``), and the base weights in fp16 with the word-embedding table cut
to the word pieces those tweets use (ids remapped; 20,643 of 30,522 rows are kept). Layers above the embeddings are
the base's, so the frozen layers 0–2 the student reads are the served ones (to fp16 rounding).

``run`` (deadline ``--minutes``; each phase stops on its share and keeps what finished):
  1. the shipped model's logits over train and val;
  2. teachers, cross-fitted: the train set is cut into ``--folds`` stratified folds, and each teacher is
     trained on all folds but one for ``--epochs`` epochs (its best epoch on val is kept) and scores the fold
     it never saw. A round gives every train tweet one out-of-fold score; rounds repeat with new seeds and
     alternating learning rates until the teacher share of the deadline is spent. Out-of-fold scores carry a
     teacher's real uncertainty, where in-sample ones are overconfident;
  3. the ensemble target: per tweet, the mean log-probability over the teachers that did not see it; val
     gets the mean over all teachers (only to report the ensemble's own val macro-recall);
  4. students in the shipped layout (embeddings and layers 0–2 as in the base, layers 3–5 and the head
     trained, initialised from the shipped ones), one per ``--variants`` entry: KL to the target at T=2
     plus class-balanced cross-entropy on the gold labels, an exponential moving average of the weights
     (0.999), checks on val.
Writes ``results.json`` (every check and timing), ``logits.npz`` (every teacher's scores, the targets) and
``student_<variant>.safetensors`` (the final averaged weights, fp16) under ``--out``. With ``--targets FILE`` (an
earlier run's logits.npz, or the committed ``training/targets/ensemble-2026-12-04.npz``) it trains
students only.

``export`` turns one student into an artifacts directory (encoder layers, sentiment head, val-fitted
temperature, the shipped thresholds; the intent head is fitted next by ``training.intent``), and
reports its val figures through the served torch path with the exact base weights.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.encoder import MID_LAYER
from classifiers.metrics import evaluate
from classifiers.model import ARTIFACTS
from classifiers.refit.artifacts import load_heads, load_meta, save_heads, save_meta
from training.sentiment import LABELS, batches, macro_recall, masked_mean, pad, warmup_then_linear

SPECIAL_IDS = (0, 100, 101, 102, 103)  # [PAD] [UNK] [CLS] [SEP] [MASK]


# ---------------------------------------------------------------------------------------------------- bundle
def compact_vocabulary(model: Any, texts: list[list[int]]) -> np.ndarray:
    """Cut ``model``'s word-embedding table to the word pieces of ``texts`` (and the special ones), in place.

    Returns the map from old id to new id (-1 for a dropped row); row order is kept, so [PAD] stays 0.
    """
    import torch

    used = sorted(set(SPECIAL_IDS).union(*(set(ids) for ids in texts)))
    remap = np.full(model.config.vocab_size, -1, np.int64)
    remap[used] = np.arange(len(used))
    table = model.embeddings.word_embeddings.weight.data[torch.tensor(used)].clone()
    model.embeddings.word_embeddings = torch.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    model.config.vocab_size = len(used)
    return remap


def bundle(out: Path) -> None:
    """Tokenised train + val and the fp16 base with its embedding table cut to the word pieces they use."""
    import torch
    from transformers import AutoModel

    from classifiers.encoder import base_model_path, load_tokenizer
    from classifiers.refit import data

    tokenizer = load_tokenizer()
    splits = {"train": data.sentiment_train(), "val": data.sentiment_val()}
    ids = {k: [e.ids for e in tokenizer.encode_batch([x.text for x in v])] for k, v in splits.items()}
    model = AutoModel.from_pretrained(str(base_model_path()), dtype=torch.float32)
    remap = compact_vocabulary(model, [i for rows in ids.values() for i in rows])
    used = np.flatnonzero(remap >= 0)
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(str(out))
    arrays: dict[str, np.ndarray] = {}
    for name, rows in ids.items():
        arrays[f"{name}_ids"] = remap[np.concatenate(rows)].astype(np.uint16)
        arrays[f"{name}_starts"] = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        arrays[f"{name}_labels"] = np.array([int(e.label) for e in splits[name]], np.int64)
    np.savez_compressed(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub matches **arrays against allow_pickle: bool too
    (out / "bundle.json").write_text(
        json.dumps(
            {
                "base": base_model_path().name,
                "vocab_rows_kept": len(used),
                "train": len(ids["train"]),
                "val": len(ids["val"]),
                "source": str(data.SENTIMENT_DIR),
            },
            indent=2,
        )
        + "\n"
    )
    size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    print(f"wrote {out}: {len(used)} of {remap.size} word pieces kept, {size:.1f} MiB", flush=True)


# ---------------------------------------------------------------------------------------------------- shared
class Split:
    """Token ids of one split (text i owns ``ids[starts[i]:starts[i + 1]]``) and its gold labels."""

    def __init__(self, z: Any, name: str) -> None:
        flat, starts = z[f"{name}_ids"].astype(np.int64), z[f"{name}_starts"]
        self.ids = [flat[starts[i] : starts[i + 1]] for i in range(len(starts) - 1)]
        self.labels = z[f"{name}_labels"]

    def __len__(self) -> int:
        return len(self.ids)


def _load(bundle_dir: Path, limit: int = 0) -> tuple[Split, Split]:
    """The bundle's train and val; ``limit`` keeps only the first train tweets (a smoke test)."""
    with np.load(bundle_dir / "data.npz") as z:
        tr, val = Split(z, "train"), Split(z, "val")
    if limit:
        tr.ids, tr.labels = tr.ids[:limit], tr.labels[:limit]
    return tr, val


def _device():
    """The GPU if there is one (TF32 matrix products allowed), else the CPU; 2 CPU threads a process."""
    import torch

    torch.set_num_threads(2)
    torch.backends.cuda.matmul.allow_tf32 = True
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _pad(split: Split, rows: list[int], device):
    t, m = pad(split.ids, rows)
    return t.to(device, non_blocking=True), m.to(device, non_blocking=True)


def _base(bundle_dir: Path, layers: int | None = None):
    """The bundle's base encoder in fp32 (optionally cut to its first ``layers`` layers)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(bundle_dir), dtype=torch.float32)
    if layers is not None:
        model.encoder.layer = model.encoder.layer[:layers]
        model.config.num_hidden_layers = layers
    return model


def _shipped_layers(artifacts: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return {k: v.float() for k, v in load_file(str(artifacts / "encoder_layers.safetensors")).items()}


def _log_softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _start_job(bundle_dir: str, seed: int, limit: int) -> tuple[Any, Split, Split]:
    """A job's device and data (``_load``), seeded."""
    import torch

    torch.manual_seed(seed)
    return _device(), *_load(Path(bundle_dir), limit)


def _scores(logits_of: Callable[[Any, Any], Any], split: Split, rows: list[int], device: Any) -> np.ndarray:
    """``logits_of(ids, mask)`` over ``split``'s texts ``rows`` in length order, 256 a batch, without gradients."""
    import torch

    out = np.zeros((len(rows), len(LABELS)), np.float32)
    order = sorted(range(len(rows)), key=lambda j: len(split.ids[rows[j]]))
    with torch.inference_mode():
        for b in range(0, len(order), 256):
            js = order[b : b + 256]
            t, m = _pad(split, [rows[j] for j in js], device)
            out[js] = logits_of(t, m).float().cpu().numpy()
    return out


# ---------------------------------------------------------------------------------------------------- teachers
def _teacher_job(
    bundle_dir: str,
    fold: int,
    folds: int,
    seed: int,
    lr: float,
    epochs: int,
    limit: int,
    stop_at: float,
    give_up_at: float,
) -> dict[str, Any] | None:
    """Fine-tune the whole base on every fold but ``fold``; the best val epoch's scores of ``fold`` and val.

    Not started after ``stop_at``; after ``give_up_at`` it stops mid-epoch and keeps the best epoch finished.
    """
    import torch

    if time.time() > stop_at:
        return None
    started = time.time()
    device, tr, val = _start_job(bundle_dir, seed, limit)
    fold_of = _folds(tr.labels, folds)
    fit = [i for i in range(len(tr)) if fold_of[i] != fold]
    held = [i for i in range(len(tr)) if fold_of[i] == fold]
    encoder = _base(Path(bundle_dir)).to(device).train()
    head = torch.nn.Linear(encoder.config.hidden_size, len(LABELS)).to(device)
    counts = np.bincount(tr.labels[fit], minlength=3).astype(np.float32)
    ce = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(counts.sum() / (3 * counts)).to(device))
    rng = random.Random(seed)
    lengths = [len(tr.ids[i]) for i in fit]
    optimizer = torch.optim.AdamW(
        [{"params": encoder.parameters(), "lr": lr}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01
    )
    per_epoch = math.ceil(len(fit) / 32)
    schedule = warmup_then_linear(optimizer, epochs * per_epoch)
    amp = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    )

    def logits_of(t, m):
        with amp:
            return head(masked_mean(encoder(input_ids=t, attention_mask=m).last_hidden_state, m))

    def score(split: Split, rows: list[int]) -> np.ndarray:
        encoder.eval()
        out = _scores(logits_of, split, rows, device)
        encoder.train()
        return out

    best: dict[str, Any] | None = None
    checks = []
    for epoch in range(1, epochs + 1):
        if time.time() > give_up_at:
            break
        for rows in batches(lengths, 32, rng):
            if time.time() > give_up_at:
                break
            t, m = _pad(tr, [fit[j] for j in rows], device)
            with amp:
                logits = head(masked_mean(encoder(input_ids=t, attention_mask=m).last_hidden_state, m))
            loss = ce(logits.float(), torch.from_numpy(tr.labels[[fit[j] for j in rows]]).to(device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
        else:  # a whole epoch
            val_logits = score(val, list(range(len(val))))
            recall = macro_recall(val_logits, val.labels)
            checks.append(
                {"epoch": epoch, "val_macro_recall": round(recall, 4), "seconds": round(time.time() - started)}
            )
            if best is None or recall > best["val_macro_recall"]:
                best = {"epoch": epoch, "val_macro_recall": recall, "val": val_logits, "held": score(tr, held)}
            continue
        break
    if best is None:
        return None
    return {
        "fold": fold,
        "seed": seed,
        "lr": lr,
        "held_rows": np.array(held),
        "held": best["held"],
        "val": best["val"],
        "best_epoch": best["epoch"],
        "val_macro_recall": round(best["val_macro_recall"], 4),
        "checks": checks,
        "seconds": round(time.time() - started, 1),
    }


def _folds(labels: np.ndarray, folds: int) -> np.ndarray:
    """Stratified fold of every train tweet, the same in every process."""
    fold_of = np.zeros(len(labels), np.int64)
    rng = np.random.default_rng(20261204)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        rng.shuffle(rows)
        fold_of[rows] = np.arange(len(rows)) % folds
    return fold_of


def out_of_fold_target(members: list[dict[str, Any]], fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per train tweet, the mean log-probabilities of the teachers that held it out, and how many there were.

    Each member carries ``held_rows`` (the tweets it never trained on) and ``held`` (its logits for them). A tweet
    no finished teacher held out keeps ``fallback``'s log-probabilities (the starting model's).
    """
    sums = np.zeros(fallback.shape, np.float64)
    seen = np.zeros(len(fallback), np.int64)
    for m in members:
        sums[m["held_rows"]] += _log_softmax(m["held"])
        seen[m["held_rows"]] += 1
    target = np.where((seen > 0)[:, None], sums / np.maximum(seen, 1)[:, None], _log_softmax(fallback))
    return target, seen


# ---------------------------------------------------------------------------------------------------- students
def _student_job(
    bundle_dir: str,
    artifacts: str,
    targets_file: str,
    variant: str,
    stop_at: float,
    limit: int,
    lr: float,
    seed: int,
    out_dir: str,
) -> dict[str, Any]:
    """Layers 3–5 and the head, from the shipped ones, distilled from a target (T=2) plus gold CE.

    ``variant`` is ``name:target:kl_weight:ce_weight:epochs``; target is a key of ``targets_file``.
    """
    import torch
    from safetensors.torch import save_file

    name, target_key, kl_text, ce_text, epochs_text = variant.split(":")
    kl_weight, ce_weight, epochs = float(kl_text), float(ce_text), float(epochs_text)
    started = time.time()
    device, tr, val = _start_job(bundle_dir, seed, limit)
    with np.load(targets_file) as z:
        target = torch.from_numpy(z[target_key]).float()
    # the whole encoder runs, but only layers 3-5 and the head learn: backward stops at layer 3
    encoder = _base(Path(bundle_dir))
    encoder.load_state_dict(_shipped_layers(Path(artifacts)), strict=False)
    trained = [f"encoder.layer.{i}." for i in range(MID_LAYER, len(encoder.encoder.layer))]
    for key, param in encoder.named_parameters():
        param.requires_grad = any(key.startswith(p) for p in trained)
    heads = load_heads(Path(artifacts))
    head = torch.nn.Linear(encoder.config.hidden_size, len(LABELS))
    head.weight.data = torch.from_numpy(heads["sentiment_weights"]).float().clone()
    head.bias.data = torch.from_numpy(heads["sentiment_bias"]).float().clone()
    student = torch.nn.ModuleDict({"encoder": encoder, "head": head}).to(device).train()
    ema = torch.optim.swa_utils.AveragedModel(student, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.999))

    def forward(model, t, m):
        return model["head"](masked_mean(model["encoder"](input_ids=t, attention_mask=m).last_hidden_state, m))

    def val_logits(model) -> np.ndarray:
        model.eval()
        out = _scores(lambda t, m: forward(model, t, m), val, list(range(len(val))), device)
        model.train()
        return out

    counts = np.bincount(tr.labels, minlength=3).astype(np.float32)
    ce = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(counts.sum() / (3 * counts)).to(device))
    rng = random.Random(seed)
    plan: list[list[int]] = []
    for _ in range(math.ceil(epochs)):
        plan.extend(batches([len(x) for x in tr.ids], 32, rng))
    plan = plan[: int(epochs * len(plan) / math.ceil(epochs) + 0.5)]
    params = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": params, "lr": lr}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01
    )
    schedule = warmup_then_linear(optimizer, len(plan))
    temp = 2.0
    checks: list[dict[str, Any]] = []
    every = max(1, len(plan) // 6)
    done = 0
    for step, rows in enumerate(plan, start=1):
        t, m = _pad(tr, rows, device)
        logits = forward(student, t, m)
        kl = torch.nn.functional.kl_div(
            torch.log_softmax(logits / temp, -1),
            torch.softmax(target[rows].to(device) / temp, -1),
            reduction="batchmean",
        ) * (temp**2)
        loss = kl_weight * kl + ce_weight * ce(logits, torch.from_numpy(tr.labels[rows]).to(device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update_parameters(student)
        done = step
        out_of_time = time.time() > stop_at
        if step % every == 0 or step == len(plan) or out_of_time:
            lg = val_logits(ema.module)
            checks.append(
                {
                    "step": step,
                    "epochs": round(step / len(plan) * epochs, 3),
                    "val_macro_recall": round(macro_recall(lg, val.labels), 4),
                    "seconds": round(time.time() - started),
                }
            )
        if out_of_time:
            break
    final: Any = ema.module  # a deep copy of `student`; torch types it, and its submodules, as bare Module
    state = {
        k: v.detach().to(torch.float16).cpu().contiguous()
        for k, v in final["encoder"].state_dict().items()
        if any(k.startswith(p) for p in trained)
    }
    state["head.weight"] = final["head"].weight.detach().float().cpu().contiguous()
    state["head.bias"] = final["head"].bias.detach().float().cpu().contiguous()
    save_file(state, str(Path(out_dir) / f"student_{name}.safetensors"), metadata={"num_layers": "6"})
    return {
        "variant": name,
        "target": target_key,
        "kl_weight": kl_weight,
        "ce_weight": ce_weight,
        "epochs": epochs,
        "lr": lr,
        "seed": seed,
        "steps": len(plan),
        "steps_done": done,
        "checks": checks,
        "seconds": round(time.time() - started, 1),
    }


# ---------------------------------------------------------------------------------------------------- run
def _shipped_logits(bundle_dir: Path, artifacts: Path, tr: Split, val: Split) -> tuple[np.ndarray, np.ndarray]:
    import torch

    device = _device()
    model = _base(bundle_dir)
    model.load_state_dict(_shipped_layers(artifacts), strict=False)
    model = model.to(device).eval()
    heads = load_heads(artifacts)
    w = torch.from_numpy(heads["sentiment_weights"]).float().to(device)
    b = torch.from_numpy(heads["sentiment_bias"]).float().to(device)
    outs = [
        _scores(
            lambda t, m: masked_mean(model(input_ids=t, attention_mask=m).last_hidden_state, m) @ w.T + b,
            split,
            list(range(len(split))),
            device,
        )
        for split in (tr, val)
    ]
    return outs[0], outs[1]


def _students(
    args: argparse.Namespace,
    bundle_dir: Path,
    targets: Path,
    started: float,
    out: Path,
    results: dict[str, Any],
    save: Callable[[], None],
    context: BaseContext,
) -> None:
    """Train the ``--variants`` students side by side towards ``targets`` until the run's deadline."""
    deadline = started + args.minutes * 60
    results["students"] = []
    with ProcessPoolExecutor(min(args.workers, len(args.variants)), mp_context=context) as pool:
        jobs = [
            pool.submit(
                _student_job,
                str(bundle_dir),
                str(ARTIFACTS),
                str(targets),
                variant,
                deadline,
                args.limit,
                args.student_lr,
                13 + n,
                str(out),
            )
            for n, variant in enumerate(args.variants)
        ]
        for job in as_completed(jobs):
            student = job.result()
            results["students"].append(student)
            print(f"student {student}", flush=True)
            save()
    print(f"done in {(time.time() - started) / 60:.1f} min; wrote {out}", flush=True)


def run(args: argparse.Namespace) -> None:
    import multiprocessing

    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bundle_dir = Path(args.bundle).resolve()
    tr, val = _load(bundle_dir, args.limit)
    results: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k != "func"}, "device": str(_device())}

    def save() -> None:
        results["minutes"] = round((time.time() - started) / 60, 2)
        (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")

    context = multiprocessing.get_context("spawn")
    if args.targets:  # students only, from an earlier run's logits.npz
        targets = Path(args.targets).resolve()
        results["targets"] = str(args.targets)
        # the teachers' run: its results.json kept beside, or the committed targets' .json twin
        for earlier in (targets.with_suffix(".json"), targets.parent / "results.json"):
            if earlier.exists():
                teachers = json.loads(earlier.read_text())
                results["ensemble"], results["args"]["folds"] = teachers.get("ensemble"), teachers["args"]["folds"]
                break
        _students(args, bundle_dir, targets, started, out, results, save, context)
        return
    shipped_train, shipped_val = _shipped_logits(bundle_dir, ARTIFACTS, tr, val)
    results["shipped_val_macro_recall"] = round(macro_recall(shipped_val, val.labels), 4)
    print(f"shipped model: val macro-recall {results['shipped_val_macro_recall']} ({time.time() - started:.0f}s)")
    save()

    teacher_stop = started + args.teacher_share * args.minutes * 60
    members: list[dict[str, Any]] = []
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        jobs = [
            pool.submit(
                _teacher_job,
                str(bundle_dir),
                fold,
                args.folds,
                1000 * (r + 1) + fold,
                args.lrs[r % len(args.lrs)],
                args.epochs,
                args.limit,
                teacher_stop,
                teacher_stop + 0.15 * args.minutes * 60,
            )
            for r in range(args.max_rounds)
            for fold in range(args.folds)
        ]
        for job in as_completed(jobs):
            member = job.result()
            if member is None:
                continue
            members.append(member)
            print(
                f"teacher fold {member['fold']} seed {member['seed']} lr {member['lr']}: val {member['val_macro_recall']}"
                f" (epoch {member['best_epoch']}), {member['seconds']}s, at {time.time() - started:.0f}s",
                flush=True,
            )
    results["teachers"] = [{k: v for k, v in m.items() if k not in ("held_rows", "held", "val")} for m in members]
    if not members:
        raise SystemExit("no teacher finished before the teacher deadline; raise --minutes")

    ensemble, seen = out_of_fold_target(members, shipped_train)
    covered = seen > 0
    ensemble_val = np.mean([_log_softmax(m["val"]) for m in members], axis=0)
    mixed = (ensemble + _log_softmax(shipped_train)) / 2
    mixed_val = (ensemble_val + _log_softmax(shipped_val)) / 2
    results["ensemble"] = {
        "members": len(members),
        "train_covered": round(float(covered.mean()), 4),
        "teachers_per_tweet_mean": round(float(seen.mean()), 2),
        "val_macro_recall": round(macro_recall(ensemble_val, val.labels), 4),
        "val_macro_recall_with_shipped": round(macro_recall(mixed_val, val.labels), 4),
        "oof_train_macro_recall": round(macro_recall(ensemble[covered], tr.labels[covered]), 4),
    }
    print(f"ensemble: {results['ensemble']} ({time.time() - started:.0f}s)", flush=True)
    targets = out / "logits.npz"
    np.savez_compressed(
        targets,
        ensemble=ensemble.astype(np.float32),
        mixed=mixed.astype(np.float32),
        ensemble_val=ensemble_val.astype(np.float32),
        shipped_train=shipped_train,
        shipped_val=shipped_val,
        fold_of=_folds(tr.labels, args.folds),
        member_val=np.stack([m["val"] for m in members]).astype(np.float16),
        member_fold=np.array([m["fold"] for m in members]),
        member_held=np.concatenate([m["held"] for m in members]).astype(np.float16),
    )
    save()

    _students(args, bundle_dir, targets, started, out, results, save, context)


# ---------------------------------------------------------------------------------------------------- export
def export(args: argparse.Namespace) -> None:
    """One student of a ``run`` as an artifacts directory; its val figures through the served torch path."""
    from safetensors.torch import load_file, save_file

    from classifiers.encoder import base_model_path
    from classifiers.refit import data
    from classifiers.refit.calibration import fit_temperature
    from classifiers.refit.features import pooled_states

    results_dir = Path(args.results)
    summary = json.loads((results_dir / "results.json").read_text())
    state = load_file(str(results_dir / f"student_{args.variant}.safetensors"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    layers = {k: v.half().contiguous() for k, v in state.items() if k.startswith("encoder.layer.")}
    save_file(
        layers,
        str(out / "encoder_layers.safetensors"),
        metadata={"base": base_model_path().name, "num_layers": "6"},
    )
    weight, bias = state["head.weight"].float().numpy(), state["head.bias"].float().numpy()
    val = data.sentiment_val()
    gold = np.array([int(e.label) for e in val])
    final = pooled_states([e.text for e in val], out / "encoder_layers.safetensors").final
    logits = final @ weight.T + bias
    temperature = fit_temperature(logits, gold)
    report = evaluate([LABELS[i] for i in gold], [LABELS[i] for i in logits.argmax(1)], LABELS)
    print(f"{args.variant}: fp16 layers, temperature {temperature:.3f}\n{report.render()}", flush=True)
    save_heads(
        {
            "sentiment_weights": weight.astype(np.float32),
            "sentiment_bias": bias.astype(np.float32),
            "sentiment_labels": np.array(LABELS),
            "sentiment_temperature": np.array(temperature, np.float32),
        },
        out,
    )
    if out.resolve() != ARTIFACTS.resolve():
        shutil.copy(ARTIFACTS / "meta.json", out / "meta.json")
        shutil.copy(ARTIFACTS / "MODEL_CARD.md", out / "MODEL_CARD.md")
    teacher = load_meta(ARTIFACTS)["model_version"]
    student = next(s for s in summary["students"] if s["variant"] == args.variant)
    ens = summary["ensemble"]
    meta = load_meta(out)
    meta.pop("intent", None)
    meta.update(
        encoder="distil6",
        sentiment={
            "method": (
                f"6-layer model: embeddings and layers 0-2 of all-MiniLM-L6-v2 as shipped, layers 3-5 and the head "
                f"trained from those of {teacher}, distilled (KL at T=2, weight {student['kl_weight']}, plus "
                f"class-balanced CE, weight {student['ce_weight']}, {student['epochs']} epochs, EMA 0.999) from "
                f"the '{student['target']}' target: the mean out-of-fold log-probabilities of {ens['members']} "
                f"fully fine-tuned all-MiniLM-L6-v2 teachers ({summary['args']['folds']}-fold cross-fitting)"
                + (", averaged with the starting model's own" if student["target"] == "mixed" else "")
            ),
            "command": " ".join(
                args.results if previous == "--out" else word  # where the run's results now lie
                for previous, word in zip(["", *summary["args"]["command"]], summary["args"]["command"], strict=True)
            )
            + f" && python -m training.ensemble export --results {args.results} --variant {args.variant} "
            f"--out {args.out}",
            "teacher": f"ensemble of {ens['members']} (val macro-recall {ens['val_macro_recall']}); start {teacher}",
            "ensemble": ens,
            "checks": student["checks"],
            "val_macro_recall": round(report.macro_recall, 4),
            "val_accuracy": round(report.accuracy, 4),
            "val_temperature_note": f"softmax temperature {temperature:.3f} fitted on val; the end of the run",
        },
    )
    meta = save_meta(meta, out)
    print(f"wrote {out} ({meta['model_version']}); run training.intent --artifacts {out} next")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("bundle", help="tokenised data and the compact fp16 base, for the GPU machine")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=lambda a: bundle(a.out))
    p = sub.add_parser("run", help="teachers, ensemble target and students (GPU when there is one)")
    p.add_argument("--bundle", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, default=8.0, help="deadline of the whole run")
    p.add_argument("--teacher-share", type=float, default=0.6, help="share of the deadline for teachers")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--max-rounds", type=int, default=6)
    p.add_argument("--epochs", type=int, default=3, help="teacher epochs (the best on val is kept)")
    p.add_argument("--lrs", type=float, nargs="+", default=[6e-5, 1e-4], help="teacher learning rates, by round")
    p.add_argument("--workers", type=int, default=5, help="processes sharing the GPU")
    p.add_argument(
        "--variants",
        nargs="+",
        default=["e55:ensemble:0.5:0.5:3", "e82:ensemble:0.8:0.2:3", "m55:mixed:0.5:0.5:3", "m82:mixed:0.8:0.2:3"],
        help="students, each name:target:kl_weight:ce_weight:epochs (target: ensemble or mixed)",
    )
    p.add_argument("--student-lr", type=float, default=1e-4)
    p.add_argument("--targets", help="an earlier run's logits.npz: train students only")
    p.add_argument("--limit", type=int, default=0, help="use only the first N train tweets (a smoke test)")
    p.set_defaults(func=run)
    p = sub.add_parser("export", help="write one student as an artifacts directory")
    p.add_argument("--results", required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=export)
    args = parser.parse_args()
    args.command = ["python -m training.ensemble", *sys.argv[1:]]
    args.func(args)


if __name__ == "__main__":
    main()
