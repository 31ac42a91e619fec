"""Trust features, wired: source health around sweeps, the re-check sweep for platform deletions, and
"why is this on my profile?". The CLI, the API and the scheduler call these functions; the work itself
lives in storage.health, storage.deletions, storage.provenance and listener.recheck.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import Connection, Engine

from classifiers.verdict import Classifier
from listener.http import Http
from listener.recheck import LocalId, PostChecker, PostState, Recheck, sample
from overheard.config import OverheardConfig
from overheard.sources import build_checkers, build_http, refresh_engagement
from storage.database import error_text
from storage.deletions import DeletionReport, apply_deletion, recent_posts
from storage.health import (
    OperatorAlert,
    RateLimit,
    SourceHealth,
    has_open_alert,
    operator_alerts_open,
    raise_operator_alerts,
    record_sweep,
    source_health,
)
from storage.provenance import ProfileExplanation, UnknownFinding, explain_finding

log = logging.getLogger("overheard.trust")

__all__ = [
    "OperatorAlert",
    "ProfileExplanation",
    "RateLimitWatch",
    "RecheckReport",
    "SourceHealth",
    "UnknownFinding",
    "apply_platform_notice",
    "build_checkers",
    "classifier_thresholds",
    "notice_ids",
    "open_alerts",
    "recheck_sweep",
    "record_sweep_outcome",
    "run_recheck",
    "sources_health",
    "why_on_profile",
]

# --- "why is this on my profile?" -----------------------------------------------------------------------


def why_on_profile(connection: Connection, contact_id: str, finding_id: int) -> ProfileExplanation:
    """One finding's full explanation (source, model and thresholds, verdict, link, basis, approver)."""
    return explain_finding(connection, contact_id, finding_id)


def classifier_thresholds(classifier: Classifier) -> dict[str, Any] | None:
    """The classifier's needs_human thresholds as plain values, or None when it has none."""
    thresholds = getattr(classifier, "thresholds", None)
    if thresholds is None:
        return None
    return {
        "sentiment": float(thresholds.sentiment),
        "intent": {str(k): float(v) for k, v in dict(thresholds.intent).items()},
    }


# --- source health --------------------------------------------------------------------------------------

_REMAINING = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")
_LIMIT = ("x-rate-limit-limit", "x-ratelimit-limit", "ratelimit-limit")
_RESET = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _apple_rate_limit(value: str | None) -> RateLimit | None:
    """App Store Connect's one header, 'user-hour-lim:3600;user-hour-rem:3545;' (an hourly allowance per key)."""
    parts = dict(part.strip().partition(":")[::2] for part in (value or "").split(";") if ":" in part)
    remaining, limit = _number(parts.get("user-hour-rem")), _number(parts.get("user-hour-lim"))
    return RateLimit(int(remaining), int(limit) if limit is not None else None, None) if remaining is not None else None


def rate_limit_from_headers(headers: Mapping[str, str], now: datetime) -> RateLimit | None:
    """The rate-limit window a response describes (X, Mastodon, Reddit, Bluesky, App Store Connect spellings), or
    None."""
    if (apple := _apple_rate_limit(headers.get("x-rate-limit"))) is not None:
        return apple
    for remaining_name, limit_name, reset_name in zip(_REMAINING, _LIMIT, _RESET, strict=True):
        remaining = _number(headers.get(remaining_name))
        if remaining is None:
            continue
        limit = _number(headers.get(limit_name))
        reset_value = headers.get(reset_name)
        reset_at: datetime | None = None
        seconds = _number(reset_value)
        if seconds is not None:
            # Epoch seconds (X) or seconds from now (Reddit, RateLimit-Reset); small values are deltas.
            reset_at = (
                datetime.fromtimestamp(seconds, UTC) if seconds > 1_000_000_000 else now + timedelta(seconds=seconds)
            )
        elif reset_value:
            try:
                reset_at = datetime.fromisoformat(reset_value.replace("Z", "+00:00"))  # Mastodon: ISO 8601
            except ValueError:
                reset_at = None
        return RateLimit(int(remaining), int(limit) if limit is not None else None, reset_at)
    return None


