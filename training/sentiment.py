"""Fine-tune the top of MiniLM for tweet sentiment, with a linear head over the mean-pooled final layer.

    python -m training.sentiment [--steps 2000] [--batch-size 32] [--lr 8e-5] [--seed 13]

Embeddings and the layers below ``MID_LAYER`` stay frozen (their states also feed the intent head, and
backward passes stop there, which makes a step about a third cheaper); the layers above are trained with
class-balanced cross-entropy on the shared train TSV. Val is used only to pick the best checkpoint and to
fit the softmax temperature. Writes classifiers/artifacts/encoder_layers.safetensors (fp16) and the
sentiment head, and drops the intent head, which must be retrained on the new encoder
(``python -m training.intent``). ``--export-checkpoint`` writes the best checkpoint saved so far
by an interrupted run.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import torch
from safetensors.torch import save_file

from classifiers.cache import cache_dir
from classifiers.encoder import MID_LAYER, base_model_path, load_tokenizer, load_torch_encoder
from classifiers.metrics import evaluate
from classifiers.model import ARTIFACTS, SENTIMENTS
from classifiers.refit import data
from classifiers.refit.artifacts import load_meta, save_heads, save_meta
from classifiers.refit.calibration import fit_temperature

TRAIN_MAX_TOKENS = 64
LABELS = [s.value for s in SENTIMENTS]


def trainable_prefixes(num_layers: int) -> list[str]:
    return [f"encoder.layer.{i}." for i in range(MID_LAYER, num_layers)]


class SentimentModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = load_torch_encoder(None)
        prefixes = trainable_prefixes(self.encoder.config.num_hidden_layers)
        for name, param in self.encoder.named_parameters():
            param.requires_grad = any(name.startswith(p) for p in prefixes)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        states = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        return self.head(masked_mean(states, mask))

    def trained_state(self) -> dict[str, torch.Tensor]:
        prefixes = trainable_prefixes(self.encoder.config.num_hidden_layers)
        layers = {
            k: v.detach().clone()
            for k, v in self.encoder.state_dict().items()
            if any(k.startswith(p) for p in prefixes)
        }
        return {
            **{f"encoder::{k}": v for k, v in layers.items()},
            "head::weight": self.head.weight.detach().clone(),
            "head::bias": self.head.bias.detach().clone(),
        }


def batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: sort within chunks of 50 batches, then shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    out: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        out.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


def pad(ids: list[list[int]], rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(len(ids[i]) for i in rows)
    t = torch.zeros((len(rows), length), dtype=torch.long)
    m = torch.zeros((len(rows), length), dtype=torch.long)
    for r, i in enumerate(rows):
        t[r, : len(ids[i])] = torch.tensor(ids[i])
        m[r, : len(ids[i])] = 1
    return t, m


def masked_mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real tokens (``mask`` 1) of ``states`` (B, L, H) → (B, H): the pooling every head here reads."""
    m = mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1)


