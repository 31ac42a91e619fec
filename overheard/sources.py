"""Builds the listener's collectors from the `sources:` section of overheard.yaml.

Each platform module builds its own (`listener.registry` says which builds what): one collector per
(source, query) — or per (source, hashtag/feed/page) — so each has its own cursor and its own health. This
module gives them what the shell owns: one polite `Http` client and one `Finishing` (query tagging,
language detection, spam and near-duplicate signals) shared by all, the queries and the environment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from listener.base import BuildContext, Collector, Quota, SourceBase, SourceNotAvailable
from listener.engagement import EngagementLookup
from listener.http import DEFAULT_USER_AGENT, HostPacer, Http
from listener.normalise import Finishing
from listener.query import QuerySet
from listener.recheck import PostChecker
from listener.registry import SourceKind, kind_of
from listener.signals import NearDuplicateIndex
from overheard.config import OverheardConfig, secret
from storage.engagement import refresh_counts, young_posts

__all__ = [
    "SourceNotAvailable",
    "build_checkers",
    "build_collectors",
    "build_collectors_for",
    "build_http",
    "engagement_lookups",
    "quotas",
    "refresh_engagement",
]

ENGAGEMENT_DAYS = 3
"""Posts gather most of their likes, reposts and replies in their first days: their counts are refreshed that long."""


def _queries(source: SourceBase, config: OverheardConfig) -> dict[str, str]:
    every = config.queries()
    return {name: every[name] for name in source.queries} if source.queries else every


def _kind(source: SourceBase) -> SourceKind[Any]:
    kind = kind_of(source)
    if kind is None:
        raise SourceNotAvailable(f"source '{source.name}': unknown kind {type(source).__name__}")
    return kind


def _context(
    source: SourceBase, config: OverheardConfig, http: Http, finishing: Finishing | None = None
) -> BuildContext:
    return BuildContext(
        source=source.name,
        http=http,
        finishing=finishing or Finishing(),
        queries=_queries(source, config),
        secret=secret,
    )


def build_collectors_for(
    source: SourceBase, config: OverheardConfig, http: Http, finishing: Finishing
) -> list[Collector]:
    """The collectors of one configured source, from the builder `listener.registry` has for its kind."""
    return _kind(source).build(source, _context(source, config, http, finishing))


def build_http(config: OverheardConfig, pacer: HostPacer | None = None) -> Http:
    """The HTTP client of this process; workers pass a pacer shared by the fleet (`overheard.pacing`)."""
    return Http(
        user_agent=config.http.user_agent or DEFAULT_USER_AGENT,
        allow_networks=config.http.allow_networks,
        min_interval_s=config.http.min_interval_s,
        pacer=pacer,
    )


def build_collectors(config: OverheardConfig, only: str | None = None, http: Http | None = None) -> list[Collector]:
    chosen = [s for s in config.sources if s.enabled and (only is None or s.name == only)]
    if only is not None and not chosen:
        names = ", ".join(s.name for s in config.sources) or "none configured"
        raise SourceNotAvailable(f"no enabled source named '{only}' (sources: {names})")
    http = http or build_http(config)
    finishing = Finishing(queries=QuerySet(config.queries()), duplicates=NearDuplicateIndex())
    collectors: list[Collector] = []
    for source in chosen:
        try:
            collectors += build_collectors_for(source, config, http, finishing)
        except ValueError as exc:  # a collector refused its settings; name the source
            raise SourceNotAvailable(f"source '{source.name}': {exc}") from None
    return collectors


def quotas(config: OverheardConfig, http: Http | None = None) -> list[Quota]:
    """What each enabled source that is billed or capped has used, its cap and its projected use (one per source:
    its collectors share the account). Collectors that meter nothing, or cannot be built, are left out."""
    http = http or build_http(config)
    found: dict[str, Quota] = {}
    for source in config.sources:
        if not source.enabled:
            continue
        try:
            collectors = build_collectors(config, only=source.name, http=http)
        except SourceNotAvailable:
            continue
        for collector in collectors:
            meter = getattr(collector, "quota", None)
            quota = meter() if callable(meter) and source.name not in found else None
            if isinstance(quota, Quota):
                found[source.name] = quota
    return list(found.values())


def build_checkers(config: OverheardConfig, http: Http) -> dict[str, list[PostChecker]]:
    """Per platform, the deletion re-checks of the enabled sources whose kind registers one (`listener.registry`:
    platforms whose APIs look a post up by id) and that have what it needs."""
    checkers: dict[str, list[PostChecker]] = {}
    for source in config.sources:
        make = _kind(source).checker if source.enabled else None
        checker = make(source, _context(source, config, http)) if make is not None else None
        if checker is not None:
            checkers.setdefault(checker.source, []).append(checker)
    return checkers


def engagement_lookups(config: OverheardConfig, http: Http) -> list[EngagementLookup]:
    """The batch lookups of counts for the enabled sources whose kind registers one (platforms that read many
    posts by id at once; X only with `refresh_engagement: true`: every post looked up there is a billed read)."""
    lookups: dict[str, EngagementLookup] = {}
    for source in config.sources:
        make = _kind(source).engagement if source.enabled else None
        lookup = make(source, _context(source, config, http)) if make is not None else None
        if lookup is not None:
            lookups.setdefault(lookup.source, lookup)
    return list(lookups.values())


def refresh_engagement(
    config: OverheardConfig,
    engine: Engine,
    *,
    http: Http | None = None,
    now: datetime | None = None,
    days: int = ENGAGEMENT_DAYS,
) -> int:
    """Look up again the counts of every mention younger than `days` on platforms that read posts in batches,
    and store them; returns the mentions refreshed. Runs with each scheduled re-check (`overheard.trust`)."""
    now = now or datetime.now(UTC)
    lookups = {lookup.source: lookup for lookup in engagement_lookups(config, http or build_http(config))}
    if not lookups:
        return 0
    with engine.connect() as connection:
        young = young_posts(connection, now - timedelta(days=days), set(lookups))
    refreshed = 0
    for platform, ids in young.items():
        counts = lookups[platform].lookup(ids)
        with engine.begin() as connection:
            refreshed += refresh_counts(connection, platform, counts, now)
    return refreshed
