"""Distil the shipped encoder into a shallower one: embeddings and layers 0–2 as shipped, then fewer trained layers.

    python -m training.distil cache
    python -m training.distil train --name tok1 [--epochs 2] [--state-weight 1.0] [--pool-weight 1.0]
    python -m training.distil export --name tok1 --out var/candidate   # or classifiers/artifacts

``cache`` runs the shipped model (fp32 torch) once over the sentiment train TSV and TweetEval val and keeps, per
text, the states after layer 2 (hidden-state index ``MID_LAYER``: the student's input, and the mid pool the
intent head reads), the final-layer token states and the sentiment logits, in fp16 under ``var/distil/``. Layers
0–2 are not trained, so an epoch then costs only the student's own layers.

``train`` fits the student's layer(s) (initialised from shipped fine-tuned ones) and a sentiment head (initialised
from the shipped head) on the train TSV only, with four weighted losses:
  - the teacher's logits (or, with ``--targets``, an ensemble's scores from ``training.ensemble``):
    KL divergence at temperature T (times T²),
  - the gold labels: class-balanced cross-entropy,
  - final token states of real tokens, [CLS] and [SEP] included: mean squared error divided by the teacher's
    mean per-dimension variance (so 1.0 is "no better than the mean state"), or with ``--per-dimension`` by
    each dimension's own variance (the units the intent head's standard scaler reads them in),
  - the mean-pooled final state (what the sentiment head and the intent head read): the same normalised MSE.
Each check scores val sentiment macro-recall and the intent head's 5-fold cross-validation over the intent
*train* split on the student's pools (``training.intent``'s recipe at its shipped C, offsets
included); the chosen checkpoint is the best val macro-recall among checks whose intent CV is no worse than the
teacher's, else the best val macro-recall. The intent test split is not read here.

``export`` writes the chosen checkpoint as an artifacts directory (encoder_layers.safetensors with every layer
from ``MID_LAYER`` up and the layer count in its metadata, the sentiment head with a val-fitted temperature, the
shipped thresholds); run ``training.intent`` on it next.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from classifiers.cues import cue_features
from classifiers.encoder import HIDDEN, MID_LAYER, base_model_path, load_tokenizer, load_torch_encoder
from classifiers.metrics import evaluate
from classifiers.model import ARTIFACTS, SENTIMENTS
from classifiers.refit import data
from classifiers.refit.artifacts import load_heads, load_meta, save_heads, save_meta
from classifiers.refit.calibration import fit_temperature
from training.intent import SHIPPED_C, cross_validated
from training.sentiment import batches, macro_recall, masked_mean, pad, warmup_then_linear

WORK = data.REPO / "var" / "distil"
LABELS = [s.value for s in SENTIMENTS]
INTENT_C = SHIPPED_C
TEACHER = ARTIFACTS
"""The model distilled from: the shipped artifacts unless ``--teacher DIR`` names another (e.g. an earlier release
restored with ``git archive``; the shipped 4-layer student was distilled from minilm6-ft3-6-2026-11-23-170aa2dc)."""
"""The intent head's C as shipped (chosen by CV on the teacher's features); checks compare at this C."""


@dataclass
class Cached:
    """Teacher outputs for one split, token rows concatenated: text i owns rows ``starts[i]:starts[i + 1]``."""

    mid: np.ndarray  # (tokens, HIDDEN) fp16, states after layer MID_LAYER - 1
    final: np.ndarray  # (tokens, HIDDEN) fp16, the teacher's final states
    starts: np.ndarray  # (texts + 1,) int64
    logits: np.ndarray  # (texts, 3) fp32, the teacher's sentiment logits before temperature
    labels: np.ndarray  # (texts,) int64, gold sentiment
    keys: list[str]

    def rows(self, i: int) -> slice:
        return slice(int(self.starts[i]), int(self.starts[i + 1]))

    def pooled(self, states: np.ndarray) -> np.ndarray:
        sums = np.add.reduceat(states.astype(np.float32), self.starts[:-1], axis=0)
        return sums / np.diff(self.starts)[:, None]


def _teacher_key() -> str:
    meta = load_meta(TEACHER)
    return str(meta["model_version"])


def cache(threads: int) -> None:
    """Run the shipped model over train and val once; write var/distil/<teacher version>/{train,val}.npz."""
    torch.set_num_threads(threads)
    out_dir = WORK / _teacher_key()
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_torch_encoder(TEACHER / "encoder_layers.safetensors")
    heads = load_heads(TEACHER)
    weight = torch.from_numpy(heads["sentiment_weights"]).float()
    bias = torch.from_numpy(heads["sentiment_bias"]).float()
    tokenizer = load_tokenizer()  # serving's cut (MAX_TOKENS), so the intent pools match serving exactly
    for split, examples in (("val", data.sentiment_val()), ("train", data.sentiment_train())):
        target = out_dir / f"{split}.npz"
        if target.exists():
            print(f"{target} exists", flush=True)
            continue
        ids = [e.ids for e in tokenizer.encode_batch([e.text for e in examples])]
        lengths = np.array([len(x) for x in ids])
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        mid = np.zeros((starts[-1], HIDDEN), np.float16)
        final = np.zeros((starts[-1], HIDDEN), np.float16)
        logits = np.zeros((len(ids), len(LABELS)), np.float32)
        order = sorted(range(len(ids)), key=lambda i: lengths[i])
        started = time.time()
        with torch.inference_mode():
            for n, begin in enumerate(range(0, len(order), 64)):
                rows = order[begin : begin + 64]
                t, m = pad(ids, rows)
                out = model(input_ids=t, attention_mask=m, output_hidden_states=True)
                fin, hid = out.last_hidden_state, out.hidden_states[MID_LAYER]
                logits[rows] = (masked_mean(fin, m) @ weight.T + bias).numpy()
                for r, i in enumerate(rows):
                    k = int(lengths[i])
                    mid[starts[i] : starts[i + 1]] = hid[r, :k].numpy()
                    final[starts[i] : starts[i + 1]] = fin[r, :k].numpy()
                if n % 50 == 0:
                    print(f"  {split}: {begin + len(rows)}/{len(ids)} texts, {time.time() - started:.0f}s", flush=True)
        np.savez(
            target,
            mid=mid,
            final=final,
            starts=starts,
            logits=logits,
            labels=np.array([int(e.label) for e in examples]),
            keys=np.array([e.key for e in examples]),
        )
        print(f"wrote {target}: {len(ids)} texts, {starts[-1]} tokens, {time.time() - started:.0f}s", flush=True)


def load_cached(split: str) -> Cached:
    with np.load(WORK / _teacher_key() / f"{split}.npz") as z:
        return Cached(
            mid=z["mid"],
            final=z["final"],
            starts=z["starts"],
            logits=z["logits"],
            labels=z["labels"],
            keys=z["keys"].tolist(),
        )


def _batch(split: Cached, rows: list[int], with_targets: bool) -> dict[str, torch.Tensor]:
    """Padded (B, L, HIDDEN) mid states, mask and (optionally) teacher final states for texts ``rows``."""
    lengths = [int(split.starts[i + 1] - split.starts[i]) for i in rows]
    length = max(lengths)
    mid = np.zeros((len(rows), length, HIDDEN), np.float32)
    mask = np.zeros((len(rows), length), np.float32)
    final = np.zeros((len(rows), length, HIDDEN), np.float32) if with_targets else None
    for r, i in enumerate(rows):
        mid[r, : lengths[r]] = split.mid[split.rows(i)]
        mask[r, : lengths[r]] = 1.0
        if final is not None:
            final[r, : lengths[r]] = split.final[split.rows(i)]
    out = {"mid": torch.from_numpy(mid), "mask": torch.from_numpy(mask)}
    if final is not None:
        out["final"] = torch.from_numpy(final)
    return out


class Student(torch.nn.Module):
    """The trained top of the student: ``len(init_layers)`` BERT layers over the layer-2 states, and a head."""

    def __init__(self, init_layers: list[int], from_base: bool = False, intents: int = 0) -> None:
        super().__init__()
        source = load_torch_encoder(None if from_base else TEACHER / "encoder_layers.safetensors")
        source.config._attn_implementation = "eager"  # takes the additive (B, 1, 1, L) mask built below
        self.layers = torch.nn.ModuleList([source.encoder.layer[i] for i in init_layers])
        self.head = torch.nn.Linear(HIDDEN, len(LABELS))
        if not from_base:
            heads = load_heads(TEACHER)
            self.head.weight.data = torch.from_numpy(heads["sentiment_weights"]).float().clone()
            self.head.bias.data = torch.from_numpy(heads["sentiment_bias"]).float().clone()
        # multi-task runs: a linear intent head on [mid pool, final pool], trained with the layers so that the
        # final states learn what tells the intents apart (the shipped intent head is refitted afterwards)
        self.intent = torch.nn.Linear(2 * HIDDEN, intents) if intents else None

    def forward(self, mid: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Final token states (B, L, HIDDEN), mean pool (B, HIDDEN) and sentiment logits (B, 3)."""
        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(mid.dtype).min
        states = mid
        for layer in self.layers:
            states = layer(states, attention_mask=additive)
        pooled = masked_mean(states, mask)
        return states, pooled, self.head(pooled)


