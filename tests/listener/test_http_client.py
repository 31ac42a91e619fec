"""The polite HTTP layer: retries, rate limits, caps, content types, robots.txt and the SSRF guard."""

from __future__ import annotations

import ipaddress

import pytest

from listener.http import (
    AddressGuard,
    AddressRefused,
    Http,
    HttpError,
    HttpStatusError,
    RateLimited,
    RobotsDisallowed,
    TooLarge,
    UnexpectedContentType,
    rate_limit_wait,
)
from tests.listener.replay import OWN_FIXTURES, FakeTime, ReplayServer, Reply

FIX = OWN_FIXTURES / "http"
JSON = "application/json; charset=utf-8"


def ok_json() -> Reply:
    return Reply.file(FIX / "ok.json", JSON)


def test_get_json_sends_identifying_user_agent_and_parses_body(server: ReplayServer, http: Http) -> None:
    server.add("/api", ok_json())

    assert http.get_json(server.url("/api")) == {"ok": True, "items": [1, 2, 3]}
    assert server.seen[0].headers["user-agent"] == "OverheardBot/0.1 (+tests)"


def test_server_errors_are_retried_with_growing_backoff(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    server.add("/api", Reply(503), Reply(502), Reply(500), ok_json())

    assert http.get_json(server.url("/api"))["ok"] is True
    assert len(server.seen) == 4
    backoffs = fake_time.sleeps
    assert len(backoffs) == 3
    assert backoffs[0] < backoffs[2]  # exponential: ~1 s, ~2 s, ~4 s plus jitter


def test_a_5xx_storm_gives_up_after_max_attempts_with_a_clear_error(server: ReplayServer, http: Http) -> None:
    server.add("/api", Reply(503))

    with pytest.raises(HttpStatusError, match=r"HTTP 503.*gave up after 5 attempts") as caught:
        http.get_json(server.url("/api"))
    assert caught.value.status == 503
    assert len(server.seen) == 5


def test_429_waits_what_retry_after_says(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    server.add("/api", Reply(429, (("Retry-After", "7"),)), ok_json())

    http.get_json(server.url("/api"))

    # The retry's jitter is spent inside the 7 s the host asked for, so the total is the Retry-After.
    assert sum(fake_time.sleeps) == pytest.approx(7, abs=1e-3)


def test_spent_rate_limit_waits_for_the_platform_reset_before_the_next_request(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    reset_at = int(fake_time.now) + 30
    spent = ok_json().with_headers(**{"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset_at)})
    server.add("/api", spent, ok_json())

    http.get_json(server.url("/api"))
    assert fake_time.sleeps == []
    http.get_json(server.url("/api"))

    assert fake_time.now >= reset_at


def test_rate_limit_resetting_too_far_ahead_fails_fast_instead_of_sleeping(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    server.add("/api", Reply(429, (("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "900"))))

    with pytest.raises(RateLimited) as caught:
        http.get_json(server.url("/api"))
    assert caught.value.reset_in_s == pytest.approx(900)
    assert len(server.seen) == 1
    assert sum(fake_time.sleeps) < 120


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1000000060"}, 60.0),  # X: epoch seconds
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2001-09-09T01:47:10Z"}, 30.0),  # Mastodon: ISO
        ({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "42"}, 42.0),  # Reddit: seconds from now
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "1000000010"}, 10.0),  # Bluesky: epoch seconds
        ({"Retry-After": "Sun, 09 Sep 2001 01:47:20 GMT"}, 40.0),  # HTTP date
        ({"x-rate-limit-remaining": "12", "x-rate-limit-reset": "1000000060"}, None),  # budget left
    ],
)
def test_rate_limit_headers_of_each_platform_are_read(headers: dict[str, str], expected: float | None) -> None:
    assert rate_limit_wait(headers, now=1_000_000_000.0) == (pytest.approx(expected) if expected else None)


def test_declared_oversized_body_is_refused(server: ReplayServer, fake_time: FakeTime) -> None:
    small = Http(allow_networks=("127.0.0.1/32",), max_body_bytes=10, min_interval_s=0, sleep=fake_time.sleep)
    server.add("/api", ok_json())

    with pytest.raises(TooLarge, match="over the 10-byte cap"):
        small.get_json(server.url("/api"))


def test_truncated_body_is_retried_then_reported(server: ReplayServer, http: Http) -> None:
    truncated = Reply(200, (("Content-Type", JSON), ("Content-Length", "500"), ("Connection", "close")), b'{"ok": tr')
    server.add("/api", truncated)

    with pytest.raises(HttpStatusError, match="body truncated"):
        http.get_json(server.url("/api"))
    assert len(server.seen) == 5


def test_html_where_json_was_expected_is_refused_by_content_type(server: ReplayServer, http: Http) -> None:
    server.add("/api", Reply.file(FIX / "page.html", "text/html"))

    with pytest.raises(UnexpectedContentType, match="text/html is not one of application/json"):
        http.get_json(server.url("/api"))


def test_malformed_json_names_the_url_and_position(server: ReplayServer, http: Http) -> None:
    server.add("/api", Reply.file(FIX / "malformed.json", JSON))

    with pytest.raises(HttpError, match=r"/api: malformed JSON: .* line 1"):
        http.get_json(server.url("/api"))


def test_invalid_utf8_is_reported_not_guessed(server: ReplayServer, http: Http) -> None:
    server.add("/api", Reply.file(FIX / "latin1.json", JSON))

    with pytest.raises(HttpError, match="not valid UTF-8 at byte 13"):
        http.get_json(server.url("/api"))


def test_final_client_error_is_not_retried(server: ReplayServer, http: Http) -> None:
    server.add("/api", Reply(401, (("Content-Type", JSON),), b'{"error": "expired token"}'))

    with pytest.raises(HttpStatusError, match="HTTP 401") as caught:
        http.get_json(server.url("/api"))
    assert caught.value.status == 401
    assert len(server.seen) == 1


# --- SSRF guard ---


def test_loopback_is_refused_unless_explicitly_allowed(server: ReplayServer, fake_time: FakeTime) -> None:
    server.add("/api", ok_json())
    strict = Http(min_interval_s=0, sleep=fake_time.sleep)

    with pytest.raises(AddressRefused, match=r"non-public address 127\.0\.0\.1"):
        strict.get_json(server.url("/api"))
    assert server.seen == []


def test_host_names_are_checked_after_dns_resolution(server: ReplayServer, fake_time: FakeTime) -> None:
    strict = Http(min_interval_s=0, sleep=fake_time.sleep)
    port = server.base_url.rsplit(":", 1)[1]

    with pytest.raises(AddressRefused, match="localhost resolves to non-public address"):
        strict.get(f"http://localhost:{port}/api")


def test_redirect_to_a_forbidden_address_is_refused(server: ReplayServer, http: Http) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    # 127.0.0.2 is loopback too, but only 127.0.0.1/32 is allowed for the test server.
    server.add("/go", Reply(302, (("Location", f"http://127.0.0.2:{port}/api"),)))

    with pytest.raises(AddressRefused, match=r"127\.0\.0\.2"):
        http.get(server.url("/go"))
    assert [s.path for s in server.seen] == ["/go"]


def test_redirects_within_allowed_addresses_are_followed(server: ReplayServer, http: Http) -> None:
    server.add("/go", Reply(301, (("Location", "/api"),)))
    server.add("/api", ok_json())

    assert http.get_json(server.url("/go"))["ok"] is True


@pytest.mark.parametrize("location", ["http://[not-an-address/x", "http://exa mple.com:99999/", "http://:80/x"])
def test_a_redirect_to_an_invalid_location_is_our_own_error_naming_it(
    server: ReplayServer, http: Http, location: str
) -> None:
    server.add("/go", Reply(302, (("Location", location),)))

    with pytest.raises(HttpError, match="redirect"):
        http.get(server.url("/go"))


def test_non_http_schemes_are_refused(http: Http) -> None:
    with pytest.raises(HttpError, match="only http and https"):
        http.get("file:///etc/passwd")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "169.254.169.254",  # cloud metadata
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::7f00:1",  # IPv4-compatible form of 127.0.0.1 (deprecated, still routed by some stacks)
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "::ffff:0:7f00:1",  # SIIT (RFC 7915) IPv4-translated 127.0.0.1
        "::ffff:0:a00:1",  # SIIT 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix (RFC 8215)
    ],
)
def test_guard_refuses_internal_addresses(address: str) -> None:
    assert not AddressGuard().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_guard_permits_public_addresses(address: str) -> None:
    assert AddressGuard().permits(ipaddress.ip_address(address))


# --- robots.txt ---


def robots_reply() -> Reply:
    return Reply.file(FIX / "robots.txt", "text/plain")


def test_robots_disallowed_page_is_not_fetched(server: ReplayServer, http: Http) -> None:
    server.add("/robots.txt", robots_reply())
    server.add("/private/notes.html", Reply.file(FIX / "page.html", "text/html"))

    with pytest.raises(RobotsDisallowed, match=r"robots\.txt disallows"):
        http.get(server.url("/private/notes.html"), robots=True)
    assert server.requests_to("/private/notes.html") == []


def test_robots_is_fetched_once_and_cached_at_most_a_day(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    server.add("/robots.txt", robots_reply())
    server.add("/private/reviews/1.html", Reply.file(FIX / "page.html", "text/html"))

    http.get(server.url("/private/reviews/1.html"), robots=True)
    http.get(server.url("/private/reviews/1.html"), robots=True)
    assert len(server.requests_to("/robots.txt")) == 1

    fake_time.now += 24 * 3600
    http.get(server.url("/private/reviews/1.html"), robots=True)
    assert len(server.requests_to("/robots.txt")) == 2


def test_missing_robots_allows_everything(server: ReplayServer, http: Http) -> None:
    server.add("/robots.txt", Reply(404))
    server.add("/private/notes.html", Reply.file(FIX / "page.html", "text/html"))

    assert http.get(server.url("/private/notes.html"), robots=True).status_code == 200


def test_unreachable_robots_disallows_everything(server: ReplayServer, http: Http) -> None:
    server.add("/robots.txt", Reply(503))

    with pytest.raises(RobotsDisallowed):
        http.get(server.url("/reviews.html"), robots=True)


def test_oversized_robots_is_read_up_to_its_first_500_kib(server: ReplayServer, http: Http) -> None:
    # RFC 9309 2.5: rules past the first 500 KiB may be ignored; a huge robots.txt is not an error.
    padding = b"#" * (600 * 1024) + b"\nUser-agent: *\nDisallow: /late/\n"
    server.add("/robots.txt", Reply(200, (("Content-Type", "text/plain"),), robots_reply().body + padding))
    server.add("/late/page.html", Reply.file(FIX / "page.html", "text/html"))

    assert http.get(server.url("/late/page.html"), robots=True).status_code == 200
    with pytest.raises(RobotsDisallowed):
        http.get(server.url("/private/notes.html"), robots=True)
