"""Opening everything a command needs: config, database, classifier — the one place they are wired."""

from __future__ import annotations

from pathlib import Path

from classifiers.verdict import Classifier
from overheard.config import OverheardConfig, Settings, load_config
from overheard.pipeline import Runtime
from storage.database import open_database


def load_classifier() -> Classifier:
    """The shipped offline model (MiniLM encoder + learned heads); prepared and cached on first use."""
    from classifiers import load_default

    return load_default()


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
    return Runtime.build(config, engine, classifier or load_classifier())