def student_pools(student: Student, split: Cached, rows: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean-pooled final states and logits of the student for texts ``rows`` (default all), in that order."""
    rows = list(range(len(split.keys))) if rows is None else rows
    pooled = np.zeros((len(rows), HIDDEN), np.float32)
    logits = np.zeros((len(rows), len(LABELS)), np.float32)
    order = sorted(range(len(rows)), key=lambda j: split.starts[rows[j] + 1] - split.starts[rows[j]])
    student.eval()
    with torch.inference_mode():
        for begin in range(0, len(order), 128):
            js = order[begin : begin + 128]
            b = _batch(split, [rows[j] for j in js], with_targets=False)
            _, p, lg = student(b["mid"], b["mask"])
            pooled[js] = p.numpy()
            logits[js] = lg.numpy()
    student.train()
    return pooled, logits


def intent_cv(mid_pool: np.ndarray, final_pool: np.ndarray, texts: list[str], gold: list[str]) -> dict[str, float]:
    """5-fold CV over the intent train split at the shipped C (logit offsets fitted on the folds, as shipped)."""
    labels: list[str] = [lab for lab in ("complaint", "purchase_intent", "question", "praise", "other") if lab in gold]
    x = np.concatenate([mid_pool, final_pool, np.array([cue_features(t) for t in texts], np.float32)], axis=1)
    report, _ = cross_validated(x, gold, labels, INTENT_C)
    complaint = report.per_class["complaint"]
    return {
        "macro_f1": round(report.macro_f1, 4),
        "complaint_f1": round(complaint.f1, 4),
        "complaint_found": report.confusion["complaint"]["complaint"],
        "complaints": complaint.support,
    }


class IntentTrain:
    """The intent train split's rows in the cached train TSV, its texts, gold labels and teacher features."""

    def __init__(self, train: Cached, holdout: float = 0.0, seed: int = 13) -> None:
        examples = data.intent_examples().get("train", [])
        index = {k: i for i, k in enumerate(train.keys)}
        self.rows = [index[e.key] for e in examples]
        self.texts = [e.text for e in examples]
        self.gold = [e.label for e in examples]
        self.labels: list[str] = [
            lab for lab in ("complaint", "purchase_intent", "question", "praise", "other") if lab in self.gold
        ]
        self.cues = np.array([cue_features(t) for t in self.texts], np.float32)
        # multi-task runs train the encoder on `fit` only; `dev` (stratified, never trained on) scores them
        positions = np.arange(len(examples))
        self.fit: np.ndarray
        self.dev: np.ndarray
        self.fit, self.dev = (
            train_test_split(positions, test_size=holdout, stratify=self.gold, random_state=seed)
            if holdout
            else (positions, positions[:0])
        )
        picked = np.concatenate([np.arange(train.starts[i], train.starts[i + 1]) for i in self.rows])
        starts = np.concatenate([[0], np.cumsum([train.starts[i + 1] - train.starts[i] for i in self.rows])])
        sub = Cached(train.mid[picked], train.final[picked], starts.astype(np.int64), train.logits, train.labels, [])
        self.mid_pool = sub.pooled(sub.mid)
        self.teacher_pool = sub.pooled(sub.final)

    def score(self, final_pool: np.ndarray) -> dict[str, float]:
        return intent_cv(self.mid_pool, final_pool, self.texts, self.gold)

    def dev_score(self, final_pool: np.ndarray) -> dict[str, float]:
        """The shipped intent recipe (C, CV-fitted offsets) fitted on `fit` rows and scored on the held-out `dev`."""
        x = np.concatenate([self.mid_pool, final_pool, self.cues], axis=1)
        gold = np.array(self.gold)
        _, offsets = cross_validated(x[self.fit], gold[self.fit].tolist(), self.labels, INTENT_C)
        scaler = StandardScaler().fit(x[self.fit])
        y = [self.labels.index(g) for g in gold[self.fit]]
        lr = LogisticRegression(C=INTENT_C, max_iter=3000).fit(scaler.transform(x[self.fit]), y)
        pred = (lr.predict_log_proba(scaler.transform(x[self.dev])) + offsets).argmax(1)
        report = evaluate(gold[self.dev].tolist(), [self.labels[i] for i in pred], self.labels)
        complaint = report.per_class["complaint"]
        return {
            "macro_f1": round(report.macro_f1, 4),
            "complaint_f1": round(complaint.f1, 4),
            "complaint_found": report.confusion["complaint"]["complaint"],
            "complaints": complaint.support,
        }


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    run_dir = WORK / _teacher_key() / args.name
    run_dir.mkdir(parents=True, exist_ok=True)
    tr, val = load_cached("train"), load_cached("val")
    if args.targets:  # distil towards other scores than the teacher's own, e.g. an ensemble's (training.ensemble)
        with np.load(args.targets) as z:
            targets = z[args.target_key].astype(np.float32)
            if "tweet_id" in z and z["tweet_id"].tolist() != tr.keys:
                raise SystemExit(f"{args.targets}: its tweet_id rows are not the train cache's, in order")
        if targets.shape != tr.logits.shape:
            raise SystemExit(
                f"{args.targets}[{args.target_key}]: shape {targets.shape}, the train cache has {tr.logits.shape}"
            )
        tr.logits = targets
    intents = IntentTrain(tr, args.intent_holdout if args.intent_weight else 0.0, args.seed)
    print(f"loaded cache: {len(tr.keys)} train texts ({len(tr.mid)} tokens), {len(val.keys)} val", flush=True)
    teacher_val = macro_recall(val.logits, val.labels)
    teacher_intent: dict[str, Any] = intents.score(intents.teacher_pool)
    if len(intents.dev):
        teacher_intent = {"cv": teacher_intent, "dev": intents.dev_score(intents.teacher_pool)}
    print(f"teacher: val macro-recall {teacher_val:.4f}, intent CV {teacher_intent}", flush=True)

    # 1.0 in the state losses means "no closer than the teacher's mean state"
    sample = tr.final[:: max(1, len(tr.final) // 200_000)].astype(np.float32)
    token_var = torch.from_numpy(sample.var(axis=0))
    pool_var = torch.from_numpy(tr.pooled(tr.final).var(axis=0))
    print(f"teacher final-state variance: token {token_var.mean():.4f}, pooled {pool_var.mean():.4f}", flush=True)
    if args.per_dimension:  # a few dimensions are all but constant (~1e-10): floored so they do not swamp the loss
        token_var, pool_var = token_var.clamp_min(0.1 * token_var.mean()), pool_var.clamp_min(0.1 * pool_var.mean())
    else:  # one scale for all dimensions: high-variance dimensions dominate
        token_var, pool_var = token_var.mean(), pool_var.mean()

    student = Student(args.init_layers, args.from_base, len(intents.labels) if args.intent_weight else 0)
    intent_plan: list[int] = []
    if args.intent_weight:
        fit_gold = np.array([intents.labels.index(intents.gold[j]) for j in intents.fit])
        fit_counts = np.bincount(fit_gold, minlength=len(intents.labels)).astype(np.float32)
        intent_ce = torch.nn.CrossEntropyLoss(weight=torch.from_numpy((fit_counts.sum() / fit_counts) ** 0.5))
        intent_of_row = dict(zip(intents.rows, [intents.labels.index(g) for g in intents.gold], strict=True))
    # with --ema, checks score and save an exponential moving average of the weights instead of the last step's
    ema = (
        torch.optim.swa_utils.AveragedModel(student, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema))
        if args.ema
        else None
    )
    counts = np.bincount(tr.labels, minlength=3).astype(np.float32)
    ce = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(counts.sum() / (3 * counts)))
    lengths = np.diff(tr.starts)
    rng = random.Random(args.seed)
    plan: list[list[int]] = []
    for _ in range(math.ceil(args.epochs)):
        plan.extend(batches(lengths.tolist(), args.batch_size, rng))
    steps = int(args.epochs * len(plan) / math.ceil(args.epochs) + 0.5)
    plan = plan[:steps]
    optimizer = torch.optim.AdamW(
        [
            {"params": student.layers.parameters(), "lr": args.lr},
            {"params": student.head.parameters(), "lr": args.head_lr},
        ],
        weight_decay=0.01,
    )
    schedule = warmup_then_linear(optimizer, steps)
    eval_every = max(1, steps // args.checks)
    temp = args.temperature
    log: list[dict] = []
    started = time.time()
    running = np.zeros(4)
    student.train()
    for step, rows in enumerate(plan, start=1):
        b = _batch(tr, rows, with_targets=True)
        states, pooled, logits = student(b["mid"], b["mask"])
        t_logits = torch.from_numpy(tr.logits[rows])
        kl = torch.nn.functional.kl_div(
            torch.log_softmax(logits / temp, -1), torch.softmax(t_logits / temp, -1), reduction="batchmean"
        ) * (temp**2)
        hard = ce(logits, torch.from_numpy(tr.labels[rows]))
        m = b["mask"].unsqueeze(-1)
        token = (((states - b["final"]) ** 2 / token_var) * m).sum() / (m.sum() * HIDDEN)
        t_pool = masked_mean(b["final"], b["mask"])
        pool = ((pooled - t_pool) ** 2 / pool_var).mean()
        loss = args.kl_weight * kl + args.ce_weight * hard + args.state_weight * token + args.pool_weight * pool
        if student.intent is not None:
            if len(intent_plan) < args.intent_batch:
                intent_plan.extend(rng.sample([intents.rows[j] for j in intents.fit], len(intents.fit)))
            irows = intent_plan[: args.intent_batch]
            del intent_plan[: args.intent_batch]
            ib = _batch(tr, irows, with_targets=False)
            _, i_pooled, _ = student(ib["mid"], ib["mask"])
            i_logits = student.intent(torch.cat([masked_mean(ib["mid"], ib["mask"]), i_pooled], -1))
            loss = loss + args.intent_weight * intent_ce(i_logits, torch.tensor([intent_of_row[r] for r in irows]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if ema is not None:
            ema.update_parameters(student)
        running += [kl.item(), hard.item(), token.item(), pool.item()]
        if step % 100 == 0:
            kl_, ce_, tok_, pool_ = running / 100
            print(
                f"step {step}/{steps} kl {kl_:.4f} ce {ce_:.4f} token {tok_:.4f} pool {pool_:.4f} "
                f"{time.time() - started:.0f}s",
                flush=True,
            )
            running[:] = 0
        if step % eval_every == 0 or step == steps:
            scored = student if ema is None else cast(Student, ema.module)  # AveragedModel keeps a deep copy
            _, val_logits = student_pools(scored, val)
            pool_intent, _ = student_pools(scored, tr, intents.rows)
            check = {
                "step": step,
                "epochs": round(step / len(plan) * args.epochs, 3),
                "val_macro_recall": round(macro_recall(val_logits, val.labels), 4),
                "val_agreement": round(float((val_logits.argmax(1) == val.logits.argmax(1)).mean()), 4),
                "intent_cv": intents.score(pool_intent) if not len(intents.dev) else intents.dev_score(pool_intent),
                "minutes": round((time.time() - started) / 60, 1),
            }
            print(f"  check {check}", flush=True)
            log.append(check)
            torch.save(scored.state_dict(), run_dir / f"step{step}.pt")
            student.train()
    bar = teacher_intent["dev"] if len(intents.dev) else teacher_intent
    ok = [
        c
        for c in log
        if c["intent_cv"]["macro_f1"] >= bar["macro_f1"] and c["intent_cv"]["complaint_f1"] >= bar["complaint_f1"]
    ]
    chosen = max(ok or log, key=lambda c: c["val_macro_recall"])
    summary = {
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "teacher": {"val_macro_recall": round(teacher_val, 4), "intent_cv": teacher_intent},
        "checks": log,
        "chosen": chosen,
        "chosen_meets_intent_cv": bool(ok),
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(f"chosen {chosen} (intent CV no worse than the teacher's: {bool(ok)}); wrote {run_dir}", flush=True)


def export(args: argparse.Namespace) -> None:
    """Write the chosen checkpoint of run ``--name`` as an artifacts directory (fp16 layers, as shipped)."""
    run_dir = WORK / _teacher_key() / args.name
    summary = json.loads((run_dir / "summary.json").read_text())
    step = args.step or summary["chosen"]["step"]
    run_args = summary["args"]
    intents = 5 if run_args.get("intent_weight") else 0
    student = Student(run_args["init_layers"], run_args.get("from_base", False), intents)
    student.load_state_dict(torch.load(run_dir / f"step{step}.pt"))
    for p in student.parameters():  # as shipped: fp16 layers (the head stays fp32 in heads.npz)
        p.data = p.data.half().float()
    val = load_cached("val")
    _, logits = student_pools(student, val)
    temperature = fit_temperature(logits, val.labels)
    report = evaluate([LABELS[i] for i in val.labels], [LABELS[i] for i in logits.argmax(1)], LABELS)
    print(f"step {step}, fp16 layers, temperature {temperature:.3f}\n{report.render()}", flush=True)

    num_layers = MID_LAYER + len(student.layers)
    layers = {
        f"encoder.layer.{MID_LAYER + n}.{k}": v.detach().to(torch.float16).contiguous()
        for n, layer in enumerate(student.layers)
        for k, v in layer.state_dict().items()
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != TEACHER.resolve():
        shutil.copy(TEACHER / "meta.json", out / "meta.json")
    if out.resolve() != ARTIFACTS.resolve():
        shutil.copy(TEACHER / "MODEL_CARD.md", out / "MODEL_CARD.md")
    save_file(
        layers,
        str(out / "encoder_layers.safetensors"),
        metadata={"base": str(base_model_path().name), "num_layers": str(num_layers)},
    )
    save_heads(
        {
            "sentiment_weights": student.head.weight.detach().numpy().astype(np.float32),
            "sentiment_bias": student.head.bias.detach().numpy().astype(np.float32),
            "sentiment_labels": np.array(LABELS),
            "sentiment_temperature": np.array(temperature, np.float32),
        },
        out,
    )
    meta = load_meta(out)
    meta.pop("intent", None)
    init = ", ".join(str(i) for i in run_args["init_layers"])
    teacher = "" if TEACHER.resolve() == ARTIFACTS.resolve() else f"--teacher {args.teacher} "
    meta.update(
        encoder=f"distil{num_layers}",
        sentiment={
            "method": (
                f"{num_layers}-layer student: embeddings and layers 0-{MID_LAYER - 1} of all-MiniLM-L6-v2 as shipped, "
                f"{len(student.layers)} trained layer(s) initialised from fine-tuned layer(s) {init} of "
                f"{_teacher_key()}, distilled from "
                + (
                    f"the '{run_args['target_key']}' scores of {run_args['targets']} (training.ensemble)"
                    if run_args.get("targets")
                    else "its logits"
                )
                + f" (KL at T={run_args['temperature']}, weight "
                f"{run_args['kl_weight']}), final token states (weight {run_args['state_weight']}) and mean-pooled "
                f"final state (weight {run_args['pool_weight']}), plus class-balanced CE (weight {run_args['ce_weight']})"
            ),
            "command": f"python -m training.distil {teacher}cache && python -m training.distil "
            + " ".join(run_args["command"])  # as typed, --teacher included
            + f" && python -m training.distil {teacher}export --name {args.name} --out {args.out}"
            + (f" --step {step}" if args.step else ""),
            "teacher": _teacher_key(),
            "best_step": step,
            "train_examples_seen": step * run_args["batch_size"],
            "val_macro_recall": round(report.macro_recall, 4),
            "val_accuracy": round(report.accuracy, 4),
            "val_temperature_note": (
                f"softmax temperature {temperature:.3f} fitted on val; "
                + (
                    f"checkpoint of step {step} named with --step"
                    if args.step
                    else "checkpoint chosen on val macro-recall among checks whose intent-train CV is no worse "
                    "than the teacher's"
                )
            ),
        },
    )
    meta = save_meta(meta, out)
    print(f"wrote {out} ({meta['model_version']}); run training.intent on it next", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, default=ARTIFACTS, help="artifacts directory of the model to distil")
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("cache", help="run the shipped model once over train and val")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=lambda a: cache(a.threads))
    p = sub.add_parser("train", help="train a student from the cache")
    p.add_argument("--name", required=True)
    p.add_argument("--init-layers", type=int, nargs="+", default=[3], help="shipped layers to start from, in order")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--kl-weight", type=float, default=0.7)
    p.add_argument("--ce-weight", type=float, default=0.3)
    p.add_argument("--state-weight", type=float, default=1.0)
    p.add_argument("--pool-weight", type=float, default=1.0)
    p.add_argument(
        "--per-dimension",
        action="store_true",
        help="state losses in units of each dimension's teacher variance (as the intent head's scaler sees them)",
    )
    p.add_argument("--checks", type=int, default=6, help="val and intent-CV checks over the run")
    p.add_argument("--from-base", action="store_true", help="start the layers from all-MiniLM-L6-v2, the head afresh")
    p.add_argument("--intent-weight", type=float, default=0.0, help="multi-task: weight of an intent loss (0: off)")
    p.add_argument("--intent-batch", type=int, default=16, help="multi-task: intent examples per step")
    p.add_argument("--intent-holdout", type=float, default=0.2, help="multi-task: intent train share held out (dev)")
    p.add_argument("--ema", type=float, default=0.0, help="decay of a weight average the checks score (0: off)")
    p.add_argument("--targets", help="logits.npz of training.ensemble: KL towards its scores instead")
    p.add_argument("--target-key", default="mixed", help="which scores of --targets (ensemble, mixed)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=train)
    p = sub.add_parser("export", help="write a trained student as an artifacts directory")
    p.add_argument("--name", required=True)
    p.add_argument("--step", type=int, default=0, help="checkpoint (default: the run's chosen one)")
    p.add_argument("--out", required=True, help="artifacts directory to write (classifiers/artifacts to ship)")
    p.set_defaults(func=export)
    args = parser.parse_args()
    global TEACHER
    TEACHER = args.teacher
    args.command = sys.argv[1:]
    args.func(args)


if __name__ == "__main__":
    main()
