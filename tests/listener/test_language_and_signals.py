"""Offline language detection, and the spam / bot / near-duplicate signals recorded on mentions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from listener.language import detect_language, normalise_language
from listener.mention import Author, Mention, Platform
from listener.normalise import Converted, Finishing
from listener.query import QuerySet
from listener.signals import NearDuplicateIndex, record_signals, simhash, spam_traits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il prodotto è arrivato rotto, pessimo servizio clienti", "it"),
        ("Das ist wirklich ein tolles Produkt, sehr zufrieden damit", "de"),
        ("I love my new Acme kettle, it boils really fast", "en"),
        ("Le service client d'Acme ne répond jamais à mes messages", "fr"),
    ],
)
def test_language_is_detected_offline(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["lol", "@snowman @happycamper https://t.co/qvk5BCBtqh", "#acme #kettle 👍"])
def test_too_little_text_stays_unknown_rather_than_guessed(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(("code", "expected"), [("en-GB", "en"), ("pt_BR", "pt"), ("und", None), ("", None)])
def test_platform_language_tags_become_iso_639_1(code: str, expected: str | None) -> None:
    assert normalise_language(code) == expected


def mention(text: str, external_id: str = "1", handle: str = "jane_doe", **extra: object) -> Mention:
    return Mention(
        source=Platform.x,
        external_id=external_id,
        author=Author(handle=handle),
        text=text,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        **extra,
    )


def test_giveaway_spam_with_link_stuffing_is_flagged_with_its_traits() -> None:
    text = "FREE GIVEAWAY!!! https://a.example https://b.example https://c.example #acme #win #free #gift #crypto #nft"

    assert set(spam_traits(text)) >= {"many_links", "hashtag_stuffing", "bait_phrase"}
    assert "spam" in record_signals(mention(text)).signals


def test_an_ordinary_complaint_carries_no_signals() -> None:
    plain = mention("My Acme kettle's lid popped open again, support please help")

    assert record_signals(plain).signals == ()


def test_platform_bot_flag_and_generated_link_only_accounts_are_bots() -> None:
    assert "bot" in record_signals(mention("Daily digest of kettle news"), platform_bot=True).signals
    assert "bot" in record_signals(mention("https://spam.example/x", handle="user84736251")).signals


def test_near_duplicates_point_at_the_first_copy_seen() -> None:
    index = NearDuplicateIndex()
    original = "Acme kettle recall: lids may open while boiling, owners can claim a refund at acme.example/recall"
    copy = "Acme kettle recall: lids may open while boiling, owners can claim a refund at acme.example/recall 🔥"
    different = "Globex opened a new data centre in Leeds this morning with three hundred new jobs"

    assert record_signals(mention(original, "a"), duplicates=index).signals == ()
    assert record_signals(mention(copy, "b"), duplicates=index).signals == ("near_duplicate:a",)
    assert record_signals(mention(different, "c"), duplicates=index).signals == ()


def test_duplicate_index_forgets_beyond_its_capacity() -> None:
    index = NearDuplicateIndex(capacity=1)
    text = "the same sentence copied across many accounts by a campaign today"
    index.seen_before("a", text)
    index.seen_before("b", "an entirely unrelated remark about the weather in the north today")

    assert index.seen_before("c", text) is None


def test_simhash_of_a_small_edit_is_close_and_of_another_text_far() -> None:
    a = simhash("Acme support answered in five minutes and fixed my order")
    b = simhash("Acme support answered in five minutes and fixed my order!")
    c = simhash("Globex lost my parcel twice and never replied to emails")

    assert bin(a ^ b).count("1") <= 3
    assert bin(a ^ c).count("1") > 10


def test_finishing_tags_queries_fills_language_and_records_signals_in_one_step() -> None:
    finishing = Finishing(queries=QuerySet({"brand": "acme"}), duplicates=NearDuplicateIndex())

    done = finishing.finish(Converted(mention("Das ist wirklich ein tolles Produkt von Acme, sehr zufrieden")))

    assert done.matched_queries == ("brand",)
    assert done.language == "de"


def test_finishing_keeps_the_platforms_language() -> None:
    done = Finishing().finish(Converted(mention("I love my new Acme kettle, it boils really fast", language="ja")))

    assert done.language == "ja"