class RateLimitWatch:
    """Remembers the rate-limit headers of the responses an `Http` client receives (a requests response
    hook, so `Http` itself is unchanged). `during()` gives the headroom left after one sweep.

    Sources share one client and are swept side by side (`pipeline.sweep_each`), each on its own thread, and a
    response hook runs on the thread that sent the request: so what a sweep sees is kept per thread, and two
    sweeps at once never reset or take each other's headroom."""

    def __init__(self, http: Http) -> None:
        self._local = threading.local()
        http.session.hooks.setdefault("response", []).append(self._seen)

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if getattr(self._local, "recording", False):
            found = rate_limit_from_headers(response.headers, datetime.now(UTC))
            latest: RateLimit | None = self._local.latest
            if found is not None and (latest is None or (found.remaining or 0) <= (latest.remaining or 0)):
                self._local.latest = found  # the tightest window seen during the sweep
        return response

    @contextmanager
    def during(self) -> Iterator[list[RateLimit | None]]:
        """Collect headroom while the block runs on this thread; the one-item list holds it afterwards."""
        result: list[RateLimit | None] = [None]
        self._local.latest, self._local.recording = None, True
        try:
            yield result
        finally:
            result[0], self._local.recording = self._local.latest, False


# One watch per client, forgotten with the client (a weak key, so a new client never inherits an old watch).
_WATCHES: weakref.WeakKeyDictionary[Http, RateLimitWatch] = weakref.WeakKeyDictionary()
_WATCHES_LOCK = threading.Lock()


def watch_for(collector: object) -> RateLimitWatch | None:
    """The rate-limit watch on the collector's `Http` client (installed once per client)."""
    http = getattr(collector, "http", None)
    if not isinstance(http, Http):
        return None
    with _WATCHES_LOCK:
        if http not in _WATCHES:
            _WATCHES[http] = RateLimitWatch(http)
        return _WATCHES[http]


def record_sweep_outcome(
    engine: Engine,
    name: str,
    *,
    started_at: datetime,
    finished_at: datetime,
    items: int,
    error: BaseException | None = None,
    rate_limit: RateLimit | None = None,
) -> list[OperatorAlert]:
    """Keep one sweep's outcome and alert the operator when a source stopped while others go on.

    Never raises for a health problem: a health write that fails is logged, and the run goes on.
    """
    reason = None if error is None else (getattr(error, "reason", None) or error_text(error) or type(error).__name__)
    try:
        with engine.begin() as connection:
            record_sweep(
                connection,
                name,
                started_at=started_at,
                finished_at=finished_at,
                items=items,
                error=reason,
                rate_limit=rate_limit,
            )
            if not _alerts_due(str(engine.url), connection, name, reason, finished_at):
                return []
            raised = raise_operator_alerts(connection, finished_at)
            _ALERTS_CHECKED[str(engine.url)] = (time.monotonic(), finished_at)
            return raised
    except Exception as exc:  # health must never stop collection
        log.exception("health.not_recorded", extra={"source": name, "error": str(exc)})
        return []


ALERTS_EVERY_S = 30.0
"""After a successful sweep, every source's alerts are looked at again only this long after the last look (by the
wall clock or the sweeps' own clock, whichever moved further). Looking means the health of every source, about ten
queries, and ran after each sweep: 3/4 of an empty sweep's time on PostgreSQL, so on a worker polling four sources
twice a second it took most of the process. A failed sweep, or one of a source with an open alert (so its recovery
resolves the alert at once), always looks; a source that stopped is called stopped at most this late (the silence
window is hours)."""
_ALERTS_CHECKED: dict[str, tuple[float, datetime]] = {}
"""Per database URL: when this process last looked at every source's alerts (monotonic seconds, sweep time)."""


def _alerts_due(database: str, connection: Connection, name: str, error: str | None, finished_at: datetime) -> bool:
    if error is not None:
        return True
    last = _ALERTS_CHECKED.get(database)
    if (
        last is None
        or time.monotonic() - last[0] >= ALERTS_EVERY_S
        or abs((finished_at - last[1]).total_seconds()) >= ALERTS_EVERY_S
    ):
        return True
    return has_open_alert(connection, name)


def sources_health(engine: Engine, names: list[str] | None = None, now: datetime | None = None) -> list[SourceHealth]:
    """Every collector's health (API: GET /sources; CLI: `overheard sources`)."""
    with engine.connect() as connection:
        return source_health(connection, now, names=names)


