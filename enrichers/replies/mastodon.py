"""Replying on Mastodon: `POST /api/v1/statuses` with `in_reply_to_id`, the post's status id on our instance.

Status ids are local to each instance. A post read on the account's own instance keeps its id there
(`ReplyRef.status_id`); any other is first resolved on the account's instance with
`GET /api/v2/search?q=<url>&resolve=true`, which fetches a remote post and gives its local id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from enrichers.replies.model import Failure, ReplyCredentials, ReplyResult, ThreadRef, body_of, call


def _message(body: Any) -> str | None:
    return str(body["error"]) if isinstance(body, dict) and body.get("error") else None


def _auth(credentials: ReplyCredentials) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.secret.get_secret_value()}"}


def local_status_id(
    thread: ThreadRef, credentials: ReplyCredentials, client: httpx.Client
) -> tuple[str | None, Failure | None]:
    """The post's status id on the account's instance: kept when it was read there, else looked up."""
    ref = thread.reply_ref
    home = urlsplit(credentials.account.api).netloc.lower()
    if ref is not None and ref.status_id and (ref.instance or "").lower() == home:
        return ref.status_id, None
    wanted = thread.url or thread.external_id
    answer = call(
        client,
        "GET",
        f"{credentials.account.api}/api/v2/search",
        credentials,
        message=_message,
        headers=_auth(credentials),
        params={"q": wanted, "resolve": "true", "type": "statuses", "limit": "1"},
    )
    if isinstance(answer, Failure):
        return None, Failure(f"could not look the post up on your instance: {answer.reason}", answer.status_code)
    statuses = (body_of(answer) or {}).get("statuses") if isinstance(body_of(answer), dict) else None
    if not statuses or not isinstance(statuses[0], dict) or statuses[0].get("id") is None:
        return None, Failure(
            f"your instance ({home}) could not find the post {wanted}: it may have been deleted, or its server may "
            "be blocked by your instance"
        )
    return str(statuses[0]["id"]), None


def send(
    thread: ThreadRef,
    text: str,
    credentials: ReplyCredentials,
    client: httpx.Client,
    idempotency_key: str | None = None,
) -> ReplyResult:
    status_id, problem = local_status_id(thread, credentials, client)
    if problem is not None or status_id is None:
        reason = problem.reason if problem else "no status id"
        return ReplyResult.failed("mastodon", text, reason, problem.status_code if problem else None)
    headers = _auth(credentials)
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key  # Mastodon drops a repeat with the same key for an hour
    answer = call(
        client,
        "POST",
        f"{credentials.account.api}/api/v1/statuses",
        credentials,
        message=_message,
        headers=headers,
        data={"status": text, "in_reply_to_id": status_id},
    )
    if isinstance(answer, Failure):
        return ReplyResult.failed("mastodon", text, answer.reason, answer.status_code)
    body = body_of(answer)
    if not isinstance(body, dict) or body.get("id") is None:
        return ReplyResult.failed(
            "mastodon", text, "Mastodon answered without the new status; check the thread", answer.status_code
        )
    return ReplyResult(
        platform="mastodon",
        sent=True,
        post_id=str(body["id"]),
        url=body.get("url") or body.get("uri"),
        status_code=answer.status_code,
    )
