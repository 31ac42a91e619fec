"""Opening everything a command needs: config, database, classifier — the one place they are wired."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path

from classifiers.verdict import Classifier
from overheard.config import ClassifierConfig, OverheardConfig, Settings, load_config
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
    settings = Settings()
    config = config or load_config(config_path)
    engine = open_database(database_url or config.database_url(settings))
    return Runtime.build(config, engine, classifier or load_classifier_from(settings.classifier, config))
