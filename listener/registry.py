"""Every kind of source overheard.yaml can name, each with its config model and its builder, in one table.

Adding a source is its module (a collector, a `SourceBase` subclass with `kind: Literal["<kind>"]`, and
`build(source_config, ctx) -> list[Collector]`) plus one line here. A platform whose API looks posts up by id
may also give, from the same module, a `checker` (does this post still exist? the re-check for platform
deletions) and an `engagement` lookup (current counts of young posts, in batches). The shell builds the
`sources:` schema from this table and looks up the builders in it; nothing else names the kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from listener import appstore, bluesky, googleplay, hackernews, mastodon, reddit, replay, reviews, rss, x, youtube
from listener.base import BuildContext, Collector, SourceBase
from listener.engagement import EngagementLookup
from listener.recheck import PostChecker

S = TypeVar("S", bound=SourceBase)


@dataclass(frozen=True)
class SourceKind(Generic[S]):
    """One kind of source: the model its entry in overheard.yaml is validated by, what builds its collectors, and
    (where the platform's API allows) what builds its deletion re-check and its engagement lookup. Each builder
    answers None when the configured source lacks what it needs (e.g. a token)."""

    config: type[S]
    build: Callable[[S, BuildContext], list[Collector]]
    checker: Callable[[S, BuildContext], PostChecker | None] | None = None
    engagement: Callable[[S, BuildContext], EngagementLookup | None] | None = None


# The order is the order a config error lists the kinds in.
SOURCES: dict[str, SourceKind[Any]] = {
    "replay": SourceKind(replay.ReplaySource, replay.build),
    "x": SourceKind(x.XSource, x.build, x.deletion_checker, x.engagement_lookup),
    "mastodon": SourceKind(mastodon.MastodonSource, mastodon.build, mastodon.deletion_checker),
    "reddit": SourceKind(reddit.RedditSource, reddit.build, reddit.deletion_checker, reddit.engagement_lookup),
    "bluesky": SourceKind(bluesky.BlueskySource, bluesky.build, bluesky.deletion_checker, bluesky.engagement_lookup),
    "hackernews": SourceKind(hackernews.HackerNewsSource, hackernews.build, hackernews.deletion_checker),
    "rss": SourceKind(rss.RssSource, rss.build),
    "review": SourceKind(reviews.ReviewSource, reviews.build),
    "youtube": SourceKind(youtube.YouTubeSource, youtube.build),
    "googleplay": SourceKind(googleplay.GooglePlaySource, googleplay.build),
    "appstore": SourceKind(appstore.AppStoreSource, appstore.build),
}


def kind_of(source: SourceBase) -> SourceKind[Any] | None:
    """The registered kind whose config model validated `source`; None for a model nobody registered."""
    return next((kind for kind in SOURCES.values() if type(source) is kind.config), None)
