"""Running the `overheard` command as a user does: a real process, in a folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def overheard(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "overheard", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout
    )


def init_workspace(folder: Path) -> Path:
    """A folder with an overheard.yaml from `overheard init`, pointed at a SQLite file inside it."""
    folder.mkdir(parents=True, exist_ok=True)
    assert overheard("init", cwd=folder).returncode == 0
    config = folder / "overheard.yaml"
    config.write_text(config.read_text().replace("sqlite:///./var/overheard.db", f"sqlite:///{folder}/o.db"))
    return folder
