"""`overheard tokens create | list | revoke` as an admin runs them."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import overheard


def test_tokens_are_listed_with_their_expiry_and_a_revoked_one_says_so(workspace: Path) -> None:
    created = overheard("tokens", "create", "ana", "--role", "service", cwd=workspace)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("ohk_") and "expires" in created.stderr
    forever = overheard("tokens", "create", "crm-bot", "--role", "sales", "--days", "0", cwd=workspace)
    assert forever.returncode == 0 and "never expires" in forever.stderr

    listed = overheard("tokens", "list", cwd=workspace)
    assert listed.returncode == 0, listed.stderr
    [ana] = [line for line in listed.stdout.splitlines() if "ana" in line]
    assert "service" in ana and "live" in ana and "never" in ana  # never used yet

    revoked = overheard("tokens", "revoke", "ana", cwd=workspace)
    assert revoked.returncode == 0 and "revoked token 'ana'" in revoked.stdout
    [ana] = [line for line in overheard("tokens", "list", cwd=workspace).stdout.splitlines() if "ana" in line]
    assert "revoked" in ana

    again = overheard("tokens", "revoke", "ana", cwd=workspace)
    assert again.returncode == 1 and "no live token is named 'ana'" in again.stderr
