"""The source registry: every kind overheard.yaml can name has its config model and its builder in its own module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Literal

import pytest

import listener
from listener.base import SourceBase
from listener.registry import SOURCES


@pytest.mark.parametrize("kind", list(SOURCES))
def test_a_registered_kind_has_a_config_model_named_by_its_kind_and_a_builder_beside_it(kind: str) -> None:
    registered = SOURCES[kind]
    assert isinstance(registered.config, type) and issubclass(registered.config, SourceBase)
    assert registered.config.model_fields["kind"].annotation == Literal[kind], "its `kind` must be the registry key"
    assert registered.config.model_fields["kind"].is_required()
    assert callable(registered.build)
    assert list(inspect.signature(registered.build).parameters) == ["source", "ctx"]
    assert registered.build.__module__ == registered.config.__module__, "the platform module owns both"
    for builder in (registered.checker, registered.engagement):
        if builder is not None:
            assert list(inspect.signature(builder).parameters) == ["source", "ctx"]
            assert builder.__module__ == registered.config.__module__, "the platform module owns its re-check too"


def test_the_platforms_that_look_posts_up_by_id_register_their_recheck_and_their_engagement_lookup() -> None:
    checked = {kind for kind, registered in SOURCES.items() if registered.checker is not None}
    looked_up = {kind for kind, registered in SOURCES.items() if registered.engagement is not None}
    assert checked == {"x", "mastodon", "reddit", "bluesky", "hackernews"}
    assert looked_up == {"x", "reddit", "bluesky"}


def test_every_source_config_model_in_the_listener_is_registered() -> None:
    for module in pkgutil.iter_modules(listener.__path__):
        importlib.import_module(f"listener.{module.name}")
    defined = {model for model in SourceBase.__subclasses__() if model.__module__.startswith("listener.")}
    assert defined == {kind.config for kind in SOURCES.values()}
