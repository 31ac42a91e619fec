"""The one interface every source implements: a sweep that yields pages of mentions, and what a platform module
is given to build its collectors from its part of overheard.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from listener.mention import Mention
from listener.query import parse, to_plain_searches

if TYPE_CHECKING:  # both import this module, so only their names are needed here
    from listener.http import Http
    from listener.normalise import Finishing


@dataclass(frozen=True)
class Rejected:
    """A raw item we could not turn into a Mention, kept with the reason (quarantine, never dropped)."""

    source: str
    reason: str
    payload: str


class SourceError(Exception):
    """A sweep could not go on: the source is down, rate-limited for long, refused us, or sent a page we cannot
    read. Pages yielded before it are valid; the cursor stays where the last stored page left it. The shell
    records `reason` on the source's status and goes on with the other sources.
    """

    def __init__(self, source: str, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RatingSeen:
    """The overall rating a review page states for its product or place (schema.org `AggregateRating`)."""

    url: str  # the review page as configured
    rating: float | None  # on a 0–5 scale
    count: int | None  # reviews or ratings it summarises


@dataclass(frozen=True)
class Page:
    """One page of a sweep.

    `next_cursor` is the position to resume from once this page and the ones before it are stored; the
    shell saves it after storing the page, so a failure on a later page keeps this page's progress. None
    leaves the cursor where it was.
    """

    mentions: list[Mention]
    rejected: list[Rejected] = field(default_factory=list)
    next_cursor: str | None = None
    rating: RatingSeen | None = None  # review sources: the overall rating the page states, kept over time


@dataclass(frozen=True)
class Quota:
    """How much of what a platform bills or caps a source has used, for `overheard sources`."""

    source: str  # the configured source's name
    unit: str  # what is counted and over which period, e.g. 'posts/month', 'units/day'
    used: int  # used so far this period, in `unit`s
    cap: int | None  # the lower of the platform's cap and the configured budget; None: neither is known
    projected: int | None  # use by the end of the period at this period's pace so far
    resets_at: datetime | None  # when the period ends (UTC)

    def describe(self) -> str:
        cap = f" of {self.cap:,}" if self.cap is not None else ""
        pace = f", on pace for {self.projected:,}" if self.projected is not None else ""
        resets = f", resets {self.resets_at:%Y-%m-%d}" if self.resets_at else ""
        return f"{self.used:,}{cap} {self.unit}{pace}{resets}"


class Collector(Protocol):
    """A source of mentions for one configured query.

    `name` identifies the cursor: '<platform>:<query name>' is conventional.
    """

    name: str

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        """Yield pages of mentions newer than `cursor` (None = first run)."""
        ...


class SourceNotAvailable(RuntimeError):
    """A configured source cannot run (named, with what to do)."""


class SourceBase(BaseModel):
    """What every entry under `sources:` in overheard.yaml has. Each platform module subclasses it with a
    `kind: Literal["<kind>"]` field and its own settings, and registers both in `listener.registry.SOURCES`.

    A `Path` field is read relative to the config file's folder, not the working directory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Unique; names the cursor and the source-health row.")
    enabled: bool = True
    poll_every: str = Field(default="5m", description="How often `overheard run` sweeps it, e.g. '5m'.")
    queries: tuple[str, ...] | None = Field(
        default=None, description="Names of brands/competitors to search; all when left out."
    )


@dataclass(frozen=True)
class BuildContext:
    """What the shell hands a platform's `build(source_config, ctx)` for one configured source."""

    source: str  # the source's configured name
    http: Http  # the one polite HTTP client every collector of the process shares
    finishing: Finishing  # query tagging, language detection, spam and near-duplicate signals
    queries: Mapping[str, str]  # query name ('brand:Acme') → boolean query text, those this source searches
    secret: Callable[[str], str | None]  # the value of an environment variable, None when unset

    def name(self, part: str) -> str:
        """A collector's name, which names its cursor and health row: '<source>:<part>'."""
        return f"{self.source}:{part}"

    def plain_searches(self) -> list[tuple[str, str, str]]:
        """(collector name, query name, search) for platforms whose search has no OR: one search per alternative
        of each query (`listener.query.to_plain_searches`), each its own collector with its own cursor. A query
        with one alternative keeps the plain '<source>:<query>' name (and so its cursor); several are named
        '<source>:<query>:<search>'."""
        found: list[tuple[str, str, str]] = []
        for query_name, text in self.queries.items():
            searches = to_plain_searches(parse(text))
            for search in searches:
                name = self.name(query_name) if len(searches) == 1 else self.name(f"{query_name}:{search}")
                found.append((name, query_name, search))
        return found

    def token(self, variable: str | None, *, required: bool = False) -> str | None:
        """The API token in the environment variable the config names; `required` refuses a missing one."""
        value = self.secret(variable) if variable else None
        if required and not value:
            raise SourceNotAvailable(f"source '{self.source}': set the environment variable {variable} (its API token)")
        return value
