"""Deliveries: Standard Webhooks signatures, real sends to a local receiver, retries for 72 h, then dead-letter."""

from __future__ import annotations

import json
import random
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from enrichers.delivery import (
    MAX_ATTEMPTS,
    RETRY_WINDOW,
    Channel,
    ChannelKind,
    WebhookVerificationError,
    backoff,
    deliver,
    deliver_due,
    event_payload,
    generate_secret,
    json_body,
    new_delivery,
    next_attempt,
    sign,
    slack_message,
    verify,
    webhook_headers,
)
from enrichers.model import Delivery, DeliveryStatus
from enrichers.routing import DEFAULT_ROUTING, route
from tests.enrichers.conftest import InMemoryOutbox


def test_signature_matches_the_standard_webhooks_reference_vector():
    # The example from the Standard Webhooks specification and its reference libraries.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_a_fresh_signed_message_and_any_one_of_several_signatures():
    secret, now = generate_secret(), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    body = b'{"type":"mention.routed"}'
    headers = webhook_headers(secret, "msg_1", int(now.timestamp()), body)
    rotated = {**headers, "Webhook-Signature": "v1,bm90IGl0 " + headers["webhook-signature"]}
    del rotated["webhook-signature"]

    verify(secret, headers, body, now + timedelta(seconds=30))
    verify(secret, rotated, body, now)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"body": b'{"type":"mention.deleted"}'}, "no v1 signature matches"),
        ({"secret": "other"}, "no v1 signature matches"),
        ({"at": timedelta(minutes=6)}, "away from now"),
        ({"at": -timedelta(minutes=6)}, "away from now"),
        ({"drop": "webhook-id"}, "missing header(s): webhook-id"),
        ({"msg_id": "msg_2"}, "no v1 signature matches"),
    ],
)
def test_verify_rejects_tampering_replays_and_missing_headers(change, problem):
    secret, now = generate_secret(), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    body = b'{"type":"mention.routed"}'
    headers = webhook_headers(secret, "msg_1", int(now.timestamp()), body)
    if "msg_id" in change:
        headers["webhook-id"] = change["msg_id"]
    if "drop" in change:
        del headers[change["drop"]]

    with pytest.raises(WebhookVerificationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        verify(
            generate_secret() if change.get("secret") else secret,
            headers,
            change.get("body", body),
            now + change.get("at", timedelta(0)),
        )


def test_retries_back_off_exponentially_and_keep_trying_for_at_least_72_hours():
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    never_jitter = random.Random()
    never_jitter.random = lambda: 0.0  # the smallest delays jitter can give

    assert next_attempt(0, now) == now
    delays = [next_attempt(n, now, never_jitter) - now for n in range(1, MAX_ATTEMPTS)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(seconds=30) and delays[1] == timedelta(seconds=60)
    assert sum(delays, timedelta()) >= RETRY_WINDOW >= timedelta(hours=72)
    assert next_attempt(MAX_ATTEMPTS, now) is None


def test_jitter_only_ever_lengthens_a_delay_by_up_to_a_fifth():
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    rng = random.Random(7)

    for attempts in range(1, MAX_ATTEMPTS):
        delay = next_attempt(attempts, now, rng) - now
        assert backoff(attempts) <= delay <= backoff(attempts) * 1.2


@pytest.fixture
def routed(mentions, verdicts, now):
    mention, verdict = mentions["jane_complains_on_x"], verdicts["complaint"]
    the_route = route(DEFAULT_ROUTING, mention, verdict, now)[0]
    return the_route, event_payload(the_route, mention, verdict, now, contact_id="c-jane")


def _channel(kind: ChannelKind, **settings) -> Channel:
    return Channel(name="customer_service", kind=kind, timeout_s=2, **settings)


def test_webhook_is_signed_and_received_with_its_idempotency_key_as_webhook_id(local, receiver, routed):
    the_route, payload = routed
    delivery = new_delivery(the_route, payload, datetime.now(UTC))

    after = deliver(
        delivery,
        _channel(ChannelKind.webhook, url=receiver.url, secret=receiver.secret),
        datetime.now(UTC),
        client=local,
    )

    assert after.status is DeliveryStatus.delivered and after.attempts == 1
    [got] = receiver.received
    assert got.verified, got.problem
    assert got.headers["webhook-id"] == delivery.idempotency_key
    event = json.loads(got.body)
    assert event["type"] == "mention.routed"
    assert event["data"]["route"]["team"] == "customer_service"
    assert event["data"]["mention"]["external_id"] == "1001"
    assert event["data"]["contact_id"] == "c-jane"


def test_receiver_that_fails_then_recovers_gets_the_same_message_id_and_loses_nothing(local, receiver, routed):
    receiver.statuses = [503]
    the_route, payload = routed
    channel = _channel(ChannelKind.webhook, url=receiver.url, secret=receiver.secret)
    delivery = new_delivery(the_route, payload, datetime.now(UTC))

    first = deliver(delivery, channel, datetime.now(UTC), client=local)
    second = deliver(first, channel, datetime.now(UTC), client=local)

    assert first.status is DeliveryStatus.failed
    assert first.last_error.startswith("HTTP 503")
    assert first.next_attempt_at is not None and first.next_attempt_at > datetime.now(UTC)
    assert second.status is DeliveryStatus.delivered and second.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.idempotency_key] * 2
    assert receiver.received[0].body == receiver.received[1].body  # the same bytes, re-signed per attempt


def test_wrong_secret_is_refused_by_the_receiver_and_kept_for_retry(local, receiver, routed):
    the_route, payload = routed
    channel = _channel(ChannelKind.webhook, url=receiver.url, secret=generate_secret())

    after = deliver(new_delivery(the_route, payload, datetime.now(UTC)), channel, datetime.now(UTC), client=local)

    assert after.status is DeliveryStatus.failed
    assert after.last_error.startswith("HTTP 401: no: no v1 signature matches")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_receiver_that_stays_down_is_dead_lettered_after_the_last_attempt_with_the_reason(routed):
    the_route, payload = routed
    channel = _channel(ChannelKind.webhook, url=f"http://127.0.0.1:{_closed_port()}/hook", secret=generate_secret())
    delivery = new_delivery(the_route, payload, datetime.now(UTC))

    delivery = deliver(delivery, channel, datetime.now(UTC))
    assert delivery.status is DeliveryStatus.failed and "ConnectError" in delivery.last_error

    last_but_one = delivery.model_copy(update={"attempts": MAX_ATTEMPTS - 1})
    dead = deliver(last_but_one, channel, datetime.now(UTC))

    assert dead.status is DeliveryStatus.dead
    assert dead.next_attempt_at is None
    assert dead.last_error.startswith(
        f"gave up after {MAX_ATTEMPTS} attempts (retried for at least 72 h): ConnectError"
    )
    assert deliver(dead, channel, datetime.now(UTC)) == dead  # dead letters are not retried


def test_redirects_are_not_followed(routed):
    the_route, payload = routed
    redirecting = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(307, headers={"location": "/x"})))
    channel = _channel(ChannelKind.webhook, url="http://receiver.test/hook", secret=generate_secret())

    after = deliver(new_delivery(the_route, payload, datetime.now(UTC)), channel, datetime.now(UTC), client=redirecting)

    assert after.status is DeliveryStatus.failed and after.last_error == "HTTP 307"


