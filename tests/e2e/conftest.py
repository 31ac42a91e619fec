"""Fixtures of the end-to-end CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli import init_workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder with an overheard.yaml from `overheard init`, pointed at a SQLite file inside it."""
    return init_workspace(tmp_path)
