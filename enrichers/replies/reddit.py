"""Replying on Reddit: `POST /api/comment` (`thing_id` the post's or comment's fullname, `text` the reply in
Markdown) on oauth.reddit.com with the account's user OAuth token (scope `submit`).

Reddit answers 200 even when it refuses: the refusals are in `json.errors` (e.g. RATELIMIT, THREAD_LOCKED), and an
answer with neither errors nor a new comment means nothing was posted (the parent was deleted or archived).
"""

from __future__ import annotations

from typing import Any

import httpx

from enrichers.replies.model import Failure, ReplyCredentials, ReplyResult, ThreadRef, body_of, call


def _errors(body: Any) -> list[str]:
    errors = body.get("json", {}).get("errors") if isinstance(body, dict) else None
    found = []
    for error in errors or ():
        if isinstance(error, list | tuple) and error:
            found.append(": ".join(str(part) for part in error[:2] if part))
    return found


def _message(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return "; ".join(_errors(body)) or None


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
        f"{credentials.account.api}/api/comment",
        credentials,
        message=_message,
        headers={
            "Authorization": f"bearer {credentials.secret.get_secret_value()}",
            "User-Agent": credentials.account.user_agent,
        },
        data={"api_type": "json", "thing_id": thread.external_id, "text": text},
    )
    if isinstance(answer, Failure):
        return ReplyResult.failed("reddit", text, answer.reason, answer.status_code)
    body = body_of(answer)
    errors = _errors(body)
    if errors:
        return ReplyResult.failed("reddit", text, f"Reddit refused the reply: {'; '.join(errors)}", answer.status_code)
    things = (((body or {}).get("json") or {}).get("data") or {}).get("things") if isinstance(body, dict) else None
    data = things[0].get("data") if things and isinstance(things[0], dict) else None
    if not isinstance(data, dict) or not data.get("name"):
        return ReplyResult.failed(
            "reddit",
            text,
            f"Reddit posted no comment under {thread.external_id}: the post may be deleted, locked or archived",
            answer.status_code,
        )
    permalink = data.get("permalink")
    return ReplyResult(
        platform="reddit",
        sent=True,
        post_id=str(data["name"]),
        url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None,
        status_code=answer.status_code,
    )
