"""``backend: auto``: which inference path serves on this host, measured once and kept with its reason.

The candidates are the model's ONNX Runtime paths, fp32 and int8 (and the 4-layer ``fast`` model's, when the
config allows it). At first use each classifies a fixed sample of the shipped synthetic brand posts: once to see
how far its verdicts agree with fp32 of the same model, then in turns (``ROUNDS`` times, so a shared host's
changing load falls on all of them) to time it. The fastest path within ``TOLERANCE`` serves.

Which path is fastest is measured on the host, never guessed from its CPU flags: where the CPU multiplies 8-bit
integers natively (AVX-512 VNNI, AVX-VNNI, AMX) int8 is expected to lead by far, but on AVX2 alone it goes either
way (the development host, AVX2 without VNNI, served int8 at 1.66x fp32; the 2-core AVX2 host of issue #28 timed
int8 at 0.96x fp32, so fp32 would serve there). The flags only decide when to measure again: the choice is kept in
a file under ``cache_dir()/backend-choice/`` named after the model version and the CPU's flags, so another model
version or another CPU measures afresh, and every other start reads the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from classifiers.cache import cache_dir
from classifiers.verdict import Classifier, Document, Verdict

TOLERANCE = 0.95
"""A path may serve only if, on the sample, at least this share of its verdicts has the same intent, and this
share the same sentiment, as fp32 of the same model. It is the model card's int8 tolerance (≥ 95% of val
sentiments as fp32), applied to intent as well: dynamic int8 takes each pass's activation ranges from the texts in
it, so a few borderline verdicts move with it whatever the CPU (97.5% of intents and 99.0% of sentiments on this
sample for the 2026-12-07 model); 99% would rule int8 out on every host, VNNI ones included."""
SAMPLE_SIZE = 200
"""Posts in the agreement sample: with 200, a path may differ from fp32 on at most 10 posts per label."""
TIMED_POSTS = 64
"""Posts each path classifies per timed round."""
ROUNDS = 3
FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512bw", "avx512f", "avx2", "fma")
"""The CPU flags that decide which path is fastest (VNNI and AMX: native 8-bit multiply-add)."""
SAMPLE_FILE = Path(__file__).parent / "data" / "intent" / "synthetic" / "posts.jsonl"
CHOICE_FORMAT = 1
"""Bumped when the measurement or the file changes, so older choices are measured afresh."""


@dataclass(frozen=True)
class Candidate:
    """One path a host may serve: an ONNX Runtime ``backend`` ("onnx-fp32" or "onnx-int8") over a model folder."""

    backend: str
    model: str
    """The model's name: a shipped release ("standard", "fast") or the folder's name."""
    artifacts: Path
    version: str
    """The model's ``model_version`` (meta.json)."""

    @property
    def label(self) -> str:
        return f"{self.backend} on {self.model}"


@dataclass(frozen=True)
class Measured:
    """How one candidate did on this host."""

    candidate: Candidate
    per_s: float
    """Median posts per second over the timed rounds."""
    rounds: tuple[float, ...]
    """Posts per second in each round."""
    intent_agreement: float
    """Share of the sample with the same intent as fp32 of the same model (1.0 for fp32 itself)."""
    sentiment_agreement: float


@dataclass(frozen=True)
class Choice:
    """The path this host serves, why, and what was measured; kept as JSON between starts."""

    backend: str
    model: str
    artifacts: str
    reason: str
    key: str
    """What the choice holds for: model versions, CPU flags, tolerance and format (see ``choice_key``)."""
    cpu_flags: tuple[str, ...]
    versions: tuple[str, ...]
    measured: tuple[dict[str, object], ...]
    """Each candidate: label, per_s, rounds, intent_agreement, sentiment_agreement."""
    measured_at: str
    file: str = ""
    """Where the choice is kept (filled when read or written)."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """The ``FLAGS`` this CPU has, from ``/proc/cpuinfo`` (empty where there is none to read)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return ()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            have = set(value.split())
            return tuple(flag for flag in FLAGS if flag in have)
    return ()


