"""Every kind of source overheard.yaml can name, each with its config model and its builder, in one table.

Adding a source is its module (a collector, a `SourceBase` subclass with `kind: Literal["<kind>"]`, and
`build(source_config, ctx) -> list[Collector]`) plus one line here. The shell builds the `sources:` schema
from this table and looks up the builder in it; nothing else names the kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from listener import bluesky, googleplay, hackernews, mastodon, reddit, replay, reviews, rss, x, youtube
from listener.base import BuildContext, Collector, SourceBase

S = TypeVar("S", bound=SourceBase)


@dataclass(frozen=True)
class SourceKind(Generic[S]):
    """One kind of source: the model its entry in overheard.yaml is validated by, and what builds its collectors."""

    config: type[S]
    build: Callable[[S, BuildContext], list[Collector]]


# The order is the order a config error lists the kinds in.
SOURCES: dict[str, SourceKind[Any]] = {
    "replay": SourceKind(replay.ReplaySource, replay.build),
    "x": SourceKind(x.XSource, x.build),
    "mastodon": SourceKind(mastodon.MastodonSource, mastodon.build),
    "reddit": SourceKind(reddit.RedditSource, reddit.build),
    "bluesky": SourceKind(bluesky.BlueskySource, bluesky.build),
    "hackernews": SourceKind(hackernews.HackerNewsSource, hackernews.build),
    "rss": SourceKind(rss.RssSource, rss.build),
    "review": SourceKind(reviews.ReviewSource, reviews.build),
    "youtube": SourceKind(youtube.YouTubeSource, youtube.build),
    "googleplay": SourceKind(googleplay.GooglePlaySource, googleplay.build),
}


def kind_of(source: SourceBase) -> SourceKind[Any] | None:
    """The registered kind whose config model validated `source`; None for a model nobody registered."""
    return next((kind for kind in SOURCES.values() if type(source) is kind.config), None)
