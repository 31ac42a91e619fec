"""`overheard sources` shows what billed sources have used, their cap and where this month is heading."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from listener.http import Http
from overheard.cli import app
from overheard.config import parse_config
from overheard.sources import quotas
from tests.listener.replay import RECORDED_FIXTURES, FakeTime, ReplayServer, Reply, start_server

USAGE = RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/apis/usage/usage_tweets_resp.json"


@pytest.fixture
def platform() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    yield replay
    httpd.shutdown()
    httpd.server_close()


def _config_text(platform: ReplayServer, database: Path) -> str:
    return f"""
database: 'sqlite:///{database}'
brands: [{{name: Acme, query: 'Acme OR hoot'}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: x, name: x-brand, base_url: "{platform.base_url}", monthly_post_budget: 15000000}}
  - {{kind: hackernews, name: hn, base_url: "{platform.base_url}"}}
"""


def test_the_x_source_reports_reads_budget_and_projection(
    platform: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERHEARD_X_BEARER_TOKEN", "test-token")
    platform.add("/2/usage/tweets", Reply.file(USAGE, "application/json"))
    clock = FakeTime(now=datetime(2022, 10, 8, tzinfo=UTC).timestamp())
    http = Http(user_agent="t", allow_networks=("127.0.0.1/32",), min_interval_s=0, clock=clock.clock)

    [quota] = quotas(parse_config(_config_text(platform, tmp_path / "o.db")), http)

    assert (quota.source, quota.used, quota.cap) == ("x-brand", 11174038, 15_000_000)
    assert quota.projected == 11174038 * 3  # 10 of the cycle's 30 days gone
    assert len(platform.requests_to("/2/usage/tweets")) == 1  # one account, one look, however many queries


def test_overheard_sources_prints_the_quota(
    platform: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERHEARD_X_BEARER_TOKEN", "test-token")
    platform.add("/2/usage/tweets", Reply.file(USAGE, "application/json"))
    path = tmp_path / "overheard.yaml"
    path.write_text(_config_text(platform, tmp_path / "o.db"))

    shown = CliRunner().invoke(app, ["sources", "--config", str(path), "--format", "json"])

    assert shown.exit_code == 0, shown.output
    [quota] = json.loads(shown.stdout)["quotas"]
    assert (quota["source"], quota["used"], quota["cap"], quota["unit"]) == (
        "x-brand",
        11174038,
        15000000,
        "posts/month",
    )
    table = CliRunner().invoke(app, ["sources", "--config", str(path)], env={"COLUMNS": "200"})
    assert "quota x-brand: 11,174,038 of 15,000,000 posts/month" in table.stdout


def test_overheard_sources_prints_the_app_store_keys_hourly_allowance(
    platform: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    monkeypatch.setenv("OVERHEARD_APP_STORE_PRIVATE_KEY", pem.decode())
    allowance = (("Content-Type", "application/json"), ("X-Rate-Limit", "user-hour-lim:3600;user-hour-rem:3412;"))
    platform.add("/v1/apps/1234567890", Reply(200, allowance, b'{"data": {"type": "apps", "id": "1234567890"}}'))
    path = tmp_path / "overheard.yaml"
    path.write_text(f"""
database: 'sqlite:///{tmp_path / "o.db"}'
brands: [{{name: Acme, query: Acme}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: appstore, name: appstore, apps: ["1234567890"], key_id: K, issuer_id: I, base_url: "{platform.base_url}"}}
""")

    table = CliRunner().invoke(app, ["sources", "--config", str(path)], env={"COLUMNS": "200"})

    assert table.exit_code == 0, table.output
    assert "quota appstore: 188 of 3,600 requests/hour" in table.stdout