def test_slack_channel_gets_an_incoming_webhook_message(local, receiver, routed):
    receiver.require_signature = False
    the_route, payload = routed

    after = deliver(
        new_delivery(the_route, payload, datetime.now(UTC)),
        _channel(ChannelKind.slack, url=receiver.url),
        datetime.now(UTC),
        client=local,
    )

    assert after.status is DeliveryStatus.delivered
    message = json.loads(receiver.received[0].body)
    assert message["text"].startswith("[high] customer_service: complaint (negative, 0.88) on x by @JANE_doe")
    assert "> @Lumora my hub bricked" in message["blocks"][0]["text"]["text"]
    assert "<https://x.com/JANE_doe/status/1001|open the mention>" in message["blocks"][1]["elements"][0]["text"]


def test_slack_message_escapes_control_characters_in_customer_text(routed):
    _, payload = routed
    payload["data"]["mention"]["excerpt"] = "<!channel> & <https://evil.example|click>"

    text = slack_message(payload)["blocks"][0]["text"]["text"]

    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text


def test_slack_link_from_a_post_url_cannot_become_a_fake_label_or_a_ping(routed):
    _, payload = routed
    payload["data"]["mention"]["url"] = "https://evil.example/x|you won a prize> <!channel>"
    payload["data"]["route"]["explanation"] = "rule <!here> matched"

    message = slack_message(payload)
    link = message["blocks"][1]["elements"][0]["text"]

    assert "<https://evil.example/x%7Cyou won a prize&gt; &lt;!channel&gt;|open the mention>" in link
    assert "<!channel>" not in str(message) and "<!here>" not in str(message)
    payload["data"]["mention"]["url"] = "javascript:alert(1)"
    assert "javascript" not in str(slack_message(payload)), "a link that is not http(s) is left out"


