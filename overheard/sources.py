"""Builds the listener's collectors from the `sources:` section of overheard.yaml.

Each platform module builds its own (`listener.registry` says which builds what): one collector per
(source, query) — or per (source, hashtag/feed/page) — so each has its own cursor and its own health. This
module gives them what the shell owns: one polite `Http` client and one `Finishing` (query tagging,
language detection, spam and near-duplicate signals) shared by all, the queries and the environment.
"""

from __future__ import annotations

from listener.base import BuildContext, Collector, Quota, SourceBase, SourceNotAvailable
from listener.http import DEFAULT_USER_AGENT, HostPacer, Http
from listener.normalise import Finishing
from listener.query import QuerySet
from listener.registry import kind_of
from listener.signals import NearDuplicateIndex
from overheard.config import OverheardConfig, secret

__all__ = ["SourceNotAvailable", "build_collectors", "build_collectors_for", "build_http", "quotas"]


def _queries(source: SourceBase, config: OverheardConfig) -> dict[str, str]:
    every = config.queries()
    return {name: every[name] for name in source.queries} if source.queries else every


def build_collectors_for(
    source: SourceBase, config: OverheardConfig, http: Http, finishing: Finishing
) -> list[Collector]:
    """The collectors of one configured source, from the builder `listener.registry` has for its kind."""
    kind = kind_of(source)
    if kind is None:
        raise SourceNotAvailable(f"source '{source.name}': unknown kind {type(source).__name__}")
    context = BuildContext(
        source=source.name, http=http, finishing=finishing, queries=_queries(source, config), secret=secret
    )
    return kind.build(source, context)


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
