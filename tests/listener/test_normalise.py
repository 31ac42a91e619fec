"""Turning platform HTML into the plain text mentions carry."""

from __future__ import annotations

import pytest

from listener.normalise import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Toot, finally!</p>", "Toot, finally!"),
        ("<p>you can&#39;t say that</p><p>on television</p>", "you can't say that\n\non television"),
        ("line one<br>line two<br/>line three", "line one\nline two\nline three"),
        ('<p><a href="https://x.example/tags/acme" class="hashtag">#<span>acme</span></a>   rocks</p>', "#acme rocks"),
        ("<p>before</p><script>alert('x')</script><style>p{}</style><!-- note --><p>after</p>", "before\n\nafter"),
        ("Fish &amp; chips &lt;3", "Fish & chips <3"),
        ("plain text stays", "plain text stays"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
    ],
)
def test_html_becomes_readable_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
