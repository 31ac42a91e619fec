"""Post and profile links on a `Mention` are absolute http(s) links or nothing: a stranger writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from listener.mention import Author, Mention, web_url

AT = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "/relative/path",
        "https://",
        "http://exa\x00mple.com/",
    ],
)
def test_a_link_that_is_not_an_absolute_web_link_is_cleared_with_its_reason(link: str) -> None:
    assert web_url(link) is None
    mention = Mention(
        source="rss",  # type: ignore[arg-type]
        external_id="x-1",
        url=link,
        author=Author(handle="someone", profile_url=link),
        text="hello",
        created_at=AT,
    )
    assert mention.url is None and mention.author.profile_url is None
    assert [s.split(":")[0] for s in mention.signals] == ["unsafe_url", "unsafe_profile_url"]


@pytest.mark.parametrize("link", ["https://news.example/a?b=c#d", "HTTP://Example.com/", " https://x.example/p "])
def test_web_links_are_kept(link: str) -> None:
    mention = Mention(
        source="rss",  # type: ignore[arg-type]
        external_id="x-1",
        url=link,
        author=Author(handle="someone"),
        text="hello",
        created_at=AT,
    )
    assert mention.url == link.strip() and mention.signals == ()
