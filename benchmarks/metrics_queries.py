"""How fast are the dashboard's metric queries over 100k and 1M stored mentions, on SQLite and PostgreSQL?

    .venv/bin/python benchmarks/metrics_queries.py                      # 100k and 1M on SQLite (+ PostgreSQL
    .venv/bin/python benchmarks/metrics_queries.py --sizes 100000       #  when OVERHEARD_TEST_POSTGRES_URL is set)
    .venv/bin/python benchmarks/metrics_queries.py --postgres postgresql+psycopg://…  --no-sqlite
    .venv/bin/python benchmarks/metrics_queries.py --authors concentrated  # the older, flattering authors

Synthetic mentions (a fixed seed) spread over 365 days on 7 platforms, of which x, mastodon and bluesky report
follower counts; an author posts on one platform. Authors (--authors):

- long-tail (the default): a Yule-Simon process. Each mention is by a new author with probability 0.5, else by
  the author of an earlier mention picked uniformly, so an author with k posts gets the next one with probability
  proportional to k: post counts follow a power law (P(k) ~ k^-3), a head of accounts with hundreds of posts and
  a tail where most authors post once. About half the mentions bring a new author: 49,856 distinct authors at
  100k mentions, 499,310 at 1M (67% of them with a single post; the busiest has 478 and 1,472 posts). The
  sequence is shuffled before it is laid on the time line, so a prolific author posts all year. Each author
  keeps one follower count (lognormal(5, 2), drawn at their first post) that grows by up to 5% over the year,
  so the largest count of a period is the latest one;
- concentrated: the generator before long-tail, kept to compare figures with older runs (same seed, same
  databases): int(paretovariate(1.2)) % max(1000, mentions / 5), so nearly every mention comes from the same
  few hundred handles (346 distinct authors at 100k, 973 at 1M), with a follower count drawn anew for every mention.

The distinct-author count is printed with each database's figures. Each query runs against the windows a
dashboard shows (the last 7 and 30 days) and the whole year, and prints the median of 3 runs in milliseconds. The target is < 300 ms
for the 7- and 30-day windows. The generated databases are kept under var/bench/ to re-run quickly
(--rebuild makes them again); the time to roll them up (storage.metrics.refresh_rollups, which the pipeline
runs after each batch) and to extract the campaign tags (storage.tags.refresh_mention_tags, which save_mentions
runs) is printed after the insert. PostgreSQL runs with whatever settings its server has;
they are printed with its figures. This is a script that prints figures, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, case, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import metrics, tags
from storage.database import create_db_engine, open_database
from storage.schema import mentions, verdicts

END = datetime(2026, 11, 23, tzinfo=UTC)
DAYS = 365
SOURCES = ("x", "x", "x", "mastodon", "reddit", "reddit", "bluesky", "hackernews", "rss", "review")
QUERIES = (
    ["brand:Lumora"],
    ["brand:Lumora"],
    ["brand:Lumora", "product:Lumora Hub"],
    ["brand:Lumora", "product:Lumora Glow"],
    ["brand:Lumora", "competitor:Brightwave"],
    ["competitor:Brightwave"],
    ["competitor:Nimbus Home"],
    [],
)
WORDS = [
    "hub",
    "offline",
    "update",
    "bulbs",
    "glow",
    "app",
    "support",
    "refund",
    "setup",
    "router",
    "firmware",
    "bright",
    "warm",
    "colour",
    "scene",
    "schedule",
    "motion",
    "sensor",
    "battery",
    "wifi",
    "pairing",
    "outage",
    "fixed",
    "great",
    "love",
    "terrible",
    "slow",
    "fast",
    "price",
    "deal",
]
SENTIMENTS = ("positive", "neutral", "negative")


AUTHOR_MODELS = ("long-tail", "concentrated")
NEW_AUTHOR_SHARE = 0.5
"""long-tail: the chance that a mention is by an author not seen before (the Yule-Simon process's p)."""
FOLLOWER_GROWTH = 0.05
"""long-tail: how much an author's follower count grows over the year."""


LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pt", "fi", "sv")
LANGUAGE_SHARES = (60, 10, 7, 7, 5, 4, 3, 2, 2)
"""Each mention's language (ISO 639-1), drawn with these weights: the language filter's figures read raw rows."""


def _long_tail_authors(count: int, rng: random.Random) -> list[int]:
    """Author numbers of `count` mentions from a Yule-Simon process, in random order (numbered by first post)."""
    chosen: list[int] = []
    authors = 0
    for i in range(count):
        if not chosen or rng.random() < NEW_AUTHOR_SHARE:
            chosen.append(authors)
            authors += 1
        else:
            chosen.append(chosen[rng.randrange(i)])
    rng.shuffle(chosen)
    return chosen


def _rows(count: int, model: str = "long-tail", seed: int = 8) -> Iterator[tuple[dict[str, Any], str]]:
    rng = random.Random(seed)
    authors = max(1000, count // 5)
    span = DAYS * 86400
    # Mentions are stored roughly in the order they were published, as collectors store them.
    offsets = sorted((rng.random() * span for _ in range(count)), reverse=True)
    # Separate generators, so that the concentrated model draws exactly what it always drew.
    tail = random.Random(seed + 1)
    spoken = random.Random(seed + 2)  # languages have their own generator too: the figures before them hold
    sequence = _long_tail_authors(count, tail) if model == "long-tail" else []
    followers_of: dict[int, int] = {}
    for i, offset in enumerate(offsets):
        author = sequence[i] if model == "long-tail" else int(rng.paretovariate(1.2)) % authors
        source = SOURCES[author % len(SOURCES)]
        created = END - timedelta(seconds=offset)
        words = rng.sample(WORDS, 6)
        if rng.random() < 0.05:
            words.append(rng.choice(("#lumora", "#smarthome", "#glowup")))
        has_reach = source in ("x", "mastodon", "bluesky")
        followers = None
        if has_reach and model == "long-tail":
            base = followers_of.setdefault(author, int(tail.lognormvariate(5, 2)))
            followers = int(base * (1 + FOLLOWER_GROWTH * (1 - offset / span)))
        elif has_reach:
            followers = int(rng.lognormvariate(5, 2))
        yield (
            {
                "source": source,
                "external_id": f"bench-{i}",
                "url": f"https://reviews{author % 3}.example/p/{i}" if source == "review" else None,
                "author_handle": f"author{author}",
                "author_followers": followers,
                "text": "Lumora " + " ".join(words),
                "language": spoken.choices(LANGUAGES, LANGUAGE_SHARES)[0],
                "created_at": created,
                "collected_at": created + timedelta(minutes=10),
                "likes": rng.randint(0, 50),
                "reposts": rng.randint(0, 10) if has_reach else None,
                "replies": rng.randint(0, 5),
                "quotes": rng.randint(0, 3) if source == "x" else None,
                "impressions": rng.randint(100, 50_000) if source == "x" else None,
                "rating": float(rng.randint(1, 5)) if source == "review" else None,
                "matched_queries": rng.choice(QUERIES),
                "signals": [],
                "raw_hash": "",
                "status": "new",
            },
            rng.choice(SENTIMENTS),
        )


def populate(engine: Engine, count: int, model: str) -> None:
    batch: list[dict[str, Any]] = []
    feelings: list[str] = []
    started = time.perf_counter()
    now = datetime.now(UTC)

    def flush(connection: Connection) -> None:
        first = connection.execute(select(func.coalesce(func.max(mentions.c.id), 0))).scalar_one()
        connection.execute(insert(mentions), batch)
        connection.execute(
            insert(verdicts),
            [
                {
                    "mention_id": first + n + 1,
                    "sentiment": feeling,
                    "sentiment_confidence": 0.9,
                    "intent": "other",
                    "intent_confidence": 0.9,
                    "needs_human": False,
                    "reasons": [],
                    "model_version": "bench",
                    "classified_at": now,
                }
                for n, feeling in enumerate(feelings)
            ],
        )
        batch.clear()
        feelings.clear()

    with engine.begin() as connection:
        for row, feeling in _rows(count, model):
            batch.append(row)
            feelings.append(feeling)
            if len(batch) == 20_000:
                flush(connection)
        if batch:
            flush(connection)
    print(f"  stored {count:,} mentions in {time.perf_counter() - started:.0f} s", flush=True)
    # The pipeline refreshes the rollups after each batch (save_verdicts); a bulk insert does it once here.
    started = time.perf_counter()
    with engine.begin() as connection:
        slots = metrics.refresh_rollups(connection, wait=True)
    print(f"  rolled up {slots:,} logged slots in {time.perf_counter() - started:.1f} s", flush=True)
    # save_mentions extracts the hashtags and campaign values of what it stored; here, once for the whole load.
    started = time.perf_counter()
    with engine.begin() as connection:
        tagged = tags.refresh_mention_tags(connection, wait=True)
    print(f"  extracted the tags of {tagged:,} mentions in {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def _stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(mentions)).scalar_one()


def _distinct_authors(engine: Engine) -> str:
    """'499,310 distinct authors, 67% of them with one mention' for the stored mentions."""
    with engine.connect() as connection:
        per_author = (
            select(func.count().label("n"))
            .select_from(mentions)
            .group_by(mentions.c.source, mentions.c.author_handle)
            .subquery()
        )
        authors, single = connection.execute(
            select(func.count(), func.sum(case((per_author.c.n == 1, 1), else_=0)))
        ).one()
    return f"{authors:,} distinct authors, {single / authors:.0%} of them with one mention"


def queries(start: datetime, end: datetime) -> dict[str, Callable[[Connection], Any]]:
    return {
        "kpis (with previous period)": lambda c: metrics.kpis(c, start, end),
        "kpis, brand": lambda c: metrics.kpis(c, start, end, "Lumora"),
        "volume by day, Europe/Berlin": lambda c: metrics.volume_series(c, start, end, "day", "Europe/Berlin"),
        "volume by hour": lambda c: metrics.volume_series(c, start, end, "hour", "UTC"),
        "sentiment by day": lambda c: metrics.sentiment_series(c, start, end, "day", "UTC"),
        "share of voice": lambda c: metrics.share_of_voice(c, start, end),
        "top authors": lambda c: metrics.top_authors(c, start, end),
        "top sources": lambda c: metrics.top_sources(c, start, end),
        "top terms and hashtags": lambda c: metrics.top_terms_and_hashtags(c, start, end),
        "campaign #lumora": lambda c: metrics.campaign(c, start, end, hashtag="lumora"),
        "review ratings": lambda c: metrics.review_ratings(c, start, end),
        "kpis, language de": lambda c: metrics.kpis(c, start, end, language="de"),
        "volume by day, language de": lambda c: metrics.volume_series(c, start, end, "day", "UTC", language="de"),
        "share of voice, language de": lambda c: metrics.share_of_voice(c, start, end, language="de"),
        "top terms, language de": lambda c: metrics.top_terms_and_hashtags(c, start, end, language="de"),
    }


DASHBOARD = ("kpis (with previous period)", "volume by day, Europe/Berlin", "sentiment by day", "share of voice",
             "top sources", "top authors")  # fmt: skip
"""The queries the dashboard page makes for one view (overheard/web/pages.py)."""


def measure(engine: Engine, label: str, until: datetime = END) -> dict[str, dict[str, float]]:
    """Median wall time of 3 runs per query (1 run for the year), and this process's CPU time (SQLite runs here).

    Periods end at `until`: midnight (END) reads whole days from the rollups; a dashboard's "until now" also
    reads the day so far from the raw rows."""
    windows = {"7 days": timedelta(days=7), "30 days": timedelta(days=30), "365 days": timedelta(days=365)}
    figures: dict[str, dict[str, float]] = {}
    print(f"\n{label}: wall ms, median of 3 runs (the year: 1 run); cpu ms of this process in brackets")
    print(f"  {'query':<32}" + "".join(f"{w:>18}" for w in windows), flush=True)
    with engine.connect() as connection:
        names = list(queries(END, END + timedelta(days=1)))
        for name in [*names, "dashboard page (6 queries)"]:
            cells = []
            for window, length in windows.items():
                chosen = DASHBOARD if name.startswith("dashboard") else (name,)
                runs = queries(until - length, until)
                walls, cpus = [], []
                for _ in range(1 if window == "365 days" else 3):
                    wall, cpu = time.perf_counter(), time.process_time()
                    for one in chosen:
                        runs[one](connection)
                    walls.append((time.perf_counter() - wall) * 1000)
                    cpus.append((time.process_time() - cpu) * 1000)
                figures.setdefault(name, {})[window] = statistics.median(walls)
                cells.append(f"{statistics.median(walls):>9.0f} [{statistics.median(cpus):>5.0f}]")
            over = not name.startswith("dashboard") and max(figures[name]["7 days"], figures[name]["30 days"]) >= 300
            print(f"  {name:<32}" + "".join(f"{c:>18}" for c in cells) + ("  over 300 ms" if over else ""), flush=True)
    return figures


def sqlite_engine(count: int, model: str, rebuild: bool) -> Engine:
    path = Path("var/bench") / f"metrics-{count}-{model}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    if rebuild and path.exists():
        path.unlink()
    engine = open_database(f"sqlite:///{path}")
    if _stored(engine) != count:
        engine.dispose()
        path.unlink()
        engine = open_database(f"sqlite:///{path}")
        populate(engine, count, model)
    return engine


def postgres_engine(base: str, count: int, model: str, rebuild: bool) -> Engine:
    schema = f"bench_metrics_{count}_{model.replace('-', '_')}"
    admin = create_db_engine(base)
    with admin.begin() as connection:
        if rebuild:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    engine = open_database(f"{base}{sep}options=-csearch_path%3D{schema}")
    if _stored(engine) != count:
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE mentions CASCADE"))
        populate(engine, count, model)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", default=os.environ.get("OVERHEARD_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--authors", choices=AUTHOR_MODELS, default="long-tail", help="How authors are drawn.")
    parser.add_argument("--rebuild", action="store_true", help="Generate the databases again.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument(
        "--until",
        type=datetime.fromisoformat,
        default=END,
        help=f"End of every period, ISO with offset (default {END.isoformat()}, midnight); e.g. 2026-11-22T14:37:00+00:00 "
        "for a dashboard looking at 'until now' mid-afternoon.",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for count in args.sizes:
        if not args.no_sqlite:
            print(f"SQLite, {count:,} mentions, {args.authors} authors", flush=True)
            engine = sqlite_engine(count, args.authors, args.rebuild)
            label = f"SQLite, {count:,} mentions, {args.authors} authors ({_distinct_authors(engine)})"
            results[f"sqlite-{count}-{args.authors}"] = measure(engine, label, args.until)
            engine.dispose()
        if args.postgres:
            print(f"PostgreSQL, {count:,} mentions, {args.authors} authors", flush=True)
            engine = postgres_engine(args.postgres, count, args.authors, args.rebuild)
            with engine.connect() as connection:
                settings = ", ".join(
                    f"{name}={connection.execute(text(f'SHOW {name}')).scalar_one()}"
                    for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost")
                )
            label = f"PostgreSQL, {count:,} mentions, {args.authors} authors ({_distinct_authors(engine)}; {settings})"
            results[f"postgresql-{count}-{args.authors}"] = measure(engine, label, args.until)
            engine.dispose()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
