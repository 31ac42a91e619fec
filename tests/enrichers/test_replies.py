"""Replying where the customer spoke, against a real local server replaying responses recorded from each platform
(tests/fixtures/recorded/<platform>_reply/, see each SOURCE.md)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enrichers.replies import (
    MissingSecret,
    ReplyAccount,
    ReplyCredentials,
    ThreadRef,
    can_reply,
    credentials_for,
    reply_client,
    reply_cost,
    send_reply,
)
from enrichers.replies.bluesky import reply_record
from listener.mention import Author, Mention, Platform, ReplyRef
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, ReplayServer, Reply

RECORDED = RECORDED_FIXTURES
SECRET = "s3cret-token"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here leaves 127.0.0.1: resolving any other name fails loudly instead of going online."""
    real = socket.getaddrinfo

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(f"test tried to reach {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


def account(platform: str, server: ReplayServer, **extra: Any) -> ReplyCredentials:
    made = ReplyAccount.model_validate(
        {"platform": platform, "secret_env": "REPLY_SECRET", "base_url": server.base_url, **extra}
    )
    found = credentials_for(made, {"REPLY_SECRET": SECRET})
    assert isinstance(found, ReplyCredentials)
    return found


def form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode()).items()}


def mention(source: Platform, external_id: str, **extra: Any) -> Mention:
    return Mention(
        source=source,
        external_id=external_id,
        author=Author(handle="customer"),
        text="my hub is offline",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        **extra,
    )


# ---- Mastodon -------------------------------------------------------------------------------------------------