def test_a_receiver_on_an_internal_address_is_refused_by_the_collectors_ssrf_guard(receiver, routed):
    """Without a client allowing 127.0.0.1 (tests pass `local`), the default is the guard with no exception."""
    the_route, payload = routed
    for kind in (ChannelKind.webhook, ChannelKind.slack):
        channel = _channel(kind, url=receiver.url, secret=receiver.secret if kind is ChannelKind.webhook else None)

        after = deliver(new_delivery(the_route, payload, datetime.now(UTC)), channel, datetime.now(UTC))

        assert after.status is DeliveryStatus.failed
        assert "non-public address 127.0.0.1" in after.last_error
    assert receiver.received == []


def test_crm_channel_gets_a_signed_lead_payload(local, receiver, routed):
    the_route, payload = routed
    channel = _channel(ChannelKind.crm, url=receiver.url, secret=receiver.secret)

    after = deliver(new_delivery(the_route, payload, datetime.now(UTC)), channel, datetime.now(UTC), client=local)

    assert after.status is DeliveryStatus.delivered and receiver.received[0].verified
    lead = json.loads(receiver.received[0].body)
    assert lead["idempotency_key"] == after.idempotency_key
    assert lead["properties"]["twitterhandle"] == "JANE_doe"
    assert lead["properties"]["lead_source"] == "social:x"
    assert lead["properties"]["overheard_contact_id"] == "c-jane"


def test_email_channel_sends_plain_text_through_a_real_smtp_server(smtp_server, routed):
    the_route, payload = routed
    channel = _channel(
        ChannelKind.email,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="overheard@lumora.example",
        mail_to=("service@lumora.example",),
    )
    delivery = new_delivery(the_route, payload, datetime.now(UTC))

    after = deliver(delivery, channel, datetime.now(UTC))

    assert after.status is DeliveryStatus.delivered, after.last_error
    [message] = smtp_server.messages
    assert smtp_server.envelopes == [("overheard@lumora.example", ["service@lumora.example"])]
    assert message["Subject"].startswith("[high] complaint on x for customer_service, due ")
    assert message["X-Overheard-Delivery"] == delivery.idempotency_key
    body = message.get_payload(decode=True).decode()
    assert "@Lumora my hub bricked" in body and "Why: rule 'complaint' matched" in body


def test_smtp_server_that_is_down_is_a_failure_to_retry(routed):
    the_route, payload = routed
    channel = _channel(
        ChannelKind.email,
        smtp_host="127.0.0.1",
        smtp_port=_closed_port(),
        mail_from="a@b.example",
        mail_to=("c@d.example",),
    )

    after = deliver(new_delivery(the_route, payload, datetime.now(UTC)), channel, datetime.now(UTC))

    assert after.status is DeliveryStatus.failed and "ConnectionRefusedError" in after.last_error


def test_same_route_always_gets_the_same_idempotency_key_and_body(routed, now):
    the_route, payload = routed

    first, again = new_delivery(the_route, payload, now), new_delivery(the_route, payload, now + timedelta(hours=1))

    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key.startswith("msg_")
    assert json_body(first.payload) == json_body(again.payload)


def test_delivery_without_payload_is_dead_lettered_at_once(local, receiver):
    delivery = Delivery(idempotency_key="msg_x", channel="customer_service")

    after = deliver(
        delivery,
        _channel(ChannelKind.webhook, url=receiver.url, secret=receiver.secret),
        datetime.now(UTC),
        client=local,
    )

    assert after.status is DeliveryStatus.dead and after.last_error == "delivery has no payload"
    assert receiver.received == []


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"kind": "webhook", "url": "http://h/x"}, "channel 'c' \\(webhook\\) needs secret"),
        ({"kind": "webhook", "url": "http://h/x", "secret": "s3cret"}, "starts with 'whsec_'"),
        ({"kind": "webhook", "url": "http://h/x", "secret": "whsec_!!!"}, "must be base64"),
        ({"kind": "slack"}, "channel 'c' \\(slack\\) needs url"),
        ({"kind": "email", "smtp_host": "mail"}, "channel 'c' \\(email\\) needs mail_from, mail_to"),
        ({"kind": "sms", "url": "http://h/x"}, "Input should be 'webhook', 'slack', 'email', 'crm' or 'hubspot'"),
    ],
)
def test_channel_settings_are_checked_with_actionable_errors(settings, problem):
    with pytest.raises(ValidationError, match=problem):
        Channel(name="c", **settings)


