"""A kind of source registered in `listener.registry` is read from overheard.yaml and built, with no change to the
shell: the `sources:` schema and the builder lookup both come from the registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from listener.base import BuildContext, Collector, Page, SourceBase
from listener.http import Http
from listener.recheck import LocalId, PostState, Recheck
from listener.registry import SOURCES, SourceKind
from overheard.config import ConfigError, parse_config
from overheard.sources import SourceNotAvailable, build_checkers, build_collectors

CONFIG = """\
brands: [{name: Acme, query: Acme}]
competitors: [{name: Globex, query: Globex}]
sources:
  - kind: lemmy
    name: lemmy-world
    community: technology
    export: exports/lemmy.jsonl
    queries: [competitor:Globex]
"""


class LemmySource(SourceBase):
    kind: Literal["lemmy"]
    community: str
    token_env: str = "LEMMY_TOKEN"
    export: Path | None = None


class CommunitySearch:
    """Stands in for a collector: remembers what its builder was given, sweeps nothing."""

    def __init__(self, name: str, community: str, query: str, token: str | None, ctx: BuildContext) -> None:
        self.name, self.community, self.query, self.token, self.ctx = name, community, query, token, ctx

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        yield Page(mentions=[])


def build(source: LemmySource, ctx: BuildContext) -> list[Collector]:
    token = ctx.token(source.token_env, required=True)
    return [CommunitySearch(ctx.name(q), source.community, text, token, ctx) for q, text in ctx.queries.items()]


class PostLookup:
    """Stands in for a deletion re-check: every post it is asked about is gone."""

    source = "lemmy"

    def __init__(self, token: str) -> None:
        self.token = token

    def check(self, external_id: str, url: str | None, local: LocalId | None = None) -> Recheck:
        return Recheck(self.source, external_id, PostState.deleted, "gone")


def deletion_checker(source: LemmySource, ctx: BuildContext) -> PostLookup | None:
    token = ctx.token(source.token_env)
    return PostLookup(token) if token else None


@pytest.fixture
def lemmy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCES, "lemmy", SourceKind(LemmySource, build, deletion_checker))


@pytest.mark.usefixtures("lemmy")
def test_a_kind_registered_in_the_listener_is_read_from_overheard_yaml_and_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEMMY_TOKEN", "secret-token")
    config = parse_config(CONFIG, Path("/srv/overheard/overheard.yaml"))
    [source] = config.sources
    assert isinstance(source, LemmySource) and source.community == "technology"
    assert source.export == Path("/srv/overheard/exports/lemmy.jsonl"), "a path is read beside the config file"

    [collector] = build_collectors(config)
    assert isinstance(collector, CommunitySearch)
    assert (collector.name, collector.query, collector.token) == (
        "lemmy-world:competitor:Globex",
        "Globex",
        "secret-token",
    )
    assert isinstance(collector.ctx.http, Http) and dict(collector.ctx.queries) == {"competitor:Globex": "Globex"}


@pytest.mark.usefixtures("lemmy")
def test_a_registered_kinds_deletion_recheck_is_built_from_its_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(CONFIG)
    monkeypatch.delenv("LEMMY_TOKEN", raising=False)
    assert build_checkers(config, Http()) == {}, "without its token the source has nothing to check with"

    monkeypatch.setenv("LEMMY_TOKEN", "secret-token")
    [checker] = build_checkers(config, Http())["lemmy"]
    assert isinstance(checker, PostLookup) and checker.token == "secret-token"


@pytest.mark.usefixtures("lemmy")
def test_a_registered_kind_without_its_token_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEMMY_TOKEN", raising=False)
    with pytest.raises(SourceNotAvailable, match="source 'lemmy-world': set the environment variable LEMMY_TOKEN"):
        build_collectors(parse_config(CONFIG))


@pytest.mark.usefixtures("lemmy")
def test_a_registered_kind_is_refused_with_the_key_and_line_like_the_others() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(CONFIG.replace("    community: technology\n", "    comunity: technology\n"), Path("o.yaml"))
    message = str(error.value)
    assert "o.yaml line 6: sources[0].comunity: unknown key 'comunity'" in message
    assert "o.yaml line 4: sources[0].community: Field required" in message


def test_a_kind_nobody_registered_is_refused_naming_the_kinds_there_are() -> None:
    with pytest.raises(
        ConfigError, match=r"o\.yaml line 4: sources\[0\]: Input tag 'lemmy' .* 'youtube', 'googleplay', 'appstore'$"
    ):
        parse_config(CONFIG, Path("o.yaml"))