def warmup_then_linear(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning-rate schedule of every training script here: linear warm-up over 6% of ``steps``, then linear
    decay to 0."""
    warmup = max(1, int(0.06 * steps))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )


def macro_recall(logits: np.ndarray, gold: np.ndarray) -> float:
    """Sentiment macro-recall of ``logits`` (texts × 3, TweetEval order) against gold label indices."""
    return evaluate([LABELS[i] for i in gold], [LABELS[i] for i in logits.argmax(1)], LABELS).macro_recall


def val_logits(model: SentimentModel, ids: list[list[int]]) -> np.ndarray:
    model.eval()
    out = np.zeros((len(ids), len(LABELS)), np.float32)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            rows = order[start : start + 64]
            t, m = pad(ids, rows)
            out[rows] = model(t, m).numpy()
    model.train()
    return out


def export(state: dict[str, torch.Tensor], temperature: float, meta_update: dict) -> None:
    layers = {
        k.split("::", 1)[1]: v.to(torch.float16).contiguous() for k, v in state.items() if k.startswith("encoder::")
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    save_file(layers, str(ARTIFACTS / "encoder_layers.safetensors"), metadata={"base": str(base_model_path().name)})
    save_heads(
        {
            "sentiment_weights": state["head::weight"].numpy().astype(np.float32),
            "sentiment_bias": state["head::bias"].numpy().astype(np.float32),
            "sentiment_labels": np.array(LABELS),
            "sentiment_temperature": np.array(temperature, np.float32),
        }
    )
    meta = load_meta()
    meta.pop("intent", None)
    meta.update(encoder=f"ft{MID_LAYER}-6", sentiment=meta_update)
    meta = save_meta(meta)
    print(f"wrote {ARTIFACTS} ({meta['model_version']}); run training.intent next", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--head-lr", type=float, default=2e-3)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--export-checkpoint", action="store_true")
    args = parser.parse_args()
    checkpoint = cache_dir() / f"sentiment-ft-seed{args.seed}.pt"

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer()
    val = data.sentiment_val()
    val_ids = [e.ids for e in tokenizer.encode_batch([e.text for e in val])]
    y_val = np.array([int(e.label) for e in val])

    model = SentimentModel()
    if args.export_checkpoint:
        saved = torch.load(checkpoint)
        _finish(model, saved["state"], saved["meta"], val_ids, y_val)
        return

    train = data.sentiment_train()
    tokenizer.enable_truncation(max_length=TRAIN_MAX_TOKENS)
    ids = [e.ids for e in tokenizer.encode_batch([e.text for e in train])]
    y = torch.tensor([int(e.label) for e in train])
    counts = torch.bincount(y, minlength=3).float()
    class_weight = counts.sum() / (3 * counts)
    print(
        f"sentiment fine-tune: {len(train)} train, {len(val)} val, class weights {class_weight.numpy().round(2)}",
        flush=True,
    )

    rng = random.Random(args.seed)
    plan: list[list[int]] = []
    while len(plan) < args.steps:
        plan.extend(batches([len(x) for x in ids], args.batch_size, rng))
    plan = plan[: args.steps]
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": enc_params, "lr": args.lr}, {"params": model.head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    schedule = warmup_then_linear(optimizer, args.steps)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weight)
    model.train()
    best: tuple[float, int] = (-1.0, 0)
    started, running = time.time(), 0.0
    for step, rows in enumerate(plan, start=1):
        t, m = pad(ids, rows)
        loss = loss_fn(model(t, m), y[rows])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(enc_params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running += loss.item()
        if step % 50 == 0:
            print(f"step {step}/{args.steps} loss {running / 50:.4f} {time.time() - started:.0f}s", flush=True)
            running = 0.0
        if step % args.eval_every == 0 or step == args.steps:
            logits = val_logits(model, val_ids)
            score = macro_recall(logits, y_val)
            print(f"  eval step {step}: val macro-recall {score:.4f}", flush=True)
            if score > best[0]:
                best = (score, step)
                meta = {
                    "method": f"fine-tuned layers {MID_LAYER}-5 of all-MiniLM-L6-v2 + linear head on mean pool, class-balanced CE",
                    "command": f"python -m training.sentiment --steps {args.steps} --batch-size {args.batch_size} --lr {args.lr} --seed {args.seed}",
                    "train_examples_seen": step * args.batch_size,
                    "best_step": step,
                    "train_minutes": round((time.time() - started) / 60, 1),
                }
                torch.save({"state": model.trained_state(), "meta": meta}, checkpoint)
    saved = torch.load(checkpoint)
    _finish(model, saved["state"], saved["meta"], val_ids, y_val)


def _finish(
    model: SentimentModel, state: dict[str, torch.Tensor], meta: dict, val_ids: list[list[int]], y_val: np.ndarray
) -> None:
    """Load the best state rounded to fp16 as shipped, fit the temperature and report on val."""
    layers = {k.split("::", 1)[1]: v.to(torch.float16).float() for k, v in state.items() if k.startswith("encoder::")}
    model.encoder.load_state_dict(layers, strict=False)
    model.head.weight.data = state["head::weight"]
    model.head.bias.data = state["head::bias"]
    logits = val_logits(model, val_ids)
    temperature = fit_temperature(logits, y_val)
    report = evaluate([LABELS[i] for i in y_val], [LABELS[i] for i in logits.argmax(1)], LABELS)
    print(
        f"best checkpoint (step {meta['best_step']}), fp16 weights, temperature {temperature:.3f}\n{report.render()}",
        flush=True,
    )
    meta = {**meta, "val_macro_recall": round(report.macro_recall, 4), "val_accuracy": round(report.accuracy, 4)}
    export(state, temperature, meta)


if __name__ == "__main__":
    main()
