"""Builds the listener's collectors from the `sources:` section of overheard.yaml."""

from __future__ import annotations

from listener.base import Collector
from listener.replay import ReplayCollector
from overheard.config import OverheardConfig, ReplaySource, SourceBase


class SourceNotAvailable(RuntimeError):
    """A configured source cannot run in this build (named, with what to do)."""


def build_collector(source: SourceBase, config: OverheardConfig) -> Collector:
    if isinstance(source, ReplaySource):
        if not source.path.exists():
            raise SourceNotAvailable(f"source '{source.name}': replay file {source.path} does not exist")
        return ReplayCollector(source.path, name=f"replay:{source.name}")
    kind = getattr(source, "kind", type(source).__name__)
    raise SourceNotAvailable(
        f"source '{source.name}': the {kind} collector is not wired into the shell yet (issue #3); "
        "disable it with `enabled: false` or use a replay source"
    )


def build_collectors(config: OverheardConfig, only: str | None = None) -> list[Collector]:
    chosen = [s for s in config.sources if s.enabled and (only is None or s.name == only)]
    if only is not None and not chosen:
        names = ", ".join(s.name for s in config.sources) or "none configured"
        raise SourceNotAvailable(f"no enabled source named '{only}' (sources: {names})")
    return [build_collector(s, config) for s in chosen]