def open_alerts(engine: Engine) -> list[OperatorAlert]:
    """Operator alerts not yet resolved (API/web: the operator's banner)."""
    with engine.connect() as connection:
        return operator_alerts_open(connection)


# --- platform deletions: the re-check sweep -------------------------------------------------------------


@dataclass
class RecheckReport:
    """What one re-check did: posts asked about, their states, and the deletions applied."""

    checked: int = 0
    states: dict[str, int] = field(default_factory=dict)  # PostState → posts
    deletions: list[DeletionReport] = field(default_factory=list)
    not_checkable: dict[str, int] = field(default_factory=dict)  # platform without a checker → posts skipped
    engagement_refreshed: int = 0  # young mentions whose counts were looked up again (overheard.sources)


def _ask(checkers: list[PostChecker], external_id: str, url: str | None, local: LocalId | None) -> Recheck:
    answer: Recheck | None = None
    for checker in checkers:  # e.g. several Mastodon instances: the first that can tell decides
        answer = checker.check(external_id, url, local)
        if answer.state is not PostState.unknown:
            return answer
    assert answer is not None
    return answer


def recheck_sweep(
    engine: Engine,
    checkers: Mapping[str, list[PostChecker]],
    *,
    now: datetime | None = None,
    window: timedelta = timedelta(days=7),
    per_source: int = 20,
    rng: random.Random | None = None,
    actor: str = "recheck",
) -> RecheckReport:
    """Re-check a sample of recent mentions per source; apply each deletion the platform shows.

    Each deletion is its own transaction, so one failure loses none of the others. The scheduler runs
    this every few hours; `overheard recheck` runs it once.
    """
    now = now or datetime.now(UTC)
    with engine.connect() as connection:
        pool = recent_posts(connection, now - window)
    report = RecheckReport()
    checkable = {source: posts for source, posts in pool.items() if source in checkers}
    report.not_checkable = {source: len(posts) for source, posts in pool.items() if source not in checkers}
    for post in sample(checkable, per_source, rng):
        local = LocalId(post.server or "", post.local_id) if post.local_id else None
        answer = _ask(list(checkers[post.source]), post.external_id, post.url, local)
        report.checked += 1
        report.states[answer.state.value] = report.states.get(answer.state.value, 0) + 1
        if answer.gone:
            with engine.begin() as connection:
                report.deletions.append(
                    apply_deletion(connection, post.source, post.external_id, answer.reason, actor=actor, at=now)
                )
    log.info("recheck.done", extra={"checked": report.checked, "deleted": len(report.deletions)})
    return report


def run_recheck(
    config: OverheardConfig,
    engine: Engine,
    *,
    http: Http | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> RecheckReport:
    """One scheduled re-check as overheard.yaml `recheck:` sets it (CLI `overheard recheck`, the Celery
    task `overheard.recheck`, and `overheard run` between sweeps all call this)."""
    http = http or build_http(config)
    checkers = build_checkers(config, http)
    report = recheck_sweep(
        engine,
        checkers,
        now=now,
        window=timedelta(days=config.recheck.window_days),
        per_source=config.recheck.per_source,
        rng=rng,
    )
    report.engagement_refreshed = refresh_engagement(config, engine, http=http, now=now)
    return report


def notice_ids(text: str) -> list[str]:
    """The post ids a platform's delete or compliance notice names: one id per line, or JSON lines with an
    'id' (X compliance job results: {"id": ..., "action": "delete", ...}). Other actions are left out."""
    ids: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            ids.append(line)
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
            raise ValueError(f"line {number}: a notice line needs an 'id'")
        if str(item.get("action", "delete")).lower() in ("delete", "deleted", "scrub_geo", "suspend", "protect"):
            ids.append(str(item["id"]))
    return ids


def apply_platform_notice(
    engine: Engine, source: str, external_ids: list[str], reason: str, *, actor: str
) -> list[DeletionReport]:
    """A platform's delete or compliance notice (e.g. X compliance jobs): apply every deletion it names."""
    with engine.begin() as connection:
        return [apply_deletion(connection, source, external_id, reason, actor=actor) for external_id in external_ids]
