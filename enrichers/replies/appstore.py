"""Replying to an App Store review: `POST /v1/customerReviewResponses` naming the review, under a token signed with
the account's App Store Connect API key (ES256, `listener.appstore`). A review has one developer response: Apple
replaces an earlier one, and publishes the response after its own review (state PENDING_PUBLISH, then PUBLISHED).

The review is a `review` mention collected by `listener.appstore`: its external_id is 'appstore:<review id>'.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from enrichers.replies.model import Failure, ReplyCredentials, ReplyResult, ThreadRef, body_of, call
from listener.appstore import ID_PREFIX, MAX_RESPONSE_CHARS, app_store_jwt, load_private_key

__all__ = ["MAX_RESPONSE_CHARS", "send"]


def _message(body: Any) -> str | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return " ".join(str(errors[0][k]) for k in ("title", "detail") if errors[0].get(k)) or None
    return None


def send(
    thread: ThreadRef,
    text: str,
    credentials: ReplyCredentials,
    client: httpx.Client,
    idempotency_key: str | None = None,
) -> ReplyResult:
    if len(text) > MAX_RESPONSE_CHARS:
        return ReplyResult.failed(
            "appstore",
            text,
            f"the App Store takes responses of at most {MAX_RESPONSE_CHARS} characters; this one has {len(text)}",
        )
    account = credentials.account
    try:
        key = load_private_key(credentials.secret.get_secret_value(), account.secret_env)
    except ValueError as error:
        return ReplyResult.failed("appstore", text, str(error))
    token = app_store_jwt(key, key_id=account.key_id or "", issuer_id=account.issuer_id or "", issued_at=time.time())
    review_id = thread.external_id.removeprefix(ID_PREFIX)
    answer = call(
        client,
        "POST",
        f"{account.api}/v1/customerReviewResponses",
        credentials,
        message=_message,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "data": {
                "type": "customerReviewResponses",
                "attributes": {"responseBody": text},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id}}},
            }
        },
    )
    if isinstance(answer, Failure):
        return ReplyResult.failed("appstore", text, answer.reason, answer.status_code)
    body = body_of(answer)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("id"):
        return ReplyResult.failed(
            "appstore", text, "App Store Connect answered without the response; check the review", answer.status_code
        )
    return ReplyResult(
        platform="appstore", sent=True, post_id=str(data["id"]), url=thread.url, status_code=answer.status_code
    )
