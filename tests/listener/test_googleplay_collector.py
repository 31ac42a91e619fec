"""Google Play reviews of the brand's apps, and replies, against pages in the reference's shape on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from listener.base import BuildContext, SourceError, SourceNotAvailable
from listener.googleplay import GoogleOAuthToken, GooglePlayCollector, GooglePlaySource, build
from listener.http import Http
from listener.normalise import Finishing
from tests.listener.replay import OWN_FIXTURES, FakeTime, ReplayServer, Reply

FIX = OWN_FIXTURES / "googleplay"
REVIEWS = "/androidpublisher/v3/applications/com.acme.app/reviews"
JSON = "application/json; charset=UTF-8"


def collector(server: ReplayServer, http: Http) -> GooglePlayCollector:
    server.add("/token", Reply.file(FIX / "token.json", JSON), method="POST")
    token = GoogleOAuthToken(
        http, client_id="cid", client_secret="cs", refresh_token="rt-1", token_url=server.url("/token")
    )
    return GooglePlayCollector(
        http, name="play:com.acme.app", package="com.acme.app", token=token, base_url=server.base_url
    )


def test_reviews_of_the_last_week_become_rated_mentions_across_pages(server: ReplayServer, http: Http) -> None:
    server.add(REVIEWS, Reply.file(FIX / "reviews_page1.json", JSON))
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON), query={"token": "Cg8IsJ2s5_gxEgdnLV9hYmNk"})

    first, second = list(collector(server, http).sweep(None))

    dana, anonymous = first.mentions
    assert dana.external_id == "googleplay:gp:AOqpTOGkNZH7IcnXbaWBzvx0p3ZJ7lKJa1sdK2o0yM6N8Yb2"
    assert dana.text == "The Acme app logs me out every time I switch accounts. Please fix!"
    assert (dana.rating, dana.language, dana.engagement.likes) == (2.0, "en", 7)
    assert dana.created_at == datetime.fromtimestamp(1796486400, tz=UTC)
    assert dana.url == (
        "https://play.google.com/store/apps/details?id=com.acme.app&reviewId=gp%3AAOqpTOGkNZH7IcnXbaWBzvx0p3ZJ7lKJa1sdK2o0yM6N8Yb2"
    )
    assert (anonymous.author.handle, anonymous.rating) == ("anonymous", 5.0)
    assert second.mentions == [] and [r.reason for r in second.rejected] == ["ValueError: review has no text"]
    assert all(p.next_cursor is None for p in (first, second))  # the API's window is the last week: read it whole
    requests = server.requests_to(REVIEWS)
    assert {r.headers["authorization"] for r in requests} == {"Bearer ya29.test-access-token"}
    assert requests[0].param("maxResults") == "100"


def test_the_access_token_is_renewed_from_the_refresh_token_before_it_expires(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    server.add(REVIEWS, Reply.file(FIX / "reviews_page2.json", JSON))
    play = collector(server, http)

    list(play.sweep(None))
    list(play.sweep(None))
    fake_time.now += 3599 - 60
    list(play.sweep(None))

    grants = server.requests_to("/token")
    assert len(grants) == 2
    assert b"grant_type=refresh_token" in grants[0].body and b"refresh_token=rt-1" in grants[0].body


def test_a_revoked_refresh_token_says_what_to_do(server: ReplayServer, http: Http) -> None:
    server.add("/token", Reply.file(FIX / "token_refused.json", JSON, status=400), method="POST")
    token = GoogleOAuthToken(
        http, client_id="c", client_secret="s", refresh_token="old", token_url=server.url("/token")
    )
    play = GooglePlayCollector(http, name="play", package="com.acme.app", token=token, base_url=server.base_url)

    with pytest.raises(SourceError, match=r"expired or revoked.*new one"):
        list(play.sweep(None))


def test_the_builder_names_each_missing_credential() -> None:
    context = BuildContext("play", Http(user_agent="t"), Finishing(), {}, {"OVERHEARD_GOOGLE_CLIENT_ID": "c"}.get)
    with pytest.raises(SourceNotAvailable, match="OVERHEARD_GOOGLE_CLIENT_SECRET"):
        build(GooglePlaySource(name="play", kind="googleplay", apps=("com.acme.app",)), context)