def test_mastodon_reply_read_on_our_instance_posts_in_reply_to_the_kept_status_id(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/api/v1/statuses", Reply.recorded(RECORDED / "mastodon_reply/post_status"), method="POST")
    host = server.base_url.removeprefix("http://")
    thread = ThreadRef.of(
        mention(
            Platform.mastodon,
            "https://example.social/users/customer/statuses/117020583245459824",
            reply_ref=ReplyRef(status_id="117020583245459824", instance=host),
        )
    )

    result = send_reply(thread, "Sorry about that! A fix is rolling out.", account("mastodon", server), client, "key-1")

    assert result.sent and result.reason is None and result.draft is None
    assert result.post_id == "117020583258292382"
    assert result.url == "http://localhost:3000/@admin/117020583258292382"
    assert not server.requests_to("/api/v2/search")  # the kept id is valid here: no lookup
    [posted] = server.requests_to("/api/v1/statuses")
    assert form(posted.body) == {
        "status": "Sorry about that! A fix is rolling out.",
        "in_reply_to_id": "117020583245459824",
    }
    assert posted.headers["authorization"] == f"Bearer {SECRET}"
    assert posted.headers["idempotency-key"] == "key-1"


def test_mastodon_reply_to_a_remote_post_resolves_its_local_id_first(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/api/v2/search", Reply.recorded(RECORDED / "mastodon_reply/search_by_url"))
    server.add("/api/v1/statuses", Reply.recorded(RECORDED / "mastodon_reply/post_status"), method="POST")
    thread = ThreadRef.of(
        mention(
            Platform.mastodon,
            "tag:botsin.space,2017-04-05:objectId=778:objectType=Status",
            url="https://botsin.space/@loveletter/778",
            reply_ref=ReplyRef(status_id="99999", instance="another.instance"),  # an id on another instance
        )
    )

    result = send_reply(thread, "Thanks for the kind words!", account("mastodon", server), client)

    assert result.sent
    [search] = server.requests_to("/api/v2/search")
    assert (search.param("q"), search.param("resolve"), search.param("type")) == (
        "https://botsin.space/@loveletter/778",
        "true",
        "statuses",
    )
    [posted] = server.requests_to("/api/v1/statuses")
    assert form(posted.body)["in_reply_to_id"] == "778"  # the id the recorded server gave (as a number)


def test_mastodon_refusal_says_what_the_server_said_and_keeps_the_draft(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/api/v1/statuses", Reply.recorded(RECORDED / "mastodon_reply/create_status_no_text"), method="POST")
    host = server.base_url.removeprefix("http://")
    thread = ThreadRef.of(mention(Platform.mastodon, "uri", reply_ref=ReplyRef(status_id="1", instance=host)))

    result = send_reply(thread, "a draft worth keeping", account("mastodon", server), client)

    assert not result.sent and result.post_id is None
    assert result.status_code == 422
    assert result.reason == "Mastodon refused the reply (HTTP 422: Validation failed: Text can't be blank)"
    assert result.draft == "a draft worth keeping"


def test_mastodon_post_the_instance_cannot_find_fails_without_posting(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/api/v2/search", Reply(200, (("Content-Type", "application/json"),), b'{"accounts":[],"statuses":[]}'))
    thread = ThreadRef.of(mention(Platform.mastodon, "https://gone.example/users/a/statuses/1"))

    result = send_reply(thread, "hello", account("mastodon", server), client)

    assert not result.sent and result.draft == "hello"
    assert result.reason is not None and "could not find the post" in result.reason
    assert not server.requests_to("/api/v1/statuses")


# ---- Bluesky --------------------------------------------------------------------------------------------------

PARENT = "at://did:plc:customer/app.bsky.feed.post/3kexwuoyqj32g"
ROOT = "at://did:plc:someone/app.bsky.feed.post/3kroot"


def bluesky_thread() -> ThreadRef:
    return ThreadRef.of(
        mention(
            Platform.bluesky,
            PARENT,
            reply_ref=ReplyRef(
                cid="bafyreid4i763c2iyr6adhmgriiisz2p7gleztu7tn66pfrl3qhe4hgoyny", root_uri=ROOT, root_cid="bafyroot"
            ),
        )
    )


def test_bluesky_reply_signs_in_and_writes_a_post_naming_root_and_parent(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add(
        "/xrpc/com.atproto.server.createSession",
        Reply.recorded(RECORDED / "bluesky_reply/create_session"),
        method="POST",
    )
    server.add(
        "/xrpc/com.atproto.repo.createRecord", Reply.recorded(RECORDED / "bluesky_reply/create_record"), method="POST"
    )

    result = send_reply(
        bluesky_thread(), "We're on it.", account("bluesky", server, handle="lumora.bsky.social"), client
    )

    assert result.sent
    assert result.post_id == "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3lprdue7ggw26"
    assert result.url == "https://bsky.app/profile/did:plc:5c2r73erhng4bszmxlfdtscf/post/3lprdue7ggw26"
    [login] = server.requests_to("/xrpc/com.atproto.server.createSession")
    assert json.loads(login.body) == {"identifier": "lumora.bsky.social", "password": SECRET}
    [created] = server.requests_to("/xrpc/com.atproto.repo.createRecord")
    assert created.headers["authorization"] == "Bearer <ACCESS_JWT>"  # the token the session gave
    sent = json.loads(created.body)
    assert sent["repo"] == "did:plc:5c2r73erhng4bszmxlfdtscf" and sent["collection"] == "app.bsky.feed.post"
    assert sent["record"]["text"] == "We're on it."
    assert sent["record"]["reply"] == {
        "root": {"uri": ROOT, "cid": "bafyroot"},
        "parent": {"uri": PARENT, "cid": "bafyreid4i763c2iyr6adhmgriiisz2p7gleztu7tn66pfrl3qhe4hgoyny"},
    }


def test_bluesky_refusal_keeps_the_draft_with_the_servers_reason(server: ReplayServer, client: httpx.Client) -> None:
    server.add(
        "/xrpc/com.atproto.server.createSession",
        Reply.recorded(RECORDED / "bluesky_reply/create_session"),
        method="POST",
    )
    server.add(
        "/xrpc/com.atproto.repo.createRecord",
        Reply.recorded(RECORDED / "bluesky_reply/create_record_too_long"),
        method="POST",
    )

    result = send_reply(bluesky_thread(), "x" * 301, account("bluesky", server, handle="lumora.bsky.social"), client)

    assert not result.sent and result.draft == "x" * 301 and result.status_code == 400
    assert result.reason == (
        "Bluesky refused the reply (HTTP 400: InvalidRequest: Invalid app.bsky.feed.post record: "
        "Record/text must not be longer than 300 graphemes)"
    )


def test_a_top_level_bluesky_post_is_its_own_root_and_a_post_without_cid_cannot_be_answered() -> None:
    own = ThreadRef.of(mention(Platform.bluesky, PARENT, reply_ref=ReplyRef(cid="bafyparent")))
    record = reply_record(own, "hi", datetime(2026, 11, 20, tzinfo=UTC))
    assert isinstance(record, dict)
    assert record["reply"]["root"] == record["reply"]["parent"] == {"uri": PARENT, "cid": "bafyparent"}
    assert record["createdAt"] == "2026-11-20T00:00:00Z"

    problem = reply_record(ThreadRef.of(mention(Platform.bluesky, PARENT)), "hi", datetime(2026, 11, 20, tzinfo=UTC))
    assert isinstance(problem, str) and "cid" in problem


# ---- X --------------------------------------------------------------------------------------------------------


def test_x_reply_posts_in_reply_to_the_tweet_under_the_user_token(server: ReplayServer, client: httpx.Client) -> None:
    server.add("/2/tweets", Reply.recorded(RECORDED / "x_reply/post_tweet"), method="POST")
    thread = ThreadRef.of(mention(Platform.x, "2120806265388088886"))

    result = send_reply(thread, "Please DM us your order number.", account("x", server), client)

    assert result.sent and result.post_id == "1456012973835788293" and result.status_code == 201
    assert result.url == "https://x.com/i/web/status/1456012973835788293"
    [posted] = server.requests_to("/2/tweets")
    assert posted.headers["authorization"] == f"Bearer {SECRET}"
    assert json.loads(posted.body) == {
        "text": "Please DM us your order number.",
        "reply": {"in_reply_to_tweet_id": "2120806265388088886"},
    }


def test_x_refusal_keeps_the_draft_with_xs_detail(server: ReplayServer, client: httpx.Client) -> None:
    server.add("/2/tweets", Reply.recorded(RECORDED / "x_reply/invalid_request"), method="POST")

    result = send_reply(ThreadRef.of(mention(Platform.x, "1")), "draft", account("x", server), client)

    assert not result.sent and result.draft == "draft" and result.status_code == 400
    assert result.reason == "X refused the reply (HTTP 400: The 'query' parameter is required.)"


def test_x_shows_its_per_post_cost_before_sending_and_other_platforms_are_free(server: ReplayServer) -> None:
    paid = ReplyAccount(platform="x", secret_env="X_TOKEN", cost_per_post="0.015")
    assert str(reply_cost(paid)) == "0.015 USD per post"
    free = ReplyAccount(platform="reddit", secret_env="R", cost_per_post="1")  # a cost on a free platform is ignored
    assert str(reply_cost(free)) == "free"


# ---- Reddit ---------------------------------------------------------------------------------------------------


def test_reddit_reply_comments_on_the_thing_by_fullname(server: ReplayServer, client: httpx.Client) -> None:
    server.add("/api/comment", Reply.recorded(RECORDED / "reddit_reply/comment"), method="POST")
    thread = ThreadRef.of(mention(Platform.reddit, "t1_d1616q2"))

    result = send_reply(thread, "Comment reply", account("reddit", server, user_agent="lumora-care/1.0"), client)

    assert result.sent and result.post_id == "t1_d1680wu"
    [posted] = server.requests_to("/api/comment")
    assert form(posted.body) == {"api_type": "json", "thing_id": "t1_d1616q2", "text": "Comment reply"}
    assert posted.headers["authorization"] == f"bearer {SECRET}"
    assert posted.headers["user-agent"] == "lumora-care/1.0"


def test_reddit_answer_without_a_comment_is_a_failure_that_keeps_the_draft(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/api/comment", Reply.recorded(RECORDED / "reddit_reply/comment_none"), method="POST")

    result = send_reply(ThreadRef.of(mention(Platform.reddit, "t1_eear2ml")), "TEST", account("reddit", server), client)

    assert not result.sent and result.draft == "TEST"
    assert result.reason == "Reddit posted no comment under t1_eear2ml: the post may be deleted, locked or archived"


def test_reddit_errors_in_a_200_answer_are_a_refusal(server: ReplayServer, client: httpx.Client) -> None:
    body = b'{"json": {"errors": [["THREAD_LOCKED", "that thread is locked", "parent"]]}}'
    server.add("/api/comment", Reply(200, (("Content-Type", "application/json"),), body), method="POST")

    result = send_reply(ThreadRef.of(mention(Platform.reddit, "t3_x")), "hi", account("reddit", server), client)

    assert not result.sent and result.reason == "Reddit refused the reply: THREAD_LOCKED: that thread is locked"


# ---- Google Play and App Store reviews --------------------------------------------------------------------------

PLAY = OWN_FIXTURES / "googleplay"
APPLE = OWN_FIXTURES / "appstore"
PLAY_REVIEW = "gp:AOqpTOGkNZH7IcnXbaWBzvx0p3ZJ7lKJa1sdK2o0yM6N8Yb2"
PLAY_URL = f"https://play.google.com/store/apps/details?id=com.acme.app&reviewId={PLAY_REVIEW}"
PLAY_REPLY = f"/androidpublisher/v3/applications/com.acme.app/reviews/{PLAY_REVIEW.replace(':', '%3A')}:reply"


def play_account(server: ReplayServer, environ: dict[str, str] | None = None) -> ReplyCredentials | MissingSecret:
    made = ReplyAccount(
        platform="googleplay",
        secret_env="PLAY_REFRESH",
        client_id_env="PLAY_CLIENT",
        client_secret_env="PLAY_CLIENT_SECRET",
        base_url=server.base_url,
        token_url=server.url("/token"),
    )
    found = {"PLAY_REFRESH": "rt-1", "PLAY_CLIENT": "cid", "PLAY_CLIENT_SECRET": "cs"} if environ is None else environ
    return credentials_for(made, found)


def test_a_google_play_review_is_answered_with_an_access_token_from_the_refresh_token(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/token", Reply.file(PLAY / "token.json", "application/json"), method="POST")
    server.add(PLAY_REPLY, Reply.file(PLAY / "reply.json", "application/json"), method="POST")
    thread = ThreadRef.of(mention(Platform.review, f"googleplay:{PLAY_REVIEW}", url=PLAY_URL))

    result = send_reply(thread, "Thanks for telling us: 4.10.3 fixes the logout.", play_account(server), client)

    assert result.sent and result.platform == "googleplay" and result.url == PLAY_URL
    [grant] = server.requests_to("/token")
    assert form(grant.body) == {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "rt-1",
    }
    [posted] = server.requests_to(PLAY_REPLY)
    assert json.loads(posted.body) == {"replyText": "Thanks for telling us: 4.10.3 fixes the logout."}
    assert posted.headers["authorization"] == "Bearer ya29.test-access-token"


def test_a_revoked_google_refresh_token_says_to_authorise_again_and_keeps_the_draft(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/token", Reply.file(PLAY / "token_refused.json", "application/json", status=400), method="POST")
    thread = ThreadRef.of(mention(Platform.review, f"googleplay:{PLAY_REVIEW}", url=PLAY_URL))

    result = send_reply(thread, "Thanks!", play_account(server), client)

    assert not result.sent and result.draft == "Thanks!"
    assert "Google refused the refresh token in PLAY_REFRESH (Token has been expired or revoked.)" in (
        result.reason or ""
    )
    assert not server.requests_to(PLAY_REPLY)


def test_a_google_play_reply_past_350_characters_or_without_its_client_is_not_sent(
    server: ReplayServer, client: httpx.Client
) -> None:
    thread = ThreadRef.of(mention(Platform.review, f"googleplay:{PLAY_REVIEW}", url=PLAY_URL))
    too_long = send_reply(thread, "x" * 351, play_account(server), client)
    assert not too_long.sent and "at most 350 characters" in (too_long.reason or "")

    missing = play_account(server, {"PLAY_REFRESH": "rt-1", "PLAY_CLIENT": "cid"})
    assert isinstance(missing, MissingSecret) and "PLAY_CLIENT_SECRET" in missing.reason
    with pytest.raises(ValueError, match="client_id_env and client_secret_env"):
        ReplyAccount(platform="googleplay", secret_env="PLAY_REFRESH")
    assert not server.seen


def test_an_app_store_review_is_answered_with_a_response_signed_by_the_teams_key(
    server: ReplayServer, client: httpx.Client
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    server.add(
        "/v1/customerReviewResponses",
        Reply.file(APPLE / "response_created.json", "application/json", status=201),
        method="POST",
    )
    made = ReplyAccount(
        platform="appstore", secret_env="ASC_KEY", key_id="2X9R4HXF34", issuer_id="issuer-1", base_url=server.base_url
    )
    credentials = credentials_for(made, {"ASC_KEY": pem})
    thread = ThreadRef.of(mention(Platform.review, "appstore:00000029-2d1d-9b03-9d10-b56000000000"))

    result = send_reply(thread, "Sorry about that! Version 4.10.3 fixes the logout.", credentials, client)

    assert result.sent and (result.platform, result.post_id) == ("appstore", "6b1f1a0e-3c5d-4f7a-9b2e-0c1d2e3f4a5b")
    [posted] = server.requests_to("/v1/customerReviewResponses")
    assert json.loads(posted.body) == {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": "Sorry about that! Version 4.10.3 fixes the logout."},
            "relationships": {
                "review": {"data": {"type": "customerReviews", "id": "00000029-2d1d-9b03-9d10-b56000000000"}}
            },
        }
    }
    token = posted.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1")
    assert claims["iss"] == "issuer-1" and jwt.get_unverified_header(token)["kid"] == "2X9R4HXF34"


def test_an_app_store_key_role_that_may_not_answer_is_a_reason_and_a_kept_draft(
    server: ReplayServer, client: httpx.Client
) -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    server.add(
        "/v1/customerReviewResponses",
        Reply.file(APPLE / "forbidden.json", "application/json", status=403),
        method="POST",
    )
    made = ReplyAccount(platform="appstore", secret_env="ASC_KEY", key_id="K", issuer_id="I", base_url=server.base_url)
    thread = ThreadRef.of(mention(Platform.review, "appstore:1"))

    result = send_reply(thread, "Thanks!", credentials_for(made, {"ASC_KEY": pem}), client)
    assert not result.sent and result.draft == "Thanks!" and result.status_code == 403
    assert "App Store Connect does not allow this reply" in (result.reason or "")
    assert "The API key in use does not allow this request" in (result.reason or "")

    broken = send_reply(thread, "Thanks!", credentials_for(made, {"ASC_KEY": "not a key"}), client)
    assert not broken.sent and "ASC_KEY does not hold a readable private key" in (broken.reason or "")


# ---- what every platform shares -------------------------------------------------------------------------------


def test_only_platforms_with_a_reply_api_can_be_answered() -> None:
    assert [p.value for p in Platform if can_reply(p.value)] == ["x", "mastodon", "reddit", "bluesky"]
    assert not can_reply("rss") and not can_reply("review") and not can_reply("hackernews")
    assert can_reply("review", "googleplay:gp:AOqp") and can_reply("review", "appstore:00000029")
    assert not can_reply("review", "https://shop.example/p/1#review-3"), "a review page takes no reply"


def test_a_feed_item_gets_no_reply_and_no_request(client: httpx.Client) -> None:
    thread = ThreadRef.of(mention(Platform.rss, "https://blog.example/post"))
    result = send_reply(thread, "hi", MissingSecret("unused"), client)
    assert not result.sent and result.draft == "hi"
    assert result.reason == "rss takes no replies through an API; answer on the site itself"


def test_missing_secret_names_the_variable_to_set_and_sends_nothing(server: ReplayServer, client: httpx.Client) -> None:
    made = ReplyAccount(platform="x", secret_env="OVERHEARD_X_REPLY_TOKEN", base_url=server.base_url)
    missing = credentials_for(made, {})
    assert isinstance(missing, MissingSecret)

    result = send_reply(ThreadRef.of(mention(Platform.x, "1")), "hi", missing, client)

    assert result.reason == "no X credentials: set the environment variable OVERHEARD_X_REPLY_TOKEN"
    assert not server.seen


def test_an_account_for_another_platform_is_refused(server: ReplayServer, client: httpx.Client) -> None:
    result = send_reply(ThreadRef.of(mention(Platform.reddit, "t3_a")), "hi", account("x", server), client)
    assert not result.sent and "the x account cannot answer a reddit post" in (result.reason or "")
    assert not server.seen


def test_rejected_credentials_say_which_variable_to_renew(server: ReplayServer, client: httpx.Client) -> None:
    body = b'{"error": "The access token is invalid"}'  # the 401 example of Mastodon's API reference
    server.add("/api/v1/statuses", Reply(401, (("Content-Type", "application/json"),), body), method="POST")
    host = server.base_url.removeprefix("http://")
    thread = ThreadRef.of(mention(Platform.mastodon, "u", reply_ref=ReplyRef(status_id="1", instance=host)))

    result = send_reply(thread, "hi", account("mastodon", server), client)

    assert result.reason == (
        "Mastodon refused the account's credentials (HTTP 401: The access token is invalid); "
        "renew the secret in REPLY_SECRET"
    )
    assert SECRET not in (result.reason or "")


def test_the_ssrf_guard_stops_a_reply_to_a_private_address(server: ReplayServer) -> None:
    with reply_client() as guarded:  # nothing private allowed
        result = send_reply(ThreadRef.of(mention(Platform.x, "1")), "hi", account("x", server), guarded)
    assert not result.sent and result.draft == "hi"
    assert result.reason is not None and result.reason.startswith("could not reach X at http://127.0.0.1")
    assert not server.seen


def test_account_settings_name_what_is_missing() -> None:
    with pytest.raises(ValueError, match="needs base_url"):
        ReplyAccount(platform="mastodon", secret_env="T")
    with pytest.raises(ValueError, match="needs handle"):
        ReplyAccount(platform="bluesky", secret_env="T")
    assert ReplyAccount(platform="reddit", secret_env="T").api == "https://oauth.reddit.com"
