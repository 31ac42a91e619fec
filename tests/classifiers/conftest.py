"""The shipped classifier, opened once per test session (loading the encoder takes seconds)."""

from __future__ import annotations

import pytest

from classifiers.model import TransformerClassifier, load_default


@pytest.fixture(scope="session")
def classifier() -> TransformerClassifier:
    return load_default(backend="torch")
