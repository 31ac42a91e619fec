"""robots.txt matching as RFC 9309 specifies it."""

from __future__ import annotations

import pytest

from listener.robots import parse_robots
from tests.listener.replay import OWN_FIXTURES

ROBOTS = (OWN_FIXTURES / "http" / "robots.txt").read_text()


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/private/", False),
        ("/private/x.html", False),
        ("/private/reviews/1.html", True),  # longer allow beats shorter disallow
        ("/files/report.pdf", False),  # wildcard with end anchor
        ("/files/report.pdf?download=1", True),  # '$' anchors the end
        ("/robots.txt", True),
    ],
)
def test_star_group_applies_longest_match(path: str, allowed: bool) -> None:
    assert parse_robots(ROBOTS, "OverheardBot").allows(f"https://example.com{path}") is allowed


def test_a_group_naming_our_token_replaces_the_star_group() -> None:
    rules = parse_robots(ROBOTS, "SomeOtherBot")

    assert not rules.allows("https://example.com/public/page.html")


def test_allow_wins_a_tie_of_equal_length() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /page\nAllow: /page\n", "OverheardBot")

    assert rules.allows("https://example.com/page")


def test_user_agent_lines_in_a_row_share_one_group() -> None:
    rules = parse_robots("User-agent: a\nUser-agent: overheardbot\nDisallow: /x\n", "OverheardBot")

    assert not rules.allows("https://example.com/x/1")


def test_percent_encoding_is_compared_normalised() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /caf%C3%A9\n", "OverheardBot")

    assert not rules.allows("https://example.com/café/menu")
