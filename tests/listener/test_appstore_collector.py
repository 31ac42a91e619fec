"""App Store reviews of the brand's apps through the App Store Connect API, against pages in the reference's shape
on 127.0.0.1, signed with a P-256 key made for the test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from listener.appstore import AppStoreCollector, AppStoreSource, AppStoreToken, AppStoreUsage, build
from listener.base import BuildContext, SourceError, SourceNotAvailable
from listener.cursor import Watermark
from listener.http import Http
from listener.normalise import Finishing
from tests.listener.replay import OWN_FIXTURES, FakeTime, ReplayServer, Reply

FIX = OWN_FIXTURES / "appstore"
REVIEWS = "/v1/apps/1234567890/customerReviews"
JSON = "application/json"
KEY_ID, ISSUER = "2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def first_page(server: ReplayServer) -> Reply:
    body = (FIX / "reviews_page1.json").read_text().replace("NEXT_PAGE", server.base_url)
    return Reply(
        200, (("Content-Type", JSON), ("X-Rate-Limit", "user-hour-lim:3600;user-hour-rem:3541;")), body.encode()
    )


def collector(server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey, **kwargs: Any) -> AppStoreCollector:
    token = AppStoreToken(http, private_key=pem(key), key_id=KEY_ID, issuer_id=ISSUER)
    return AppStoreCollector(
        http, name="appstore:1234567890", app_id="1234567890", token=token, base_url=server.base_url, **kwargs
    )


def test_reviews_become_rated_mentions_newest_first_across_pages(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey
) -> None:
    server.add(REVIEWS, first_page(server))
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON), query={"cursor": "Mg.AMnCBA0"})

    first, second = list(collector(server, http, key).sweep(None))

    angry, short = first.mentions
    assert angry.external_id == "appstore:00000029-2d1d-9b03-9d10-b56000000000"
    assert (angry.title, angry.text) == (
        "Logs me out",
        "Since the last update the Acme app logs me out every time I open it.",
    )
    assert (angry.rating, angry.author.handle, angry.source.value) == (1.0, "hoot-fan-77", "review")
    assert angry.created_at == datetime(2026, 12, 5, 17, 30, 12, tzinfo=UTC)
    assert angry.url == "https://apps.apple.com/app/id1234567890?see-all=reviews"
    assert (short.text, short.rating) == ("Super", 5.0), "a review with a title and no body keeps its title"
    [older] = second.mentions
    assert older.external_id.endswith("b56000000002")
    [asked, *_] = server.requests_to(REVIEWS)
    assert (asked.param("sort"), asked.param("limit")) == ("-createdDate", "200")
    assert Watermark.load(second.next_cursor).floor == "2026-12-05T09:30:12-08:00", "the newest review is the floor"


def test_each_request_carries_an_es256_token_apple_accepts(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey, fake_time: FakeTime
) -> None:
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON))
    list(collector(server, http, key).sweep(None))

    [request] = server.requests_to(REVIEWS)
    scheme, token = request.headers["authorization"].split(" ")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token, key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1", options={"verify_exp": False}
    )
    assert scheme == "Bearer" and (header["alg"], header["kid"], header["typ"]) == ("ES256", KEY_ID, "JWT")
    assert claims["iss"] == ISSUER and claims["iat"] == int(fake_time.now)
    assert claims["exp"] - claims["iat"] == 1200, "Apple refuses tokens valid for more than 20 minutes"


def test_the_token_is_made_anew_before_it_expires(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey, fake_time: FakeTime
) -> None:
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON))
    store = collector(server, http, key)
    list(store.sweep(None))
    list(store.sweep(None))
    fake_time.now += 1200 - 30
    list(store.sweep(None))

    tokens = [r.headers["authorization"] for r in server.requests_to(REVIEWS)]
    assert tokens[0] == tokens[1] != tokens[2]


def test_a_sweep_stops_at_the_floor_and_resumes_an_unfinished_backlog_from_the_next_page(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey
) -> None:
    server.add(REVIEWS, first_page(server))
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON), query={"cursor": "Mg.AMnCBA0"})
    store = collector(server, http, key, max_pages=1)

    [page] = list(store.sweep("2026-11-30T00:00:00Z"))  # stored up to 30 November; only one page per sweep
    assert len(page.mentions) == 2
    mark = Watermark.load(page.next_cursor)
    assert mark.resume and "cursor=Mg.AMnCBA0" in mark.resume, "the next page is where the backlog resumes"

    [rest] = list(store.sweep(page.next_cursor))
    assert [m.external_id[-1] for m in rest.mentions] == ["2"]
    assert Watermark.load(rest.next_cursor) == Watermark(floor="2026-12-05T09:30:12-08:00")

    [caught_up] = list(store.sweep(rest.next_cursor))
    assert [m.external_id[-1] for m in caught_up.mentions] == ["0"], "only the review at the floor is read again"
    assert len(server.requests_to(REVIEWS)) == 3, "an older review ends the sweep: no next page is asked for"


def test_the_hourly_allowance_apple_states_is_the_sources_quota(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey
) -> None:
    server.add(REVIEWS, first_page(server))
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON), query={"cursor": "Mg.AMnCBA0"})
    store = collector(server, http, key, usage=AppStoreUsage(http, source="appstore"))
    list(store.sweep(None))

    quota = store.quota()
    assert quota is not None
    assert (quota.unit, quota.used, quota.cap) == ("requests/hour", 59, 3600)
    assert "59 of 3,600 requests/hour" in quota.describe()


def test_before_any_sweep_the_quota_asks_apple_once_for_the_allowance(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey
) -> None:
    allowance = (("Content-Type", JSON), ("X-Rate-Limit", "user-hour-lim:3600;user-hour-rem:3599;"))
    server.add("/v1/apps/1234567890", Reply(200, allowance, b'{"data": {"type": "apps", "id": "1234567890"}}'))
    store = collector(server, http, key, usage=AppStoreUsage(http, source="appstore"))

    quota = store.quota()

    assert quota is not None and (quota.used, quota.cap) == (1, 3600)
    [asked] = server.requests_to("/v1/apps/1234567890")
    assert asked.param("fields[apps]") == "bundleId" and asked.headers["authorization"].startswith("Bearer ")


def test_a_key_whose_role_may_not_read_reviews_says_which_roles_may(
    server: ReplayServer, http: Http, key: ec.EllipticCurvePrivateKey
) -> None:
    server.add(REVIEWS, Reply.file(FIX / "forbidden.json", JSON, status=403))
    with pytest.raises(SourceError, match=r"HTTP 403 .*Customer Support, App Manager or Admin"):
        list(collector(server, http, key).sweep(None))


def test_the_builder_names_the_missing_key_and_refuses_a_key_that_is_not_p256(key: ec.EllipticCurvePrivateKey) -> None:
    source = AppStoreSource(name="appstore", kind="appstore", apps=("1234567890",), key_id=KEY_ID, issuer_id=ISSUER)
    nothing = BuildContext("appstore", Http(user_agent="t"), Finishing(), {}, {}.get)
    with pytest.raises(SourceNotAvailable, match="OVERHEARD_APP_STORE_PRIVATE_KEY"):
        build(source, nothing)

    rsa_key = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    wrong = BuildContext(
        "appstore", Http(user_agent="t"), Finishing(), {}, {"OVERHEARD_APP_STORE_PRIVATE_KEY": rsa_key}.get
    )
    with pytest.raises(ValueError, match="OVERHEARD_APP_STORE_PRIVATE_KEY holds a key that is not EC P-256"):
        build(source, wrong)

    escaped = pem(key).replace("\n", "\\n")  # a key pasted into one line of an env file
    right = BuildContext(
        "appstore", Http(user_agent="t"), Finishing(), {}, {"OVERHEARD_APP_STORE_PRIVATE_KEY": escaped}.get
    )
    [one] = build(source, right)
    assert one.name == "appstore:1234567890"
