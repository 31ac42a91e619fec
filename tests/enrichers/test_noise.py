"""Keeping noise out of the queues: the brand's own posts, spam and scams, and competitor talk — on the real cases
of the demo sample (overheard/samples/) and on the routing rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.enrich import enrich
from enrichers.model import Team
from enrichers.noise import NoiseKind, competitor_flag, owned_flag, screen, spam_flag
from enrichers.routing import DEFAULT_ROUTING, RoutingConfig, evaluate, route
from listener.mention import Author, Mention, Platform
from listener.query import QuerySet
from overheard.config import load_config
from tests.enrichers.conftest import InMemoryDirectory

SAMPLES = Path(__file__).resolve().parents[2] / "overheard" / "samples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> tuple[list[Mention], dict[Platform, tuple[str, ...]]]:
    """The demo's mentions, tagged with the demo's queries, and the demo's owned accounts."""
    config = load_config(SAMPLES / "demo.yaml")
    mentions = []
    for line in (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            mentions.append(Mention.model_validate_json(line))
        except ValueError:
            continue  # the sample keeps two broken lines on purpose (quarantine)
    return QuerySet(config.queries()).tag_all(mentions), config.owned_accounts


def flagged(sample: tuple[list[Mention], Any], rule: str) -> list[str]:
    mentions, owned = sample
    return sorted(m.author.handle for m in mentions if (f := screen(m, owned)) is not None and f.rule == rule)


def verdict(intent: Intent, confidence: float = 0.9, needs_human: bool = False) -> Verdict:
    sentiment = Sentiment.negative if intent is Intent.complaint else Sentiment.positive
    return Verdict(
        sentiment=sentiment,
        sentiment_confidence=0.9,
        intent=intent,
        intent_confidence=confidence,
        needs_human=needs_human,
        model_version="test",
    )


def post(text: str, handle: str = "someone", queries: tuple[str, ...] = ("brand:Lumora",), **extra: Any) -> Mention:
    return Mention(
        source=extra.pop("source", Platform.x),
        external_id=extra.pop("external_id", "1"),
        author=Author(handle=handle, followers=extra.pop("followers", 100)),
        text=text,
        created_at=NOW - timedelta(minutes=30),
        matched_queries=queries,
        **extra,
    )


# ---- the demo sample's real cases --------------------------------------------------------------------------


def test_the_brands_own_support_account_is_flagged_as_owned(sample) -> None:
    assert flagged(sample, "owned_account") == ["LumoraHelp", "LumoraHelp"]


def test_every_airdrop_post_of_the_sample_is_flagged(sample) -> None:
    assert flagged(sample, "crypto_airdrop") == [
        "airdrop_alerts_x",
        "crypto_gains_8812",
        "gains4u-9921.bsky.social",
        "moonboy4419",
        "nft_drop_daily22",
    ]


def test_fake_support_agents_moving_customers_to_whatsapp_or_telegram_are_flagged(sample) -> None:
    assert flagged(sample, "support_impersonation") == ["fixhub-pro.bsky.social", "help_desk_fix01", "recovery_agent_7"]
    mentions, owned = sample
    [scam] = [m for m in mentions if m.author.handle == "help_desk_fix01"]
    flag = screen(scam, owned)
    assert flag is not None and flag.reason == (
        "poses as support and moves the customer off the platform: 'support agent', 'fixed mine', 'WhatsApp'"
    )


def test_complaints_about_competitors_are_flagged_as_about_a_competitor(sample) -> None:
    mentions, owned = sample
    about = {m.text[:40] for m in mentions if (f := screen(m, owned)) is not None and f.kind is NoiseKind.competitor}
    assert "Brightwave support took 3 weeks to repla" in about
    assert "Nimbus Home app has been logging me out " in about
    # naming a competitor beside the brand is still about the brand
    assert not any(t.startswith("This is exactly why I moved off Nimbus") for t in about)


def test_customers_writing_to_the_support_account_are_not_noise(sample) -> None:
    mentions, owned = sample
    customers = [m for m in mentions if "@LumoraHelp" in m.text and m.author.handle not in _scammers()]
    assert len(customers) > 20
    assert [m.text for m in customers if screen(m, owned) is not None] == []


def _scammers() -> set[str]:
    return {"help_desk_fix01", "recovery_agent_7", "LumoraHelp"}


def test_the_sample_has_no_other_spam(sample) -> None:
    mentions, owned = sample
    kinds = Counter(f.rule for m in mentions if (f := screen(m, owned)) is not None and f.kind is NoiseKind.spam)
    assert kinds == {"crypto_airdrop": 5, "support_impersonation": 3, "easy_money": 1}


# ---- the rules, one by one ---------------------------------------------------------------------------------


def test_owned_handles_compare_as_the_platform_does() -> None:
    owned = {Platform.x: ("@LumoraHelp",), Platform.mastodon: ("lumora@mastodon.social",)}
    assert owned_flag(post("4.2.1 is out", handle="lumorahelp"), owned) is not None
    toot = post("hi", handle="Lumora@Mastodon.Social", source=Platform.mastodon)
    assert owned_flag(toot, owned) is not None
    assert owned_flag(post("hi", handle="lumora", source=Platform.reddit), owned) is None  # not listed there


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Lumora Hub kaputt? Unser Kundendienst hilft sofort auf WhatsApp +49 151 000000", "support_impersonation"),
        ("¿Problemas con Lumora? Nuestro soporte técnico te atiende por Telegram @lumo_fix", "support_impersonation"),
        ("Lumora GIVEAWAY! Send 0.1 ETH to get 0.2 back", "crypto_giveaway"),
        ("Lumora presale live, connect your wallet now", "crypto_airdrop"),
        ("Lumora deals https://a.xyz/1 https://b.top/2 https://c.click/3", "link_farm"),
        ("Lumora hub 70% off lumo-deal.xyz best-bulbs.top #lumora #deal #sale #smarthome #promo", "link_farm"),
    ],
)
def test_spam_rules_in_several_languages(text: str, rule: str) -> None:
    flag = spam_flag(post(text))
    assert flag is not None and flag.rule == rule and flag.kind is NoiseKind.spam


