"""overheard.yaml: valid files load; invalid ones fail with file, line and key, and nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from listener.registry import SOURCES
from overheard.config import ConfigError, OverheardConfig, load_config, parse_config
from overheard.demo import SAMPLES

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE = Path(__file__).resolve().parents[2] / "overheard" / "templates" / "overheard.example.yaml"


def test_the_commented_example_is_a_valid_config() -> None:
    config = load_config(TEMPLATE)
    assert isinstance(config, OverheardConfig)
    assert "competitor:Globex" in config.queries()
    assert config.routing.rules[0].name == "influencer-complaint"


def test_the_demo_config_names_every_product_and_competitor_query() -> None:
    config = load_config(SAMPLES / "demo.yaml")
    assert set(config.queries()) >= {"brand:Lumora", "product:Lumora Hub", "competitor:Brightwave"}


def test_unknown_key_is_named_with_file_and_line() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(FIXTURES / "bad_unknown_key.yaml")
    message = str(error.value)
    assert "bad_unknown_key.yaml line 8" in message
    assert "sources[0].pagesize: unknown key 'pagesize'" in message


def test_wrong_intent_in_a_routing_rule_names_the_rule_and_the_allowed_values() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(FIXTURES / "bad_intent.yaml")
    message = str(error.value)
    assert "line 7" in message
    assert "('leads')" in message and "'lead'" in message and "purchase_intent" in message


def test_unparseable_query_names_the_position() -> None:
    with pytest.raises(ConfigError, match=r"line 3: brands\[0\]\.query: .*unclosed"):
        load_config(FIXTURES / "bad_query.yaml")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"x\.yaml line 2: not valid YAML"):
        parse_config("brands: []\ndatabase: a: b\n", Path("x.yaml"))


def test_a_rule_sending_to_an_unknown_channel_is_refused() -> None:
    text = "brands: [{name: a, query: a}]\nrouting:\n  rules:\n    - {name: r, team: sales, channel: crm-push}\n"
    with pytest.raises(ConfigError, match="'crm-push' is not a configured channel"):
        parse_config(text)


def test_a_webhook_channel_without_its_secret_variable_is_refused() -> None:
    text = "brands: [{name: a, query: a}]\nchannels:\n  hook: {kind: webhook, url: 'https://h.example/x'}\n"
    with pytest.raises(ConfigError, match=r"line 3: channels\.hook: a webhook channel needs secret_env"):
        parse_config(text)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="overheard init"):
        load_config(tmp_path / "overheard.yaml")


def test_database_url_from_the_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERHEARD_DATABASE_URL", "postgresql://overheard@db.internal/overheard")
    config = parse_config("brands: [{name: a, query: a}]\ndatabase: sqlite:///x.db\n")
    assert config.database_url() == "postgresql://overheard@db.internal/overheard"


def test_delivery_timeouts_come_from_the_file_and_a_deadline_shorter_than_a_read_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from enrichers.delivery import generate_secret
    from overheard.pipeline import delivery_channel

    monkeypatch.setenv("HOOK_SECRET", generate_secret())
    config = parse_config(
        """
brands: [{name: Acme, query: Acme}]
channels: {hook: {kind: webhook, url: "https://hooks.example/x", secret_env: HOOK_SECRET}}
routing: {rules: [{name: all, team: customer_service, channel: hook}]}
delivery: {timeout_s: 3, deadline_s: 8, per_channel: 1, breaker_failures: 2, breaker_cooldown_s: 30}
"""
    )
    sender = delivery_channel("hook", config.channels["hook"], config.delivery)
    assert sender is not None and (sender.timeout_s, sender.deadline_s) == (3, 8)

    with pytest.raises(ConfigError, match=r"deadline_s \(2\) must be at least timeout_s \(5\)"):
        parse_config("brands: [{name: Acme, query: Acme}]\ndelivery: {timeout_s: 5, deadline_s: 2}\n")


def test_the_commented_example_shows_every_kind_of_source() -> None:
    assert {type(source) for source in load_config(TEMPLATE).sources} == {kind.config for kind in SOURCES.values()}
