"""Review pages: Amazon markup (recorded amazon.it page), schema.org JSON-LD and microdata, on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from listener.base import RatingSeen, SourceError
from listener.http import Http
from listener.reviews import AggregateRating, ReviewCollector, extract_reviews, normalise_rating, parse_review_date
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, ReplayServer, Reply

AMAZON_PAGE = RECORDED_FIXTURES / "reviews_html/amazon_it_mega_scraper/product-reviews-B07747FR44-1.html"
FIX = OWN_FIXTURES / "reviews"
HTML = "text/html; charset=utf-8"
AMAZON_PATH = "/Paperwhite-resistente-allacqua-risoluzione-speciali/product-reviews/B07747FR44"


def serve_robots(server: ReplayServer) -> None:
    server.add("/robots.txt", Reply.file(FIX / "robots.txt", "text/plain"))


def test_amazon_review_page_yields_every_review_with_stars_dates_and_votes(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    # The recorded page links to itself on www.amazon.it; served here, those links point at this server.
    server.add(AMAZON_PATH, Reply.file(AMAZON_PAGE, HTML).rewritten({"https://www.amazon.it": server.base_url}))
    server.add(AMAZON_PATH, Reply.file(FIX / "amazon_last_page.html", HTML), query={"pageNumber": "2"})
    collector = ReviewCollector(http, name="review:kindle", url=server.url(AMAZON_PATH))

    first, last = list(collector.sweep(None))

    assert len(first.mentions) == 10
    top = first.mentions[0]
    assert top.external_id == "amazon:R3OXHZOZ0WM7AZ"
    assert top.author.handle == "Darkphoenix"
    assert top.title == "SONO RIUSCITI A MIGLIORARLO ANCORA!!!"
    assert top.text.startswith("Ciao a tutti io sono Gianni")
    assert top.rating == 5.0
    assert top.created_at == datetime(2018, 11, 14, tzinfo=UTC)
    assert top.engagement.likes == 921
    assert top.language == "it"
    assert top.url == server.url("/gp/customer-reviews/R3OXHZOZ0WM7AZ")
    assert sorted({m.rating for m in first.mentions}) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert collector.aggregate == AggregateRating(rating=4.7, count=2345)

    [giulia] = last.mentions
    assert (giulia.rating, giulia.engagement.likes) == (4.0, 1)
    assert giulia.created_at == datetime(2019, 1, 3, tzinfo=UTC)
    assert giulia.text == "Schermo ottimo.\nLa luce è più forte in basso."


def test_json_ld_reviews_across_pages_with_ratings_normalised(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    path = "/products/acme-kettle-2/reviews"
    server.add(path, Reply.file(FIX / "kettle_page1.html", HTML))
    server.add(path, Reply.file(FIX / "kettle_page2.html", HTML), query={"page": "2"})
    collector = ReviewCollector(http, name="review:kettle", url=server.url(path))

    first, second = list(collector.sweep(None))

    sam, dana = first.mentions
    assert (sam.author.handle, sam.title, sam.rating) == ("Sam K.", "Fast but the lid pops open", 2.0)
    assert sam.text.startswith("Boils a litre in two minutes.")
    assert dana.rating == 4.5  # 9 of 10
    assert dana.created_at == datetime(2026, 11, 19, 7, 30, tzinfo=UTC)
    assert collector.aggregate == AggregateRating(rating=3.8, count=127)

    [lee] = second.mentions
    assert lee.external_id == "https://shop.example/reviews/88412"
    [undated] = second.rejected
    assert undated.reason == "ValueError: review has no date"


def test_review_ids_without_a_site_id_are_stable_across_sweeps(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    server.add("/reviews", Reply.file(FIX / "kettle_page2.html", HTML).rewritten({'rel="prev"': 'rel="up"'}))
    server.add("/r1", Reply.file(FIX / "kettle_page1.html", HTML))
    page_one_ids = [
        m.external_id for m in next(ReviewCollector(http, name="r", url=server.url("/r1")).sweep(None)).mentions
    ]

    again = [m.external_id for m in next(ReviewCollector(http, name="r", url=server.url("/r1")).sweep(None)).mentions]

    assert page_one_ids == again
    assert all(i.startswith("127.0.0.1:") for i in page_one_ids)


def test_microdata_reviews_and_aggregate_are_read(server: ReplayServer, http: Http) -> None:
    page = extract_reviews((FIX / "microdata.html").read_bytes(), "https://cafe.example/bewertungen")

    jana, tom = page.reviews
    assert (jana.author, jana.title, jana.rating, jana.published) == (
        "Jana",
        "Bester Kuchen der Stadt",
        5.0,
        date(2026, 10, 30),
    )
    assert jana.body == "Der Käsekuchen ist himmlisch, der Service freundlich.\nNur die Wartezeit war lang."
    assert (tom.author, tom.published, tom.rating) == ("Tom", date(2026, 3, 3), 3.0)
    assert page.aggregate == AggregateRating(rating=4.2, count=58)


def test_robots_disallowed_review_pages_are_not_fetched(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    server.add("/checkout/reviews", Reply.file(FIX / "kettle_page1.html", HTML))

    with pytest.raises(SourceError, match=r"robots\.txt disallows"):
        list(ReviewCollector(http, name="review:x", url=server.url("/checkout/reviews")).sweep(None))
    assert server.requests_to("/checkout/reviews") == []


def test_next_links_to_another_site_are_not_followed(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    # Unchanged, the recorded Amazon page's rel="next" points at www.amazon.it.
    server.add(AMAZON_PATH, Reply.file(AMAZON_PAGE, HTML))

    pages = list(ReviewCollector(http, name="review:kindle", url=server.url(AMAZON_PATH)).sweep(None))

    assert len(pages) == 1
    assert [s.path for s in server.seen] == ["/robots.txt", AMAZON_PATH]


def test_page_without_review_markup_fails_the_sweep(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    server.add("/plain", Reply.file(OWN_FIXTURES / "http/page.html", HTML))

    with pytest.raises(SourceError, match="no reviews found"):
        list(ReviewCollector(http, name="review:x", url=server.url("/plain")).sweep(None))


def test_newest_first_listings_stop_at_the_last_sweeps_newest_day(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    path = "/products/acme-kettle-2/reviews"
    server.add(path, Reply.file(FIX / "kettle_page1.html", HTML))
    server.add(path, Reply.file(FIX / "kettle_page2.html", HTML), query={"page": "2"})
    collector = ReviewCollector(http, name="review:kettle", url=server.url(path), newest_first=True)

    [page] = list(collector.sweep("2026-11-20"))

    assert [m.author.handle for m in page.mentions] == ["Sam K."]  # Dana's review is older than the floor
    assert page.next_cursor == "2026-11-21"
    assert server.requests_to(path)[-1].param("page") is None  # page 2 never fetched


def test_newest_first_page_limit_resumes_at_the_next_page(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    path = "/products/acme-kettle-2/reviews"
    server.add(path, Reply.file(FIX / "kettle_page1.html", HTML))
    server.add(path, Reply.file(FIX / "kettle_page2.html", HTML), query={"page": "2"})
    collector = ReviewCollector(http, name="review:kettle", url=server.url(path), newest_first=True, max_pages=1)

    [page] = list(collector.sweep("2026-10-01"))
    saved = json.loads(page.next_cursor or "")
    assert saved == {"floor": "2026-10-01", "resume": server.url(path + "?page=2"), "ceiling": "2026-11-21"}

    [backlog] = list(collector.sweep(page.next_cursor))
    assert [m.author.handle for m in backlog.mentions] == ["Lee"]
    assert backlog.next_cursor == "2026-11-21"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 novembre 2018", date(2018, 11, 14)),
        ("Recensito in Italia il 3 gennaio 2019", date(2019, 1, 3)),
        ("Reviewed in the United States on March 3, 2021", date(2021, 3, 3)),
        ("Rezension aus Deutschland vom 3. März 2021", date(2021, 3, 3)),
        ("Commenté en France le 12 août 2020", date(2020, 8, 12)),
        ("Revisado en España el 5 de diciembre de 2022", date(2022, 12, 5)),
        ("2026-11-21", date(2026, 11, 21)),
    ],
)
def test_review_dates_in_the_storefront_languages(text: str, expected: date) -> None:
    assert parse_review_date(text) == expected


@pytest.mark.parametrize(
    ("value", "best", "expected"),
    [("4,5 su 5 stelle", 5, 4.5), ("9", "10", 4.5), (3, None, 3.0), ("80", "100", 4.0), ("n/a", 5, None)],
)
def test_ratings_are_normalised_to_five_stars(value: object, best: object, expected: float | None) -> None:
    assert normalise_rating(value, best) == expected


def test_a_review_corrected_by_its_author_keeps_its_id(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    original = Reply.file(FIX / "kettle_page1.html", HTML)
    corrected = original.rewritten({"Boils a litre in two minutes.": "Boils a litre in under two minutes."})
    server.add("/r1", original, corrected)
    collector = ReviewCollector(http, name="r", url=server.url("/r1"))

    before = next(collector.sweep(None)).mentions
    after = next(collector.sweep(None)).mentions

    assert before[0].text != after[0].text
    assert [m.external_id for m in before] == [m.external_id for m in after]


def test_the_same_author_and_day_on_two_products_are_two_reviews(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    server.add("/kettle", Reply.file(FIX / "kettle_page1.html", HTML))
    server.add("/toaster", Reply.file(FIX / "kettle_page1.html", HTML))

    kettle = next(ReviewCollector(http, name="k", url=server.url("/kettle")).sweep(None)).mentions
    toaster = next(ReviewCollector(http, name="t", url=server.url("/toaster")).sweep(None)).mentions

    assert not {m.external_id for m in kettle} & {m.external_id for m in toaster}


def test_the_pages_aggregate_rating_goes_with_the_first_page(server: ReplayServer, http: Http) -> None:
    serve_robots(server)
    path = "/products/acme-kettle-2/reviews"
    server.add(path, Reply.file(FIX / "kettle_page1.html", HTML))
    server.add(path, Reply.file(FIX / "kettle_page2.html", HTML), query={"page": "2"})

    first, second = list(ReviewCollector(http, name="review:kettle", url=server.url(path)).sweep(None))

    assert first.rating == RatingSeen(url=server.url(path), rating=3.8, count=127)
    assert second.rating is None


def test_newest_first_is_set_in_overheard_yaml() -> None:
    from listener.base import BuildContext
    from listener.normalise import Finishing
    from listener.reviews import ReviewSource, build

    source = ReviewSource(name="r", kind="review", pages=("https://shop.example/r",), newest_first=True)
    [collector] = build(source, BuildContext("r", Http(user_agent="t"), Finishing(), {}, lambda _: None))

    assert isinstance(collector, ReviewCollector) and collector.newest_first
