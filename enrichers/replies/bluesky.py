"""Replying on Bluesky: sign in (`com.atproto.server.createSession`, with an app password), then write an
`app.bsky.feed.post` record (`com.atproto.repo.createRecord`) whose `reply` names the thread's root and the post
answered, each by uri and cid (`ReplyRef`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from enrichers.replies.model import Failure, ReplyCredentials, ReplyResult, ThreadRef, body_of, call

POST = "app.bsky.feed.post"


def _message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    parts = [str(body[key]) for key in ("error", "message") if body.get(key)]
    return ": ".join(parts) or None


def reply_record(thread: ThreadRef, text: str, now: datetime) -> dict[str, Any] | str:
    """The post record, or why it cannot be written (the cids were not kept when the post was collected)."""
    ref = thread.reply_ref
    if ref is None or not ref.cid:
        return "the post's cid was not kept when it was collected, and a Bluesky reply must name it; collect it again"
    root_uri, root_cid = (
        (ref.root_uri, ref.root_cid) if ref.root_uri and ref.root_cid else (thread.external_id, ref.cid)
    )
    return {
        "$type": POST,
        "text": text,
        "createdAt": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "reply": {"root": {"uri": root_uri, "cid": root_cid}, "parent": {"uri": thread.external_id, "cid": ref.cid}},
    }


def send(
    thread: ThreadRef,
    text: str,
    credentials: ReplyCredentials,
    client: httpx.Client,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> ReplyResult:
    record = reply_record(thread, text, now or datetime.now(UTC))
    if isinstance(record, str):
        return ReplyResult.failed("bluesky", text, record)
    api = credentials.account.api
    session = call(
        client,
        "POST",
        f"{api}/xrpc/com.atproto.server.createSession",
        credentials,
        message=_message,
        json={"identifier": credentials.account.handle, "password": credentials.secret.get_secret_value()},
    )
    if isinstance(session, Failure):
        return ReplyResult.failed("bluesky", text, f"could not sign in: {session.reason}", session.status_code)
    login = body_of(session)
    if not isinstance(login, dict) or not login.get("accessJwt") or not login.get("did"):
        return ReplyResult.failed("bluesky", text, "Bluesky's sign-in gave no access token; check the app password")
    answer = call(
        client,
        "POST",
        f"{api}/xrpc/com.atproto.repo.createRecord",
        credentials,
        message=_message,
        headers={"Authorization": f"Bearer {login['accessJwt']}"},
        json={"repo": login["did"], "collection": POST, "record": record},
    )
    if isinstance(answer, Failure):
        return ReplyResult.failed("bluesky", text, answer.reason, answer.status_code)
    body = body_of(answer)
    if not isinstance(body, dict) or not body.get("uri"):
        return ReplyResult.failed("bluesky", text, "Bluesky answered without the new post's uri; check the thread")
    uri = str(body["uri"])
    return ReplyResult(
        platform="bluesky",
        sent=True,
        post_id=uri,
        url=f"https://bsky.app/profile/{login['did']}/post/{uri.rsplit('/', 1)[-1]}",
        status_code=answer.status_code,
    )
