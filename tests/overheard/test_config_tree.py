"""One configuration tree: the file and the environment in one object, every OVERHEARD_* variable of the old
Settings and WorkerSettings still read under its name, documented once, and no Celery app built at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from overheard import tasks
from overheard.config import ConfigError, Settings, environment, environment_table, load_config, parse_config
from overheard.demo import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
DEMO = SAMPLES / "demo.yaml"

# Every variable the scattered classes read before, with a value that is not its default.
EVERY_VARIABLE = {
    "OVERHEARD_DATABASE_URL": ("database_url", "sqlite:///elsewhere.db"),
    "OVERHEARD_REDIS_URL": ("redis_url", "redis://broker:6379/2"),
    "OVERHEARD_CLASSIFIER": ("classifier", "tests.distributed.keyword_classifier:load"),
    "OVERHEARD_VISIBILITY_TIMEOUT_S": ("visibility_timeout_s", 7200.0),
    "OVERHEARD_TASK_TIME_LIMIT_S": ("task_time_limit_s", 1200.0),
    "OVERHEARD_TASK_MAX_ATTEMPTS": ("task_max_attempts", 3),
    "OVERHEARD_RETRY_BASE_S": ("retry_base_s", 4.0),
    "OVERHEARD_RETRY_MAX_S": ("retry_max_s", 300.0),
    "OVERHEARD_STUCK_AFTER_S": ("stuck_after_s", 9000.0),
    "OVERHEARD_RECOVER_EVERY_S": ("recover_every_s", 15.0),
    "OVERHEARD_PENDING_TTL_S": ("pending_ttl_s", 60.0),
    "OVERHEARD_SOFT_SHUTDOWN_S": ("soft_shutdown_s", 5.0),
    "OVERHEARD_RUNS_KEPT_DAYS": ("runs_kept_days", 3),
    "OVERHEARD_QUEUE": ("queue", "overheard-eu"),
}


def test_every_variable_keeps_its_name_and_lands_in_the_loaded_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, (_, value) in EVERY_VARIABLE.items():
        monkeypatch.setenv(variable, str(value))
    monkeypatch.setenv("OVERHEARD_CONFIG", str(DEMO))
    config = load_config()  # the file named by OVERHEARD_CONFIG
    assert config.brands and config.env.config == DEMO
    assert {variable: getattr(config.env, field) for variable, (field, _) in EVERY_VARIABLE.items()} == {
        variable: value for variable, (_, value) in EVERY_VARIABLE.items()
    }
    assert config.database_url() == "sqlite:///elsewhere.db"  # the environment overrides the file
    assert "env" not in config.model_dump()  # never written back as if it were the file's


def test_a_wrong_variable_is_named_with_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERHEARD_TASK_MAX_ATTEMPTS", "many")
    with pytest.raises(ConfigError, match="OVERHEARD_TASK_MAX_ATTEMPTS: Input should be a valid integer"):
        load_config(DEMO)
    monkeypatch.delenv("OVERHEARD_TASK_MAX_ATTEMPTS")
    monkeypatch.setenv("OVERHEARD_VISIBILITY_TIMEOUT_S", "60")
    with pytest.raises(ConfigError, match=r"OVERHEARD_VISIBILITY_TIMEOUT_S \(60\) must be longer than"):
        environment()


def test_the_file_may_not_set_the_environments_settings() -> None:
    text = DEMO.read_text(encoding="utf-8") + "\nenv:\n  redis_url: redis://elsewhere\n"
    with pytest.raises(ConfigError, match="env: set the environment's settings as OVERHEARD_\\* variables"):
        parse_config(text, DEMO)


def test_settings_given_explicitly_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERHEARD_QUEUE", "from-env")
    given = Settings(
        queue="given", redis_url="redis://127.0.0.1:1/0", task_time_limit_s=30, visibility_timeout_s=40, retry_max_s=20
    )
    assert load_config(DEMO, given).env.queue == "given"
    app = tasks.configure(given)
    try:
        assert tasks.celery_app() is app and tasks.worker_settings() is given
        assert app.conf.task_default_queue == "given" and app.conf.task_time_limit == 30
        assert app.conf.broker_transport_options == {"visibility_timeout": 40}
    finally:
        tasks._settings, tasks._app = None, None


def test_importing_the_tasks_builds_no_celery_app_and_sets_no_environment() -> None:
    script = (
        "import os, overheard.tasks as t; before = dict(os.environ); import overheard.cli; "
        "assert t._app is None and t._settings is None, 'built at import'; "
        "assert dict(os.environ) == before; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_every_variable_is_documented_once_in_the_configuration_page() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert environment_table() in page, "regenerate the table: overheard.config.environment_table()"
    for variable in EVERY_VARIABLE:
        assert page.count(f"`{variable}`") == 1, variable
