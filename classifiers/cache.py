"""Where the classifiers keep what they prepare from shipped weights: ``$OVERHEARD_CACHE_DIR`` or ``~/.cache/overheard``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    path = Path(os.environ.get("OVERHEARD_CACHE_DIR", Path.home() / ".cache" / "overheard"))
    path.mkdir(parents=True, exist_ok=True)
    return path
