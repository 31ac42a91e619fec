"""robots.txt rules as RFC 9309 defines them, kept pure so `listener.http` can cache and apply them.

What RFC 9309 asks and this module does:
- groups are chosen by product token: the group whose user-agent line matches our token (case-insensitive),
  all such groups merged; otherwise the `*` group(s); otherwise everything is allowed (2.2.1);
- within a group the most specific (longest) matching rule wins, and `allow` wins a tie (2.2.2);
- `*` matches any run of characters and a trailing `$` anchors the end (2.2.3);
- rules are compared against the percent-decoded-then-re-encoded path plus query (2.2.2);
- only the first 500 KiB are parsed (2.5); the fetcher decides what 4xx / 5xx / unreachable mean (2.3.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

PARSE_LIMIT_BYTES = 500 * 1024
"""RFC 9309 2.5: crawlers must parse at least 500 KiB; we parse exactly that and ignore the rest."""


@dataclass(frozen=True)
class Rule:
    allow: bool
    path: str

    def matches(self, target: str) -> bool:
        return _pattern(self.path).match(target) is not None


@dataclass(frozen=True)
class RobotsRules:
    """The rules of one robots.txt that apply to one product token."""

    rules: tuple[Rule, ...] = ()
    allow_all: bool = False
    disallow_all: bool = False

    def allows(self, url: str) -> bool:
        """True when `url` may be fetched under these rules."""
        if self.disallow_all:
            return False
        if self.allow_all:
            return True
        target = _normalise_path(url)
        if target == "/robots.txt":
            return True  # RFC 9309 2.2.2: the robots.txt itself is always allowed
        best: Rule | None = None
        for rule in self.rules:
            if not rule.path or not rule.matches(target):
                continue
            if (
                best is None
                or _specificity(rule) > _specificity(best)
                or (_specificity(rule) == _specificity(best) and rule.allow)
            ):
                best = rule
        return best is None or best.allow

    @classmethod
    def allowing_everything(cls) -> RobotsRules:
        return cls(allow_all=True)

    @classmethod
    def disallowing_everything(cls) -> RobotsRules:
        return cls(disallow_all=True)


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


def parse_robots(body: bytes | str, product_token: str) -> RobotsRules:
    """Parse a robots.txt body and keep the rules that apply to `product_token` (e.g. 'OverheardBot')."""
    if isinstance(body, bytes):
        body = body[:PARSE_LIMIT_BYTES].decode("utf-8", errors="replace")
    else:
        body = body[:PARSE_LIMIT_BYTES]
    groups: list[_Group] = []
    current: _Group | None = None
    last_was_agent = False
    for raw_line in body.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if current is None or not last_was_agent:
                current = _Group()
                groups.append(current)
            current.agents.append(value.lower())
            last_was_agent = True
        elif key in ("allow", "disallow"):
            last_was_agent = False
            if current is not None:
                current.rules.append(Rule(allow=key == "allow", path=value))
        else:
            last_was_agent = False  # sitemap and unknown records end nothing, but break a user-agent run

    token = product_token.lower()
    mine = [g for g in groups if token in g.agents]
    if not mine:
        mine = [g for g in groups if "*" in g.agents]
    return RobotsRules(rules=tuple(rule for group in mine for rule in group.rules))


def _specificity(rule: Rule) -> int:
    return len(rule.path)


def _normalise_path(url: str) -> str:
    parts = urlsplit(url)
    path = quote(unquote(parts.path or "/"), safe="/%:@!$&'()*+,;=-._~")
    return f"{path}?{parts.query}" if parts.query else path


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(path: str) -> re.Pattern[str]:
    cached = _PATTERNS.get(path)
    if cached is None:
        anchored = path.endswith("$")
        body = path[:-1] if anchored else path
        body = quote(unquote(body), safe="/%:@!$&'()*+,;=-._~?")
        regex = ".*".join(re.escape(piece) for piece in body.split("*"))
        cached = re.compile(regex + ("$" if anchored else ""))
        _PATTERNS[path] = cached
    return cached
