from __future__ import annotations

import pytest

from classifiers.verdict import Classifier
from overheard.runtime import load_classifier


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The shipped offline model, loaded once for the session."""
    return load_classifier()
