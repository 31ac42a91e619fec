"""Builds the listener's collectors from the `sources:` section of overheard.yaml.

One collector per (source, query) — or per (source, hashtag/feed/page) — so each has its own cursor
and its own health. All of them share one polite `Http` client and one `Finishing` (query tagging,
language detection, spam and near-duplicate signals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypedDict

from listener.base import Collector, Page
from listener.bluesky import BlueskyCollector
from listener.hackernews import HackerNewsCollector
from listener.http import DEFAULT_USER_AGENT, HostPacer, Http
from listener.mastodon import MastodonCollector
from listener.normalise import Finishing
from listener.query import QuerySet, parse, to_plain_search
from listener.reddit import RedditCollector
from listener.replay import ReplayCollector
from listener.reviews import ReviewCollector
from listener.rss import FeedCollector
from listener.signals import NearDuplicateIndex
from listener.x import XCollector, XFilteredStream
from overheard.config import (
    BlueskySource,
    HackerNewsSource,
    MastodonSource,
    OverheardConfig,
    RedditSource,
    ReplaySource,
    ReviewSource,
    RssSource,
    SourceBase,
    XSource,
    secret,
)


class SourceNotAvailable(RuntimeError):
    """A configured source cannot run (named, with what to do)."""


class _BaseUrl(TypedDict, total=False):
    """A collector's `base_url` when the source sets one; left out, the collector's own default holds."""

    base_url: str


def _queries(source: SourceBase, config: OverheardConfig) -> dict[str, str]:
    every = config.queries()
    return {name: every[name] for name in source.queries} if source.queries else every


def _plain(query_text: str) -> str:
    """A platform search string for a boolean query: its positive terms, OR-ed by the platform's own rules."""
    return " OR ".join(to_plain_search(parse(query_text)))


def _token(variable: str | None, source: SourceBase, *, required: bool = False) -> str | None:
    value = secret(variable)
    if required and not value:
        raise SourceNotAvailable(f"source '{source.name}': set the environment variable {variable} (its API token)")
    return value


class StreamWithRules:
    """The X filtered stream as a collector whose sweep first makes the stream's rules equal to our queries.

    Rules are synced on the first sweep of the process and again after a failed sweep, so an edited
    overheard.yaml takes effect on restart and a rejected rule update is retried.
    """

    def __init__(self, stream: XFilteredStream) -> None:
        self.stream = stream
        self.name = stream.name
        self._synced = False

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        if not self._synced:
            self.stream.sync_rules()
            self._synced = True
        try:
            yield from self.stream.sweep(cursor)
        except Exception:
            self._synced = False
            raise


def build_collectors_for(
    source: SourceBase, config: OverheardConfig, http: Http, finishing: Finishing
) -> list[Collector]:
    queries = _queries(source, config)
    named: Callable[[str], str] = lambda part: f"{source.name}:{part}"  # noqa: E731
    if isinstance(source, ReplaySource):
        if not source.path.exists():
            raise SourceNotAvailable(f"source '{source.name}': replay file {source.path} does not exist")
        return [ReplayCollector(source.path, name=f"replay:{source.name}")]
    if isinstance(source, XSource):
        token = _token(source.bearer_token_env, source, required=True)
        extra: _BaseUrl = {"base_url": source.base_url} if source.base_url else {}
        # The stream has no cursor (backfill is a paid tier): recent search after it covers what it missed.
        stream: list[Collector] = (
            [
                StreamWithRules(
                    XFilteredStream(
                        http,
                        name=named("stream"),
                        queries=queries,
                        bearer_token=token,
                        listen_s=source.stream_listen_s,
                        finishing=finishing,
                        **extra,
                    )
                )
            ]
            if source.stream
            else []
        )
        return stream + [
            XCollector(
                http,
                name=named(q),
                query=text,
                bearer_token=token,
                language=source.language,
                finishing=finishing,
                **extra,
            )
            for q, text in queries.items()
        ]
    if isinstance(source, MastodonSource):
        token = _token(source.access_token_env, source)
        if source.hashtags:
            return [
                MastodonCollector(
                    http,
                    name=named(f"#{tag}"),
                    base_url=source.instance,
                    hashtag=tag,
                    access_token=token,
                    finishing=finishing,
                )
                for tag in source.hashtags
            ]
        return [
            MastodonCollector(
                http,
                name=named(q),
                base_url=source.instance,
                search=_plain(text),
                access_token=token,
                finishing=finishing,
            )
            for q, text in queries.items()
        ]
    if isinstance(source, RedditSource):
        token = _token(source.access_token_env, source)
        extra = {"base_url": source.base_url} if source.base_url else {}
        return [
            RedditCollector(
                http,
                name=named(f"{q}@{sub or 'all'}"),
                query=text,
                subreddit=sub,
                access_token=token,
                finishing=finishing,
                **extra,
            )
            for q, text in queries.items()
            for sub in (source.subreddits or (None,))
        ]
    if isinstance(source, BlueskySource):
        token = _token(source.access_token_env, source)
        return [
            BlueskyCollector(
                http,
                name=named(q),
                search=_plain(text),
                base_url=source.service,
                access_token=token,
                language=source.language,
                finishing=finishing,
            )
            for q, text in queries.items()
        ]
    if isinstance(source, HackerNewsSource):
        extra = {"base_url": source.base_url} if source.base_url else {}
        return [
            HackerNewsCollector(http, name=named(q), search=_plain(text), finishing=finishing, **extra)
            for q, text in queries.items()
        ]
    if isinstance(source, RssSource):
        return [FeedCollector(http, name=named(url), url=url, finishing=finishing) for url in source.feeds]
    if isinstance(source, ReviewSource):
        return [
            ReviewCollector(http, name=named(url), url=url, max_pages=source.max_pages, finishing=finishing)
            for url in source.pages
        ]
    raise SourceNotAvailable(f"source '{source.name}': unknown kind {type(source).__name__}")


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
