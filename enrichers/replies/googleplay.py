"""Replying to a Google Play review: `POST androidpublisher/v3/applications/{package}/reviews/{reviewId}:reply` with
`replyText`, under an access token from the account's refresh token (OAuth 2.0 refresh-token grant, scope
androidpublisher). A review has one developer reply: sending again replaces it, so a retry never answers twice.

The review is a `review` mention collected by `listener.googleplay`: its external_id is 'googleplay:<reviewId>' and
its URL names the app (`details?id=<package>`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from enrichers.replies.model import Failure, ReplyCredentials, ReplyResult, ThreadRef, body_of, call, secret_in
from listener.googleplay import MAX_REPLY_CHARS, TOKEN_URL

__all__ = ["MAX_REPLY_CHARS", "send"]


def _message(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("status") or "") or None
    if isinstance(error, str):  # the token endpoint: {"error": "invalid_grant", "error_description": ...}
        return str(body.get("error_description") or error)
    return None


def _package(thread: ThreadRef) -> str | None:
    if not thread.url:
        return None
    found = parse_qs(urlsplit(thread.url).query).get("id")
    return found[0] if found else None


def access_token(credentials: ReplyCredentials, client: httpx.Client) -> str | Failure:
    """An access token for the account's refresh token (Google's token endpoint, refresh-token grant)."""
    account = credentials.account
    url = account.token_url or TOKEN_URL
    try:
        response = client.post(
            url,
            data={
                "grant_type": "refresh_token",
                "client_id": secret_in(credentials, account.client_id_env),
                "client_secret": secret_in(credentials, account.client_secret_env),
                "refresh_token": credentials.secret.get_secret_value(),
            },
            timeout=account.timeout_s,
        )
    except httpx.HTTPError as error:
        return Failure(f"could not reach Google's token endpoint {url}: {error}")
    body = body_of(response)
    if response.is_success and isinstance(body, dict) and body.get("access_token"):
        return str(body["access_token"])
    said = _message(body) or f"HTTP {response.status_code}"
    return Failure(
        f"Google refused the refresh token in {account.secret_env} ({said}): have the Play Console user authorise "
        "again and store the new refresh token",
        response.status_code,
    )


def send(
    thread: ThreadRef,
    text: str,
    credentials: ReplyCredentials,
    client: httpx.Client,
    idempotency_key: str | None = None,
) -> ReplyResult:
    if len(text) > MAX_REPLY_CHARS:
        return ReplyResult.failed(
            "googleplay",
            text,
            f"Google Play takes replies of at most {MAX_REPLY_CHARS} characters; this one has {len(text)}",
        )
    package = _package(thread)
    if package is None:
        return ReplyResult.failed(
            "googleplay", text, "the review's link does not name its app (details?id=<package>); it cannot be answered"
        )
    token = access_token(credentials, client)
    if isinstance(token, Failure):
        return ReplyResult.failed("googleplay", text, token.reason, token.status_code)
    review_id = thread.external_id.removeprefix("googleplay:")
    url = (
        f"{credentials.account.api}/androidpublisher/v3/applications/{quote(package, safe='')}"
        f"/reviews/{quote(review_id, safe='')}:reply"
    )
    answer = call(
        client,
        "POST",
        url,
        credentials,
        message=_message,
        headers={"Authorization": f"Bearer {token}"},
        json={"replyText": text},
    )
    if isinstance(answer, Failure):
        return ReplyResult.failed("googleplay", text, answer.reason, answer.status_code)
    body = body_of(answer)
    result = body.get("result") if isinstance(body, dict) else None
    if not isinstance(result, dict) or result.get("replyText") is None:
        return ReplyResult.failed(
            "googleplay", text, "Google Play answered without the reply; check the review", answer.status_code
        )
    return ReplyResult(platform="googleplay", sent=True, post_id=None, url=thread.url, status_code=answer.status_code)
