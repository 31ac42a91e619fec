"""What holds for every request before a route runs, and for every response: plain ASGI middleware.

- `BodyLimit`: a body over the limit is answered 413 before it is read (also for unauthenticated callers,
  and for chunked bodies that announce no length).
- `SameOrigin`: a state-changing web request must come from our own pages (Origin, else Referer); the form's
  CSRF token is checked by the web pages themselves (`overheard.web.pages`).
- `SecurityHeaders`: a Content-Security-Policy, no framing, no MIME sniffing, a same-origin referrer and no
  caching of anything but static files on every response.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Pages load only our own script, style and images; forms post only to us; nobody frames us.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# FastAPI's Swagger UI (/api/docs) is a page of its own: its script and style come from jsDelivr and it starts
# with an inline script. It shows no stored data, only the OpenAPI document.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # older browsers that do not read frame-ancestors
    (b"referrer-policy", b"same-origin"),  # same-origin posts keep their Origin (SameOrigin reads it)
    (b"cross-origin-opener-policy", b"same-origin"),
)


async def _problem(send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit: an HTTPException, so FastAPI's body parsing passes it on
    as it is (it would turn any other error into a 400) and the app answers it in its own format."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is over the limit of {max_bytes} bytes (web.max_body_bytes)")


class BodyLimit:
    """413 for a request body over `max_bytes`: at once from Content-Length, else as the chunks arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _problem(send, 413, BodyTooLarge(self.max_bytes).detail)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if not started:
                await _problem(send, 413, exc.detail)


def _netloc(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


class SameOrigin:
    """Refuse a state-changing request to the web pages that another origin sent (403).

    SameSite=Strict cookies stop other *sites*; a page on another port or subdomain of the same site is
    same-site, and its form would carry the cookie. Browsers send Origin on every POST (Referer where an old
    one does not); a request with neither is not a browser's cross-origin form, and the CSRF token decides.
    The API is left out: it reads no cookie, only an Authorization header a foreign page cannot set.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        origin = headers.get(b"origin")
        referer = headers.get(b"referer")
        claimed = origin if origin is not None else referer
        if claimed is not None and (not host or _netloc(claimed.decode("latin-1")) != host):
            await _problem(send, 403, "this form was sent from another origin; use Overheard's own pages")
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """The headers every response carries; Cache-Control: no-store on all but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = DOCS_POLICY if path.startswith("/api/docs") else PAGE_POLICY
        cacheable = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control" or cacheable]
                headers += [*_HEADERS, (b"content-security-policy", policy.encode())]
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