def test_due_deliveries_are_sent_saved_and_not_sent_again(local, receiver, routed, outbox):
    the_route, payload = routed
    channel = _channel(ChannelKind.webhook, url=receiver.url, secret=receiver.secret)
    start = datetime.now(UTC)
    outbox.add(the_route, [new_delivery(the_route, payload, start)])
    outbox.add(the_route, [new_delivery(the_route, payload, start)])  # the same route written twice

    first = deliver_due(outbox, {channel.name: channel}, datetime.now(UTC), client=local)
    second = deliver_due(outbox, {channel.name: channel}, datetime.now(UTC), client=local)

    assert [d.status for d in first] == [DeliveryStatus.delivered]
    assert second == []
    assert len(receiver.received) == 1


def test_delivery_to_an_unconfigured_channel_waits_for_the_configuration(routed, outbox, now):
    the_route, payload = routed
    outbox.add(the_route, [new_delivery(the_route, payload, now)])

    [after] = deliver_due(outbox, {}, now)

    assert after.status is DeliveryStatus.failed
    assert after.last_error == "channel 'customer_service' is not configured"
    assert outbox.due(now, 10) == [] and outbox.due(after.next_attempt_at, 10) == [after]


def _due_routes(routed, count: int, start: datetime) -> list[Delivery]:
    the_route, payload = routed
    made = []
    for i in range(count):
        one = the_route.model_copy(update={"external_id": f"{the_route.external_id}-{i}"})
        made.append(new_delivery(one, payload, start + timedelta(microseconds=i)))
    return made


class CountingOutbox(InMemoryOutbox):
    def __init__(self) -> None:
        super().__init__()
        self.saves: list[int] = []

    def save_many(self, deliveries) -> None:
        self.saves.append(len(deliveries))
        super().save_many(deliveries)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_due_deliveries_go_out_concurrency_at_a_time_in_due_order_and_are_saved_in_groups(
    local, receiver, routed, concurrency
):
    receiver.delay_s = 0.05  # long enough for sends to overlap when they may
    outbox = CountingOutbox()
    start = datetime.now(UTC) - timedelta(seconds=1)
    made = _due_routes(routed, 7, start)
    for d in made:
        outbox.deliveries[d.idempotency_key] = d
    channel = _channel(ChannelKind.webhook, url=receiver.url, secret=receiver.secret)

    done = deliver_due(
        outbox, {channel.name: channel}, datetime.now(UTC), concurrency=concurrency, save_every=3, client=local
    )

    assert [d.idempotency_key for d in done] == [d.idempotency_key for d in made]
    assert {d.status for d in outbox.deliveries.values()} == {DeliveryStatus.delivered}
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(d.idempotency_key for d in made)
    assert outbox.saves == [3, 3, 1]
    if concurrency == 1:
        assert receiver.most_in_flight == 1
    else:
        assert 1 < receiver.most_in_flight <= concurrency


def test_a_send_that_raises_still_leaves_every_earlier_send_saved(local, receiver, routed):
    outbox = CountingOutbox()
    start = datetime.now(UTC) - timedelta(seconds=1)
    good = _due_routes(routed, 3, start)
    broken = good[0].model_copy(
        update={"idempotency_key": "zz-last", "channel": "misnamed", "next_attempt_at": start + timedelta(seconds=0.5)}
    )
    for d in [*good, broken]:
        outbox.deliveries[d.idempotency_key] = d
    channel = _channel(ChannelKind.webhook, url=receiver.url, secret=receiver.secret)

    with pytest.raises(ValueError, match="is for channel 'misnamed'"):
        deliver_due(
            outbox, {channel.name: channel, "misnamed": channel}, datetime.now(UTC), save_every=50, client=local
        )

    assert [outbox.deliveries[d.idempotency_key].status for d in good] == [DeliveryStatus.delivered] * 3
    assert outbox.deliveries["zz-last"].status is DeliveryStatus.pending
    assert outbox.saves == [3] and len(receiver.received) == 3


def test_concurrency_below_one_is_refused(routed):
    with pytest.raises(ValueError, match="concurrency and save_every must be at least 1, got 0"):
        deliver_due(InMemoryOutbox(), {}, datetime.now(UTC), concurrency=0)
