"""Keeping noise out of the teams' queues: the brand's own posts, spam and scams, and talk about competitors.

Each check is a pure function of the mention that returns a `NoiseFlag` (what kind, which rule, why in words) or
None. `screen` runs them in order — owned account, then spam, then competitor — and the first flag wins:

- **owned**: the author is one of the brand's own accounts (`owned_accounts:` in overheard.yaml). Its posts are
  the brand speaking; they never route as a customer's complaint, and its replies join the thread as the brand's.
- **spam**: rules with names, each reading the text for a pattern scammers rely on: a crypto airdrop or giveaway,
  someone posing as support who moves the customer to WhatsApp or Telegram, easy-money bait, a farm of links.
  Flagged mentions leave the queues but stay stored and reviewable with their reason.
- **competitor**: the mention matched a competitor's query and none of the brand's, so it is about a competitor.
  It goes to competitor views and marketing, not the brand's service queue, unless a routing rule asks for it.

The patterns are words most languages borrow (airdrop, WhatsApp, Telegram) plus a few translations where cheap;
they are built to miss rather than to flag a customer by mistake: every rule needs two signals, not one (posing as
support needs three: a messenger, a way to reach the "agent" there, and words of support).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from enrichers.linking import normalise_handle
from listener.mention import Mention, Platform


class NoiseKind(StrEnum):
    owned = "owned"
    spam = "spam"
    competitor = "competitor"


@dataclass(frozen=True)
class NoiseFlag:
    """Why a mention is kept out of the brand's queues: its kind, the rule that found it, and the words it found."""

    kind: NoiseKind
    rule: str
    """Rule name, e.g. 'owned_account', 'crypto_airdrop', 'support_impersonation', 'about_competitor'."""
    reason: str
    """In words, quoting what was found: "crypto airdrop: 'airdrop', 'claim free tokens'"."""


OwnedAccounts = Mapping[Platform, Collection[str]]
"""Platform → the brand's own handles there, as written in overheard.yaml (`owned_accounts: {x: [LumoraHelp]}`)."""


def owned_flag(mention: Mention, owned: OwnedAccounts) -> NoiseFlag | None:
    """The brand's own account wrote it (handles compared as `enrichers.linking.normalise_handle` does)."""
    platform = mention.source.value
    handles = owned.get(mention.source) or ()
    author = normalise_handle(platform, mention.author.handle, mention.author.profile_url)
    for handle in handles:
        if normalise_handle(platform, handle) == author:
            return NoiseFlag(
                NoiseKind.owned, "owned_account", f"posted by the brand's own {platform} account @{handle}"
            )
    return None


def _any(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


# ---- spam and scam rules: each needs two signals ----------------------------------------------------------------

_AIRDROP = _any(r"air\s?drops?", r"presale", r"free\s+(?:crypto|tokens?|coins?|nfts?|btc|eth|usdt)")
_CLAIM = _any(
    r"claim(?:\s+\w+){0,3}\s+(?:tokens?|coins?|rewards?|nfts?|airdrop)",
    r"claim\s+(?:now|before|today)",
    r"connect\s+(?:your\s+)?wallet",
    r"\$[A-Z]{2,6}",  # a ticker
    r"(?:btc|eth|usdt|sol|bnb|crypto|tokens?|nfts?)",
    r"giveaway",
    r"gratis|gratuit[se]?|kostenlos(?:e|en)?",
)
_GIVEAWAY = _any(r"giveaway", r"sorteo", r"gewinnspiel", r"concours")
_SEND_TO_WIN = _any(r"send\s+\d+", r"double\s+your", r"(?:btc|eth|usdt|crypto|wallet)")

_OFF_PLATFORM = _any(r"whats\s?app", r"wa\.me", r"telegram", r"t\.me", r"signal\s+(?:app|me|at)", r"viber", r"wechat")
_POSING_AS_HELP = _any(
    r"support(?:\s+(?:agent|team|desk|line))?",
    r"help\s?desk",
    r"customer\s+(?:care|service)",
    r"agent",
    r"technician",
    r"engineer",
    r"expert",
    r"recovery",
    r"fix(?:ed|es)?\s+(?:it|mine|yours|my|your)",
    r"soporte",
    r"kundendienst",
    r"assistance",
    r"assistenza",
    r"klantenservice",
)

# A way to reach the "agent" off the platform: a phone number, a wa.me / t.me link, or a handle given right after
# the messenger's name. Asking whether the brand has WhatsApp support gives none of these.
_CONTACT_POINT = re.compile(
    r"\+\d[\d\s().-]{6,}\d|(?:wa\.me|t\.me)/\S+|(?:whats\s?app|telegram|signal|viber|wechat)\s*(?:on|at|:)?\s*@\w+",
    re.IGNORECASE,
)

_EASY_MONEY = _any(
    r"earn\s+\$?\d[\d,.]*k?\s*(?:\$|usd|€|eur)?\s*(?:/|a|per)\s*(?:day|week|hour)",
    r"no\s+experience\s+(?:needed|required)",
    r"passive\s+income",
    r"make\s+money\s+(?:online|fast|from\s+home)",
)
_DM_ME = _any(r"dm\s+me", r"message\s+me", r"link\s+in\s+bio", r"#workfromhome", r"#makemoneyonline")

_LINK_HOST = re.compile(
    r"https?://([^/\s]+)|(?<![\w@.-])((?:[a-z0-9-]+\.)+(?:xyz|top|click|live|link|buzz|icu|cfd|sbs|rest))\b", re.I
)
"""A link's host: any http(s) URL's, or a bare domain under a top-level domain that spam favours."""
_HASHTAG = re.compile(r"(?<!\w)#\w+")


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(match.group(0).strip() for match in pattern.finditer(text)))


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words[:3])


