"""Routing rules from overheard.yaml: all-match with one route per team, each route explained in words."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from enrichers.linking import CompanyIndex
from enrichers.model import Contact, Priority, Team
from enrichers.routing import (
    DEFAULT_ROUTING,
    RoutingConfig,
    RoutingConfigError,
    check,
    evaluate,
    load_routing,
    parse_duration,
    route,
)

OPERATOR_RULES = Path(__file__).parent / "data" / "routing.yaml"


@pytest.fixture(scope="module")
def operator_rules() -> RoutingConfig:
    return load_routing(yaml.safe_load(OPERATOR_RULES.read_text())["routing"])


@pytest.fixture
def jane(directory) -> Contact:
    return directory.contacts["c-jane"]


def test_complaint_goes_to_customer_service_with_a_two_hour_target_from_when_it_was_written(mentions, verdicts, now):
    bob = mentions["bob_complains"]
    routes = route(DEFAULT_ROUTING, bob, verdicts["complaint"], now)

    assert [(r.team, r.rule, r.priority) for r in routes] == [(Team.customer_service, "complaint", Priority.high)]
    assert bob.created_at < now  # routed later than it was written: the target still counts from the post
    assert routes[0].due_at == bob.created_at + timedelta(hours=2)
    assert routes[0].channel == "customer_service"  # default channels are named after the team


def test_complaint_from_an_influencer_goes_to_communications_and_customer_service(mentions, verdicts, now):
    routes = route(DEFAULT_ROUTING, mentions["influencer_complains"], verdicts["complaint"], now)

    assert [(r.team, r.priority) for r in routes] == [
        (Team.communications, Priority.urgent),
        (Team.customer_service, Priority.high),
    ]
    assert "author has 250000 followers (≥ 10000)" in routes[0].explanation


def test_purchase_intent_goes_to_sales(mentions, verdicts, now):
    routes = route(DEFAULT_ROUTING, mentions["unknown_wants_to_buy"], verdicts["purchase_intent"], now)

    assert [r.team for r in routes] == [Team.sales]


def test_question_goes_to_customer_service(mentions, verdicts, now):
    routes = route(DEFAULT_ROUTING, mentions["jane_asks_on_mastodon_local_handle"], verdicts["question"], now)

    assert [(r.team, r.rule) for r in routes] == [(Team.customer_service, "question")]


def test_praise_with_high_reach_goes_to_marketing_by_the_more_specific_rule(mentions, verdicts, now):
    routes = route(DEFAULT_ROUTING, mentions["german_praise"], verdicts["praise"], now)

    assert [(r.team, r.rule, r.priority) for r in routes] == [(Team.marketing, "influencer-praise", Priority.normal)]
    outcomes = {o.rule: o for o in evaluate(DEFAULT_ROUTING, mentions["german_praise"], verdicts["praise"])}
    assert outcomes["praise"].matched and not outcomes["praise"].routed
    assert "marketing was already routed by rule 'influencer-praise'" in outcomes["praise"].explanation


def test_uncertain_verdict_goes_to_customer_service_triage(mentions, verdicts, now):
    routes = route(DEFAULT_ROUTING, mentions["same_name_other_handle"], verdicts["uncertain"], now)

    assert [(r.team, r.rule) for r in routes] == [(Team.customer_service, "needs-human-triage")]
    assert "classifier asked for a person" in routes[0].explanation


def test_explanation_names_the_rule_and_each_condition_that_held(mentions, verdicts, now):
    routes = route(DEFAULT_ROUTING, mentions["bob_complains"], verdicts["complaint"], now)

    assert routes[0].explanation == (
        "rule 'complaint' matched: intent complaint is in [complaint]; confidence 0.88 ≥ 0.50"
    )


def test_failed_rules_say_which_condition_failed(mentions, verdicts):
    outcome = check(DEFAULT_ROUTING.rules[0], mentions["bob_complains"], verdicts["complaint"])

    assert not outcome.matched
    assert outcome.reasons == ("author has 40 followers (< 10000)",)


def test_reply_goes_where_the_customer_spoke_unless_the_contact_prefers_another_channel(mentions, verdicts, now, jane):
    mention = mentions["jane_complains_on_x"]

    assert route(DEFAULT_ROUTING, mention, verdicts["complaint"], now)[0].reply_channel == "x"
    assert route(DEFAULT_ROUTING, mention, verdicts["complaint"], now, contact=jane)[0].reply_channel == "email"


def test_operator_rules_load_from_yaml_with_durations_and_single_values(operator_rules):
    refund = operator_rules.rules[1]

    assert refund.respond_within == timedelta(hours=1, minutes=30)
    assert refund.when.intent is not None and [i.value for i in refund.when.intent] == ["complaint"]
    assert operator_rules.rules[3].when.language == ("de",)


def test_segment_rule_needs_a_linked_contact_in_that_segment(operator_rules, mentions, verdicts, directory, now):
    mention, verdict = mentions["greg_complains"], verdicts["complaint"]
    greg = directory.contacts["c-greg"]

    unlinked = check(operator_rules.rules[0], mention, verdict)
    linked = route(operator_rules, mention, verdict, now, contact=greg)

    assert unlinked.reasons == ("author is not linked to a contact, so has no segment",)
    first = linked[0]
    assert (first.rule, first.channel, first.priority, first.reply_channel) == (
        "vip-anything",
        "vip-desk",
        Priority.urgent,
        "phone",
    )
    assert linked[0].due_at == mention.created_at + timedelta(minutes=30)


def test_keywords_match_whole_words_or_phrases_in_any_case(operator_rules, mentions, verdicts):
    rule = operator_rules.rules[1]
    mention = mentions["bob_complains"]

    def with_text(text):
        return mention.model_copy(update={"text": text})

    assert check(rule, with_text("I want my MONEY  back now"), verdicts["complaint"]).matched
    assert check(rule, with_text("Refund please"), verdicts["complaint"]).matched
    assert not check(rule, with_text("They refunded me already"), verdicts["complaint"]).matched


def test_competitor_condition_uses_the_companies_named_in_the_text(operator_rules, mentions, verdicts, companies):
    rule = operator_rules.rules[2]
    mention = mentions["unknown_wants_to_buy"]
    named = CompanyIndex(companies).find(mention.title, mention.text)

    assert check(rule, mention, verdicts["purchase_intent"], companies=named).matched
    outcome = check(rule, mention, verdicts["purchase_intent"], companies=[])
    assert outcome.reasons == ("names no competitor",)


def test_language_and_sentiment_conditions_and_a_rule_without_conditions(operator_rules, mentions, verdicts, now):
    routes = route(operator_rules, mentions["german_praise"], verdicts["praise"], now)

    assert [(r.rule, r.channel, r.due_at) for r in routes] == [
        ("german-voices", "marketing-slack", None),
        ("catch-all", "comms-slack", None),
    ]
    assert routes[1].explanation == "rule 'catch-all' matched: it has no conditions"


def test_a_regional_language_tag_counts_as_its_language(operator_rules, mentions, verdicts):
    austrian = mentions["german_praise"].model_copy(update={"language": "de-AT"})

    assert check(operator_rules.rules[3], austrian, verdicts["praise"]).matched


def test_a_final_rule_stops_the_rules_below_it(operator_rules, mentions, verdicts, now):
    outcomes = evaluate(operator_rules, mentions["same_name_other_handle"], verdicts["uncertain"])

    assert [(o.rule, o.routed) for o in outcomes if o.matched] == [("low-confidence", True)]
    assert outcomes[-1].note == "not checked: rule 'low-confidence' is final"
    assert [r.team for r in route(operator_rules, mentions["same_name_other_handle"], verdicts["uncertain"], now)] == [
        Team.product
    ]


def test_follower_threshold_does_not_hold_when_the_platform_reports_no_count(mentions, verdicts):
    outcome = check(DEFAULT_ROUTING.rules[0], mentions["unknown_wants_to_buy"], verdicts["complaint"])

    assert outcome.reasons == ("author's follower count is unknown",)


def test_rules_sending_to_unconfigured_channels_are_reported(operator_rules):
    problems = operator_rules.unknown_channels(["vip-desk", "service-webhook", "sales-crm", "marketing-slack"])

    assert problems == [
        "routing.rules[4] ('low-confidence').channel: 'product-mail' is not a configured channel "
        "(known: marketing-slack, sales-crm, service-webhook, vip-desk)",
        "routing.rules[5] ('catch-all').channel: 'comms-slack' is not a configured channel "
        "(known: marketing-slack, sales-crm, service-webhook, vip-desk)",
    ]


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (
            [{"name": "leads", "when": {"intent": "lead"}, "team": "sales"}],
            "routing.rules[0] ('leads').when.intent[0]: 'lead' is not one of 'complaint', 'purchase_intent', "
            "'question', 'praise' or 'other'",
        ),
        (
            [{"name": "legal", "team": "legal"}],
            "routing.rules[0] ('legal').team: 'legal' is not one of 'customer_service', 'sales', 'marketing', "
            "'product' or 'communications'",
        ),
        (
            [{"name": "typo", "when": {"intnet": "complaint"}, "team": "sales"}],
            "routing.rules[0] ('typo').when.intnet: unknown setting 'intnet' (did you mean 'intent'? known: intent,",
        ),
        (
            [{"name": "slow", "team": "sales", "respond_within": "2 days"}],
            "routing.rules[0] ('slow').respond_within: '2 days' is not a duration",
        ),
        (
            [{"name": "empty", "when": {"source": []}, "team": "sales"}],
            "routing.rules[0] ('empty').when.source: an empty list never matches",
        ),
        (
            [{"name": "never", "when": {"min_confidence": 0.9, "max_confidence": 0.2}, "team": "sales"}],
            "routing.rules[0] ('never').when: min_confidence 0.9 is above max_confidence 0.2",
        ),
        (
            [{"name": "twice", "team": "sales"}, {"name": "twice", "team": "marketing"}],
            "routing: rules[1] has the same name 'twice' as rules[0]",
        ),
        (
            [{"name": "ok", "team": "sales"}, {"name": "lang", "when": {"language": "english"}, "team": "sales"}],
            "routing.rules[1] ('lang').when.language: 'english': use ISO 639-1 two-letter codes",
        ),
    ],
)
def test_invalid_rules_give_errors_naming_the_rule_and_the_setting(rules, problem):
    with pytest.raises(RoutingConfigError) as raised:
        load_routing({"rules": rules})

    assert any(line.startswith(problem) for line in raised.value.problems), raised.value.problems


def test_routing_section_left_out_gives_the_default_rules():
    assert load_routing(None) is DEFAULT_ROUTING
    assert {r.team for r in DEFAULT_ROUTING.rules} == {
        Team.customer_service,
        Team.sales,
        Team.marketing,
        Team.communications,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("45m", timedelta(minutes=45)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_response_time_targets_read_like_people_write_them(text, expected):
    assert parse_duration(text) == expected


def test_zero_response_time_is_rejected():
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0h")
