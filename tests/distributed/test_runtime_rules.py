"""The rules the distributed runtime runs by, checked without a broker: settings, schedule, attempts, locks."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from overheard.cli import app as cli
from overheard.config import ConfigError, Settings, load_config
from overheard.demo import SAMPLES
from overheard.scheduler import beat_schedule, parse_interval
from overheard.tasks import COLLECT, RECOVER, RETENTION, make_app, retry_delay
from storage import task_runs
from storage.schema import now_utc
from storage.schema import task_runs as task_runs_table


def test_a_visibility_timeout_not_longer_than_the_task_time_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be longer than OVERHEARD_TASK_TIME_LIMIT_S"):
        Settings(visibility_timeout_s=600, task_time_limit_s=900)


def test_the_app_acknowledges_late_gives_back_lost_work_and_reserves_one_message_at_a_time() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", visibility_timeout_s=3600, task_time_limit_s=900)
    conf = make_app(settings).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit > conf.task_soft_time_limit
    assert conf.worker_soft_shutdown_timeout > 0
    assert conf.broker_connection_max_retries is None


def test_each_enabled_source_is_collected_at_its_own_poll_interval() -> None:
    config = load_config(SAMPLES / "demo.yaml")
    sources = [
        config.sources[0].model_copy(update={"name": "fast", "poll_every": "30s"}),
        config.sources[0].model_copy(update={"name": "slow", "poll_every": "2h"}),
        config.sources[0].model_copy(update={"name": "off", "enabled": False}),
    ]
    schedule = beat_schedule(config.model_copy(update={"sources": tuple(sources)}), Settings(recover_every_s=15))
    assert schedule["collect fast"] == {"task": COLLECT, "schedule": 30.0, "args": ["fast"]}
    assert schedule["collect slow"]["schedule"] == 7200.0
    assert "collect off" not in schedule
    assert schedule["recover stuck work"]["task"] == RECOVER
    assert schedule["recover stuck work"]["schedule"] == 15
    assert schedule["apply retention"] == {"task": RETENTION, "schedule": 86400.0}
    quiet = config.model_copy(update={"retention": config.retention.model_copy(update={"enabled": False})})
    assert "apply retention" not in beat_schedule(quiet, Settings())


def test_a_poll_interval_that_is_not_a_duration_names_the_source() -> None:
    assert parse_interval("1.5m") == timedelta(seconds=90)
    with pytest.raises(ConfigError, match=r"sources \('x'\).poll_every: 'often' is not an interval"):
        parse_interval("often", "sources ('x').poll_every")


def test_retry_delays_double_with_jitter_and_never_pass_the_cap() -> None:
    settings = Settings(retry_base_s=10, retry_max_s=60)
    rng = random.Random(7)
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        delays = [retry_delay(attempt, settings, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1, "jitter spreads retries of many runs apart"


def test_an_attempt_that_never_finished_is_recorded_as_lost_by_the_next(engine: Engine) -> None:
    with engine.begin() as c:
        first = task_runs.begin(c, "run-1", COLLECT, "reviews", "host-a:41")
    with engine.begin() as c:  # host-a:41 was SIGKILLed: the run is still 'running' when redelivered
        second = task_runs.begin(c, "run-1", COLLECT, "reviews", "host-b:7")
    assert (first.number, second.number) == (1, 2)
    assert second.previous_error == "attempt 1 was lost: its worker (host-a:41) stopped while running it"
    with engine.begin() as c:
        task_runs.finish(c, "run-1", "stored 3 mentions")
        late = task_runs.begin(c, "run-1", COLLECT, "reviews", "host-a:42")  # a duplicate message after success
    assert late.finished


def test_a_failed_run_keeps_its_reason_and_unfinished_runs_left_alone_are_found_stuck(engine: Engine) -> None:
    with engine.begin() as c:
        task_runs.enqueue(c, "page-1", "overheard.process_page", "page", {"mentions": []})
        task_runs.begin(c, "run-2", COLLECT, "reviews", "host-a:41")
        task_runs.fail(c, "run-2", "SourceNotAvailable: gone", dead=True)
        c.execute(update(task_runs_table).values(updated_at=now_utc() - timedelta(hours=1)))
    with engine.begin() as c:
        stuck = [run.id for run in task_runs.stuck(c, now_utc() - timedelta(minutes=5))]
        [dead] = task_runs.dead_letters(c)
    assert stuck == ["page-1"]  # a dead letter waits for a person, it is not re-sent
    assert (dead.id, dead.last_error, dead.attempts) == ("run-2", "SourceNotAvailable: gone", 1)


def test_a_lock_has_one_holder_at_a_time_and_is_free_again_after(engine: Engine) -> None:
    with task_runs.exclusive(engine, "sweep:replay:s0") as first:
        with task_runs.exclusive(engine, "sweep:replay:s0") as second:
            assert (first, second) == (True, False)
        with task_runs.exclusive(engine, "sweep:replay:s1") as other_source:
            assert other_source
    with task_runs.exclusive(engine, "sweep:replay:s0") as again:
        assert again


def test_the_worker_without_a_broker_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERHEARD_REDIS_URL", raising=False)
    monkeypatch.setenv("OVERHEARD_CONFIG", str(SAMPLES / "demo.yaml"))  # the command sets it for its workers
    result = CliRunner().invoke(cli, ["worker", "--config", str(SAMPLES / "demo.yaml")])
    assert result.exit_code == 1
    assert "set OVERHEARD_REDIS_URL" in result.output


def test_a_worker_loads_the_shipped_model_with_the_configs_thresholds_and_a_stand_in_without() -> None:
    from classifiers.model import TransformerClassifier
    from classifiers.routing import LanguageRouter
    from classifiers.verdict import Intent
    from overheard.config import OverheardConfig
    from overheard.tasks import load_classifier_from

    config = OverheardConfig.model_validate(
        {
            "brands": [{"name": "Lumora", "query": "Lumora"}],
            "classifier": {"thresholds": {"intent": {"complaint": 0.91}}},
        }
    )
    shipped = load_classifier_from("overheard.runtime:load_classifier", config)
    assert isinstance(shipped, LanguageRouter)  # English and unknown: the MiniLM model; other languages: multilingual
    assert isinstance(shipped.english, TransformerClassifier)
    assert shipped.english.thresholds.intent[Intent.complaint] == 0.91
    assert "+thresholds." in shipped.version
    stand_in = load_classifier_from("tests.distributed.keyword_classifier:load", config)
    assert stand_in.version == "keyword-test-1"
