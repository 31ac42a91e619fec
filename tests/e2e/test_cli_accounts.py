"""`overheard accounts list | connect | disconnect` as an operator runs them: connecting the X reply account prints
the address on X, reads the address X sent the browser back to, and stores the tokens (a local server replays X's
token and users/me answers, tests/fixtures/recorded/x_oauth and twitter_x)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from tests.e2e.cli import overheard
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply, start_server

ENV = {
    "OVERHEARD_REPLY_TOKEN_KEY": Fernet.generate_key().decode(),
    "OVERHEARD_TEST_X_CLIENT_ID": "rG9n6402A3dbUJKzXTNX4oWHJ",
    "OVERHEARD_TEST_X_CLIENT_SECRET": "x-client-secret",
}


@pytest.fixture
def x_api() -> Iterator[ReplayServer]:
    server, httpd = start_server()
    server.add("/2/oauth2/token", Reply.recorded(RECORDED_FIXTURES / "x_oauth/token_code"), method="POST")
    server.add("/2/users/me", Reply.recorded(RECORDED_FIXTURES / "twitter_x/v2/test_client_get_me/000_GET_2_users_me"))
    yield server
    httpd.shutdown()
    httpd.server_close()


def test_an_operator_connects_the_x_account_from_the_command_line_and_disconnects_it(
    workspace: Path, x_api: ReplayServer
) -> None:
    config = workspace / "overheard.yaml"
    text = config.read_text().replace("  allow_networks: []", '  allow_networks: ["127.0.0.1/32"]')
    config.write_text(
        text
        + f"""
reply_accounts:
  lumora-x:
    platform: x
    secret_env: OVERHEARD_TEST_X_TOKEN
    client_id_env: OVERHEARD_TEST_X_CLIENT_ID
    client_secret_env: OVERHEARD_TEST_X_CLIENT_SECRET
    redirect_uri: https://overheard.example/settings/accounts/x/callback
    base_url: {x_api.base_url}
"""
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "NO_COLOR": "1", **ENV}
    assert "not connected" in overheard("accounts", "list", cwd=workspace, env=ENV).stdout

    with subprocess.Popen(
        [sys.executable, "-m", "overheard", "accounts", "connect", "lumora-x"],
        cwd=workspace, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as connecting:  # fmt: skip
        assert connecting.stdout is not None and connecting.stdin is not None
        address = connecting.stdout.readline().strip()
        query = {k: v[-1] for k, v in parse_qs(urlsplit(address).query).items()}
        assert address.startswith("https://x.com/i/oauth2/authorize?") and query["code_challenge_method"] == "S256"
        back = f"https://overheard.example/settings/accounts/x/callback?state={query['state']}&code=c0de"
        out, err = connecting.communicate(back + "\n", timeout=120)
    assert connecting.returncode == 0, err
    assert "lumora-x is connected as @TweepyDev" in out
    sent = {k: v[-1] for k, v in parse_qs(x_api.requests_to("/2/oauth2/token")[0].body.decode()).items()}
    assert sent["redirect_uri"] == query["redirect_uri"] == "https://overheard.example/settings/accounts/x/callback"

    assert "connected as @TweepyDev" in overheard("accounts", "list", cwd=workspace, env=ENV).stdout
    gone = overheard("accounts", "disconnect", "lumora-x", cwd=workspace, env=ENV)
    assert gone.returncode == 0 and "tokens are deleted" in gone.stdout
    again = overheard("accounts", "disconnect", "lumora-x", cwd=workspace, env=ENV)
    assert again.returncode == 1 and "'lumora-x' is not connected" in again.stderr