def spam_flag(mention: Mention) -> NoiseFlag | None:
    """The first spam or scam rule the text meets, with what it found; None for an ordinary post."""
    text = " ".join(part for part in (mention.title, mention.text) if part)
    airdrop = _found(_AIRDROP, text)
    if airdrop and (claim := [w for w in _found(_CLAIM, text) if w.lower() not in {a.lower() for a in airdrop}]):
        return NoiseFlag(NoiseKind.spam, "crypto_airdrop", f"crypto airdrop: {_quoted(airdrop + claim)}")
    giveaway = _found(_GIVEAWAY, text)
    if giveaway and (bait := _found(_SEND_TO_WIN, text)):
        return NoiseFlag(NoiseKind.spam, "crypto_giveaway", f"crypto giveaway: {_quoted(giveaway + bait)}")
    channel = _found(_OFF_PLATFORM, text)
    if channel and _CONTACT_POINT.search(text) and (posing := _found(_POSING_AS_HELP, text)):
        return NoiseFlag(
            NoiseKind.spam,
            "support_impersonation",
            f"poses as support and moves the customer off the platform: {_quoted(posing + channel)}",
        )
    money = _found(_EASY_MONEY, text)
    if money and (hook := _found(_DM_ME, text)):
        return NoiseFlag(NoiseKind.spam, "easy_money", f"easy-money bait: {_quoted(money + hook)}")
    hosts = list(dict.fromkeys((a or b).lower().removeprefix("www.") for a, b in _LINK_HOST.findall(text)))
    tags = _HASHTAG.findall(text)
    if len(hosts) >= 3 or (len(hosts) >= 2 and len(tags) >= 5):
        return NoiseFlag(
            NoiseKind.spam,
            "link_farm",
            f"link farm: links to {len(hosts)} sites and {len(tags)} hashtags ({_quoted(hosts)})",
        )
    return None


# ---- about a competitor ------------------------------------------------------------------------------------------

BRAND_QUERY_PREFIXES = ("brand:", "product:")
COMPETITOR_QUERY_PREFIX = "competitor:"


def competitor_flag(mention: Mention) -> NoiseFlag | None:
    """It matched a competitor's query and none of the brand's or its products' (`matched_queries`, as
    `listener.query.QuerySet.tag_all` sets them): a post about the competitor, not about us."""
    queries = mention.matched_queries
    competitors = [q.removeprefix(COMPETITOR_QUERY_PREFIX) for q in queries if q.startswith(COMPETITOR_QUERY_PREFIX)]
    if not competitors or any(q.startswith(BRAND_QUERY_PREFIXES) for q in queries):
        return None
    return NoiseFlag(
        NoiseKind.competitor,
        "about_competitor",
        f"about {', '.join(competitors)} and none of our brands or products",
    )


def screen(mention: Mention, owned: OwnedAccounts | None = None) -> NoiseFlag | None:
    """The flag that keeps `mention` out of the brand's queues, or None: owned account, then spam, then competitor
    (a scam naming a competitor is a scam first)."""
    return owned_flag(mention, owned or {}) or spam_flag(mention) or competitor_flag(mention)
