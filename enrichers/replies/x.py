"""Replying on X: `POST /2/tweets` with `reply.in_reply_to_tweet_id`, under the account's user-context OAuth 2.0
token (obtained with PKCE, scopes tweet.read, tweet.write, users.read). X charges per post on paid plans: the
account's `cost_per_post` is what the team is shown before sending (`enrichers.replies.reply_cost`)."""

from __future__ import annotations

from typing import Any

import httpx

from enrichers.replies.model import Failure, ReplyCredentials, ReplyResult, ThreadRef, body_of, call


def _message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if body.get("detail") or body.get("title"):
        return str(body.get("detail") or body.get("title"))
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")
    return None


def send(
    thread: ThreadRef,
    text: str,
    credentials: ReplyCredentials,
    client: httpx.Client,
    idempotency_key: str | None = None,
) -> ReplyResult:
    answer = call(
        client,
        "POST",
        f"{credentials.account.api}/2/tweets",
        credentials,
        message=_message,
        headers={"Authorization": f"Bearer {credentials.secret.get_secret_value()}"},
        json={"text": text, "reply": {"in_reply_to_tweet_id": thread.external_id}},
    )
    if isinstance(answer, Failure):
        return ReplyResult.failed("x", text, answer.reason, answer.status_code)
    body = body_of(answer)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("id"):
        said = _message(body)
        return ReplyResult.failed(
            "x", text, "X answered without the new post" + (f": {said}" if said else ""), answer.status_code
        )
    post_id = str(data["id"])
    return ReplyResult(
        platform="x",
        sent=True,
        post_id=post_id,
        url=f"https://x.com/i/web/status/{post_id}",
        status_code=answer.status_code,
    )
