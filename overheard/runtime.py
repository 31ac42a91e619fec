"""Opening everything a command needs: config, database, classifier — the one place they are wired."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from classifiers.verdict import Classifier
from overheard.config import ClassifierConfig, OverheardConfig, load_config
from overheard.pipeline import Runtime
from storage.database import open_database


def load_classifier(config: OverheardConfig | None = None) -> Classifier:
    """The offline models, chosen per document by its language (``classifiers.routing``): English and unknown go
    to the MiniLM model on the config's backend, with its thresholds (the shipped one that ``classifier.model``
    names unless ``classifier.artifacts`` names a folder); other languages to the multilingual path."""
    from classifiers.multilingual import load_multilingual
    from classifiers.routing import LanguageRouter

    return LanguageRouter(_english_classifier(config), load_multilingual)


def _english_classifier(config: OverheardConfig | None) -> Classifier:
    from classifiers import load_default
    from classifiers.model import Thresholds

    if config is None:
        return load_default(backend=ClassifierConfig().backend)
    chosen = config.classifier.thresholds
    overrides = Thresholds.from_config(chosen.sentiment, {k.value: v for k, v in chosen.intent.items()})
    return load_default(
        backend=config.classifier.backend,
        thresholds=overrides,
        batch_size=config.classifier.batch_size,
        artifacts=config.classifier.model_folder(),
        allow_fast=config.classifier.allow_fast,
    )


@dataclass(frozen=True)
class ServingPath:
    """What the model serves on in this host, for `overheard doctor`."""

    backend: str
    """The configured classifier.backend."""
    serves: str
    """The path it serves on: the configured one, or the one auto chose (e.g. "onnx-int8 on standard")."""
    reason: str
    cpu_flags: tuple[str, ...]
    measured: tuple[dict[str, object], ...] = ()
    """Each candidate auto timed (label, per_s, rounds, intent_agreement, sentiment_agreement)."""
    measured_at: str | None = None
    file: str | None = None
    """Where auto's choice is kept (delete it, or run `overheard doctor --remeasure`, to measure again)."""


def serving_path(config: OverheardConfig, remeasure: bool = False) -> ServingPath:
    """The classifier's serving path and why; with backend auto, measured now if no kept choice holds."""
    from classifiers.backend_choice import cpu_flags
    from classifiers.model import auto_choice

    chosen = config.classifier
    flags = cpu_flags()
    folder = chosen.model_folder()
    if chosen.backend != "auto":
        model = chosen.model if chosen.artifacts is None else str(folder)
        return ServingPath(
            chosen.backend, f"{chosen.backend} on {model}", "set in overheard.yaml (classifier.backend)", flags
        )
    choice, candidate = auto_choice(folder, chosen.allow_fast, chosen.batch_size, remeasure=remeasure)
    return ServingPath(
        "auto", candidate.label, choice.reason, flags, choice.measured, choice.measured_at, choice.file or None
    )


def load_classifier_from(path: str, config: OverheardConfig | None = None) -> Classifier:
    """Call the 'module:function' named by OVERHEARD_CLASSIFIER (the shipped model by default).

    A factory that takes an argument gets the config, so the shipped model uses its needs_human thresholds.
    """
    module, _, name = path.partition(":")
    factory: Callable[..., Classifier] = getattr(importlib.import_module(module), name or "load_classifier")
    if config is not None and inspect.signature(factory).parameters:
        return factory(config)
    return factory()


def open_runtime(
    config: OverheardConfig | None = None,
    *,
    config_path: Path | None = None,
    classifier: Classifier | None = None,
    database_url: str | None = None,
) -> Runtime:
    config = config or load_config(config_path)
    engine = open_database(database_url or config.database_url())
    return Runtime.build(config, engine, classifier or load_classifier_from(config.env.classifier, config))