def choice_key(candidates: Sequence[Candidate], flags: Sequence[str], tolerance: float = TOLERANCE) -> str:
    """A short hash of what a choice depends on: each candidate's path and model version, the CPU flags, the
    tolerance and ``CHOICE_FORMAT``. Any change gives another key, so the choice is measured afresh."""
    payload = json.dumps(
        [CHOICE_FORMAT, sorted((c.backend, c.version) for c in candidates), sorted(flags), tolerance],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def choice_file(folder: Path, candidates: Sequence[Candidate], key: str) -> Path:
    primary = candidates[0].version if candidates else "none"
    return folder / f"{primary}-{key}.json"


def read_choice(path: Path, key: str) -> Choice | None:
    """The choice kept at ``path`` if it holds for ``key``; None when missing, unreadable or for another key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        choice = Choice(
            backend=str(data["backend"]),
            model=str(data["model"]),
            artifacts=str(data["artifacts"]),
            reason=str(data["reason"]),
            key=str(data["key"]),
            cpu_flags=tuple(data["cpu_flags"]),
            versions=tuple(data["versions"]),
            measured=tuple(data["measured"]),
            measured_at=str(data["measured_at"]),
            file=str(path),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return choice if choice.key == key else None


def write_choice(path: Path, choice: Choice) -> Choice:
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = Choice(**{**asdict(choice), "file": str(path)})
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(asdict(kept), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return kept


def agreement(reference: Sequence[Verdict], other: Sequence[Verdict]) -> tuple[float, float]:
    """Shares of ``other``'s verdicts with the same intent, and with the same sentiment, as ``reference``."""
    if len(reference) != len(other) or not reference:
        raise ValueError(f"agreement needs two equally long, non-empty verdict lists ({len(reference)}, {len(other)})")
    intent = sum(a.intent == b.intent for a, b in zip(reference, other, strict=True)) / len(reference)
    sentiment = sum(a.sentiment == b.sentiment for a, b in zip(reference, other, strict=True)) / len(reference)
    return intent, sentiment


def within(measured: Measured, tolerance: float = TOLERANCE) -> bool:
    return measured.intent_agreement >= tolerance and measured.sentiment_agreement >= tolerance


def pick(measured: Sequence[Measured], tolerance: float = TOLERANCE) -> tuple[Measured, str]:
    """The fastest candidate within ``tolerance``, and why, in words. fp32 always agrees with itself, so there is
    always one as long as an fp32 path was measured."""
    eligible = [m for m in measured if within(m, tolerance)]
    if not eligible:
        raise ValueError("no candidate agrees with fp32 within the tolerance: measure an fp32 path too")
    best = max(eligible, key=lambda m: m.per_s)
    others = []
    for m in measured:
        if m is best:
            continue
        if not within(m, tolerance):
            others.append(
                f"{m.candidate.label} {m.per_s:.1f}/s left out: it agrees with fp32 on {m.intent_agreement:.1%} of "
                f"intents and {m.sentiment_agreement:.1%} of sentiments, under the {tolerance:.0%} tolerance"
            )
        else:
            others.append(f"{m.candidate.label} {m.per_s:.1f}/s ({best.per_s / m.per_s:.2f}x slower)")
    reason = (
        f"{best.candidate.label} is the fastest path within the {tolerance:.0%} agreement tolerance: "
        f"{best.per_s:.1f} posts/s (median of {len(best.rounds)} rounds)"
    )
    return best, reason + ("; " + "; ".join(others) if others else "")


def sample_texts(count: int = SAMPLE_SIZE) -> list[str]:
    """``count`` posts spread evenly over the shipped synthetic brand posts (every kind and industry)."""
    lines = [line for line in SAMPLE_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(1, len(lines) // count)
    return [str(json.loads(line)["text"]) for line in lines[::step][:count]]


Loader = Callable[[Candidate], Classifier]


def measure(
    candidates: Sequence[Candidate], load: Loader, texts: Sequence[str], batch_size: int = 32
) -> list[Measured]:
    """Each candidate's agreement with fp32 of its model on ``texts``, and its speed over ``ROUNDS`` turns."""
    classifiers = [load(c) for c in candidates]
    docs = [Document(t) for t in texts]

    def run(classifier: Classifier, batch: Sequence[Document]) -> list[Verdict]:
        out: list[Verdict] = []
        for start in range(0, len(batch), batch_size):
            out += classifier.classify(batch[start : start + batch_size])
        return out

    verdicts = [run(c, docs) for c in classifiers]  # also the warm-up
    timed = docs[:TIMED_POSTS]
    rates: list[list[float]] = [[] for _ in candidates]
    for number in range(ROUNDS):
        order = range(len(candidates)) if number % 2 == 0 else reversed(range(len(candidates)))
        for i in order:
            started = time.perf_counter()
            run(classifiers[i], timed)
            rates[i].append(len(timed) / (time.perf_counter() - started))
    results = []
    for i, candidate in enumerate(candidates):
        reference = next(
            (j for j, c in enumerate(candidates) if c.version == candidate.version and c.backend == "onnx-fp32"), i
        )
        intent, sentiment = agreement(verdicts[reference], verdicts[i])
        results.append(Measured(candidate, statistics.median(rates[i]), tuple(rates[i]), intent, sentiment))
    return results


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process measures at a time (a prefork worker's children start together); the others wait and read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def choose(
    candidates: Sequence[Candidate],
    load: Loader,
    folder: Path | None = None,
    flags: Sequence[str] | None = None,
    remeasure: bool = False,
    batch_size: int = 32,
) -> Choice:
    """The kept choice for these candidates on this CPU, measuring and keeping it first if there is none."""
    if not candidates:
        raise ValueError("backend auto needs at least one candidate path")
    folder = folder or cache_dir() / "backend-choice"
    flags = tuple(cpu_flags() if flags is None else flags)
    key = choice_key(candidates, flags)
    path = choice_file(folder, candidates, key)
    if not remeasure and (kept := read_choice(path, key)) is not None:
        return kept
    with _locked(path):
        if not remeasure and (kept := read_choice(path, key)) is not None:
            return kept  # another process measured while this one waited
        measured = measure(candidates, load, sample_texts(), batch_size)
        best, reason = pick(measured)
        choice = Choice(
            backend=best.candidate.backend,
            model=best.candidate.model,
            artifacts=str(best.candidate.artifacts),
            reason=reason,
            key=key,
            cpu_flags=flags,
            versions=tuple(sorted({c.version for c in candidates})),
            measured=tuple(
                {
                    "label": m.candidate.label,
                    "per_s": round(m.per_s, 2),
                    "rounds": [round(r, 2) for r in m.rounds],
                    "intent_agreement": round(m.intent_agreement, 4),
                    "sentiment_agreement": round(m.sentiment_agreement, 4),
                }
                for m in measured
            ),
            measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        return write_choice(path, choice)
