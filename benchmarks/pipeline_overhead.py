"""What the pipeline costs around the model: the in-process burst against classify() alone, side by side.

    python benchmarks/pipeline_overhead.py [--database sqlite|postgres] [--mentions 300] [--rounds 3]
                                           [--classifier overheard.runtime:load_classifier] [--profile FILE]

One process loads the classifier once, then takes turns, --rounds times (the order alternating each round):
  classify   `overheard.pipeline.classify` over the burst's mentions, nothing else
  pipeline   the in-process burst of `pipeline_throughput.py` on a fresh database: the mentions appear in four
             replay sources at once, one loop sweeps them and sends due deliveries (signed webhooks to a local
             receiver) as `overheard run` does; mentions/s = mentions / (last delivery − first appended)
On a shared machine the load changes from minute to minute: only the ratio within a round means anything, and
the median ratio is what to quote. Each round also prints the CPU time this process spent per mention, classifying
alone and during the pipeline burst (all its threads: sweeps, the model, the sender, the local receiver); their
difference is roughly the work around the model (the encoder's threads also spin while they wait, more or less
with the load). With `--classifier tests.distributed.keyword_classifier:load` the pipeline's figure is the work
around the model. A PostgreSQL server's own CPU is not in it. --database postgres needs OVERHEARD_TEST_POSTGRES_URL (scripts/services.sh).
--profile writes cProfile stats of the pipeline rounds to FILE (read with `python -m pstats FILE`); cProfile sees
only the loop's own thread, not the sweeps `sweep_each` runs on its threads: for those, run this script under
py-spy (`py-spy record --gil --threads --format raw -o FILE -- python benchmarks/pipeline_overhead.py …`).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from benchmarks.pipeline_throughput import Setup, mention_lines, wait  # noqa: E402
from listener.mention import Mention  # noqa: E402
from overheard.config import load_config  # noqa: E402
from overheard.pipeline import BackgroundSender, Runtime, classify, deliver_due, sweep_each  # noqa: E402
from overheard.sources import build_collectors  # noqa: E402
from overheard.tasks import load_classifier_from  # noqa: E402


def classify_alone(classifier: object, lines: list[str], batch_size: int) -> tuple[float, float]:
    """mentions/s of classify() over the burst's mentions, and this process's CPU time per mention (ms)."""
    mentions = [Mention.model_validate_json(line) for line in lines]
    started, cpu = time.perf_counter(), time.process_time()
    classify(classifier, mentions, batch_size)  # type: ignore[arg-type]
    return len(mentions) / (time.perf_counter() - started), 1000 * (time.process_time() - cpu) / len(mentions)


def pipeline_burst(
    base_url: str, folder: Path, classifier: object, lines: list[str], profile: cProfile.Profile | None
) -> tuple[float, float]:
    """mentions/s of the in-process burst on a fresh database, from the first append to the last delivery, and the
    CPU time this process spent per mention meanwhile (ms: every thread, the local receiver's too)."""
    setup = Setup(base_url, folder)
    try:
        config = load_config(setup.config)
        runtime = Runtime.build(config, setup.engine, classifier)  # type: ignore[arg-type]
        collectors = build_collectors(config)
        stop = threading.Event()

        def loop() -> None:  # as `overheard run`: pages nudge the background sender, each round ends with a pass
            if profile:
                profile.enable()
            with BackgroundSender(runtime) as sender:  # through the guarded sending client, as `run` sends
                while not stop.is_set():
                    sweep_each(runtime, collectors, lambda _collector, _batch: sender.nudge())
                    deliver_due(runtime)
            if profile:
                profile.disable()

        setup.append(lines)
        started, cpu = time.time(), time.process_time()
        worker = threading.Thread(target=loop, daemon=True)
        worker.start()
        wait(setup.done, 900, "the in-process burst")
        stop.set()
        worker.join()
        cpu_ms = 1000 * (time.process_time() - cpu) / len(lines)
        return setup.figures(started, len(lines)).mentions_per_s, cpu_ms
    finally:
        setup.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--mentions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--classifier", default="overheard.runtime:load_classifier", help="'module:function'")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the pipeline rounds here")
    args = parser.parse_args()
    base_url = "sqlite"
    if args.database == "postgres":
        base_url = os.environ.get("OVERHEARD_TEST_POSTGRES_URL", "")
        if not base_url:
            raise SystemExit("set OVERHEARD_TEST_POSTGRES_URL: eval $(scripts/services.sh start)")
    started = time.perf_counter()
    classifier = load_classifier_from(args.classifier)
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; classifier {args.classifier} "
        f"({getattr(classifier, 'version', '?')}, loaded in {time.perf_counter() - started:.1f}s); "
        f"{args.database}; burst {args.mentions} mentions; {args.rounds} rounds",
        flush=True,
    )
    lines = mention_lines(args.mentions, "b")
    classify_alone(classifier, lines[:64], 32)  # warm-up: first passes pay for allocations
    profile = cProfile.Profile() if args.profile else None
    ratios: list[float] = []
    cpu: list[float] = []
    model_cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="overheard-overhead-") as folder:
        for number in range(args.rounds):
            order = ("classify", "pipeline") if number % 2 == 0 else ("pipeline", "classify")
            rates: dict[str, float] = {}
            for what in order:
                if what == "classify":
                    rates[what], spent = classify_alone(classifier, mention_lines(args.mentions, f"c{number}-"), 32)
                    model_cpu.append(spent)
                else:
                    rounds_lines = mention_lines(args.mentions, f"p{number}-")
                    rates[what], spent = pipeline_burst(
                        base_url, Path(folder) / f"r{number}", classifier, rounds_lines, profile
                    )
                    cpu.append(spent)
            ratios.append(rates["pipeline"] / rates["classify"])
            print(
                f"round {number + 1}: classify {rates['classify']:6.1f} mentions/s, pipeline {rates['pipeline']:6.1f} "
                f"mentions/s, ratio {ratios[-1]:.2f}; CPU {model_cpu[-1]:.2f} and {cpu[-1]:.2f} ms/mention",
                flush=True,
            )
    print(
        f"pipeline / classify alone, same round: median {statistics.median(ratios):.2f}x "
        f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)}); this process's CPU per mention, medians: classify "
        f"{statistics.median(model_cpu):.2f} ms, pipeline {statistics.median(cpu):.2f} ms; load average after "
        f"{os.getloadavg()[0]:.1f}"
    )
    if profile and args.profile:
        profile.dump_stats(str(args.profile))
        print(f"profile of the pipeline rounds: {args.profile}")


if __name__ == "__main__":
    main()