@pytest.mark.parametrize(
    "text",
    [
        "@LumoraHelp DM'd you 4 days ago. Read, no reply.",
        "Lumora support told me to reinstall. Didn't help.",
        "Is there a Lumora WhatsApp group for owners?",  # a channel but nobody posing as support
        "Bought the Lumora starter kit at https://shop.example/lumora",
        "My Lumora bulbs airdropped into the couch lol",
        "Does Lumora have WhatsApp support? Their chat agent never answers",  # no number or handle to move to
        "I work from home and my Lumora hub died. DM me if you know a fix",
        "status.lumora.io says all fine, but https://app.lumora.io/login and https://lumora.io/help are down",
    ],
)
def test_ordinary_posts_are_not_spam(text: str) -> None:
    assert spam_flag(post(text)) is None


def test_a_post_about_the_brand_and_a_competitor_is_about_the_brand() -> None:
    assert competitor_flag(post("Lumora > Brightwave", queries=("brand:Lumora", "competitor:Brightwave"))) is None
    flag = competitor_flag(post("Brightwave is slow", queries=("competitor:Brightwave",)))
    assert flag is not None and flag.reason == "about Brightwave and none of our brands or products"


# ---- routing: flagged mentions are held back -----------------------------------------------------------------


def test_the_brands_own_post_is_not_routed_as_a_complaint() -> None:
    status = post(
        "We're aware some Lumora Hubs went offline after today's update", handle="LumoraHelp", followers=18400
    )
    flag = screen(status, {Platform.x: ("LumoraHelp",)})

    assert route(DEFAULT_ROUTING, status, verdict(Intent.complaint), NOW, flag=flag) == []
    held = [o for o in evaluate(DEFAULT_ROUTING, status, verdict(Intent.complaint), flag=flag) if o.matched]
    assert [o.rule for o in held] == ["influencer-complaint", "complaint"]
    assert all(o.note == "held back, owned: posted by the brand's own x account @LumoraHelp" for o in held)


def test_a_scam_reply_read_as_a_complaint_reaches_no_queue() -> None:
    scam = post("Hey @LumoraHelp, same issue! Contact this support agent on WhatsApp +44 7700 900123")
    assert route(DEFAULT_ROUTING, scam, verdict(Intent.complaint), NOW, flag=spam_flag(scam)) == []


def test_an_airdrop_read_as_praise_reaches_no_marketing_queue() -> None:
    airdrop = post("$LUMO airdrop is LIVE! Lumora holders claim free tokens 👉 lumora-airdrop.xyz")
    assert route(DEFAULT_ROUTING, airdrop, verdict(Intent.praise), NOW, flag=spam_flag(airdrop)) == []


def test_a_competitor_complaint_goes_to_marketing_not_to_service() -> None:
    complaint = post("Brightwave support took 3 weeks to replace a bulb", queries=("competitor:Brightwave",))
    routes = route(DEFAULT_ROUTING, complaint, verdict(Intent.complaint), NOW, flag=competitor_flag(complaint))

    assert [(r.team, r.rule) for r in routes] == [(Team.marketing, "competitor-watch")]


def test_a_rule_may_ask_for_competitor_complaints_in_service() -> None:
    rules = RoutingConfig.model_validate(
        {
            "rules": [
                {"name": "win-back", "when": {"intent": "complaint", "about_competitor": True}, "team": "sales"},
                {"name": "complaint", "when": {"intent": "complaint"}, "team": "customer_service"},
            ]
        }
    )
    complaint = post("Nimbus Home app logs me out hourly", queries=("competitor:Nimbus Home",))
    routes = route(rules, complaint, verdict(Intent.complaint), NOW, flag=competitor_flag(complaint))

    assert [(r.team, r.rule) for r in routes] == [(Team.sales, "win-back")]
    assert "about Nimbus Home and none of our brands or products" in routes[0].explanation


def test_spam_stays_reviewable_by_a_rule_that_asks_for_it() -> None:
    rules = RoutingConfig.model_validate({"rules": [{"name": "abuse-desk", "when": {"spam": True}, "team": "product"}]})
    scam = post("Lumora presale live, connect your wallet now")
    routes = route(rules, scam, verdict(Intent.other), NOW, flag=spam_flag(scam))

    assert [r.rule for r in routes] == ["abuse-desk"]
    assert routes[0].explanation.startswith("rule 'abuse-desk' matched: crypto airdrop: 'presale'")
    assert route(rules, post("Lumora is great"), verdict(Intent.praise), NOW) == []  # spam: true needs the flag


def test_enrich_keeps_the_flag_and_says_why_nothing_was_routed() -> None:
    status = post("4.2.1 is rolling out now", handle="LumoraHelp")
    directory = InMemoryDirectory([], [], [])

    outcome = enrich(
        status,
        verdict(Intent.complaint),
        directory,
        DEFAULT_ROUTING,
        NOW,
        timedelta(days=30),
        owned_accounts={Platform.x: ("LumoraHelp",)},
    )

    assert outcome.flag is not None and outcome.flag.kind is NoiseKind.owned
    assert outcome.routes == ()
    assert outcome.routing_reason == "not routed: owned, posted by the brand's own x account @LumoraHelp"
