"""The HTTP API and the web app: `create_app(engine, config)` builds both on one database.

The API lives under /api (OpenAPI at /api/openapi.json, docs at /api/docs); web pages are server-rendered
under / and sign in with the same tokens, which start a web session of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from classifiers.verdict import Document, Verdict
from overheard.api.auth import FailureLimiter, RateLimiter
from overheard.api.middleware import BodyLimit, SameOrigin, SecurityHeaders
from overheard.api.routes import (
    contacts,
    delivery,
    gdpr,
    health,
    leads,
    mentions,
    metrics,
    rules,
    sources,
    tokens,
    workspace,
)
from overheard.config import OverheardConfig
from overheard.pipeline import Runtime
from overheard.services import Conflict, Forbidden, NotFound, ServiceError

DEFAULT_RATE_LIMIT = 600  # requests per token per minute


class _NoClassifier:
    """The API reads verdicts; it never classifies. Routing dry runs use the stored verdicts."""

    version = "none"

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        raise RuntimeError("the web app does not classify; run `overheard collect` or the worker")


def _declared_query(app: FastAPI, method: str, path: str) -> set[str]:
    """The query parameters an operation publishes (read from the OpenAPI document, which FastAPI caches)."""
    operation = app.openapi()["paths"].get(path, {}).get(method.lower(), {})
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def known_query(request: Request) -> None:
    """Refuse unknown and repeated query parameters, as the request bodies refuse unknown fields: `?intnet=`
    quietly ignored, or the last of `?until=a&until=b` quietly kept, would answer a question not asked."""
    route = request.scope.get("route")
    declared = _declared_query(request.app, request.method, route.path) if isinstance(route, APIRoute) else set()
    keys = [key for key, _ in request.query_params.multi_items()]
    problems = [
        {
            "type": "extra_forbidden",
            "loc": ("query", key),
            "msg": f"unknown query parameter; this operation takes: {', '.join(sorted(declared)) or 'none'}",
            "input": None,
        }
        for key in sorted(set(keys) - declared)
    ] + [
        {"type": "repeated", "loc": ("query", key), "msg": f"send '{key}' once", "input": None}
        for key in sorted({key for key in keys if keys.count(key) > 1} & declared)
    ]
    if problems:
        raise RequestValidationError(problems)


ECHOED_INPUT_CHARS = 200  # of a refused field, a 422 repeats at most this much


def _short(value: object) -> object:
    """A refused input as a 422 may repeat it: whole when small, else its start (a 5 MB field was echoed)."""
    text = value if isinstance(value, str) else None
    if text is None:
        encoded = jsonable_encoder(value)
        shown = str(encoded)
        if len(shown) <= ECHOED_INPUT_CHARS:
            return encoded
        text = shown
    if len(text) <= ECHOED_INPUT_CHARS:
        return text
    return f"{text[:ECHOED_INPUT_CHARS]}… ({len(text)} characters, cut)"


async def _validation_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {**error, "input": _short(error.get("input"))} if "input" in error else error
        for error in jsonable_encoder(exc.errors())
    ]
    return JSONResponse({"detail": errors}, status_code=422)


_STATUS = ((Forbidden, 403), (NotFound, 404), (Conflict, 409))


async def _service_error(request: Request, exc: Exception) -> Response:
    """A use case's refusal, as the HTTP error it means: 403, 404 or 409 with the service's words (the pages
    render it as their error page, the API as a problem document)."""
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    handler = request.app.exception_handlers[StarletteHTTPException]
    return await handler(request, StarletteHTTPException(status, str(exc)))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes: Starlette's 405 names only the first route's methods (so
    OPTIONS on /api/contacts/{id}/consents said GET, hiding the POST beside it)."""
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.routes)
    ]


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    allow = ", ".join([*_allowed_methods(request), "OPTIONS"])
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    assert isinstance(exc, StarletteHTTPException)
    exc.headers = {**(exc.headers or {}), "Allow": allow}
    handler = request.app.exception_handlers[StarletteHTTPException]
    return await handler(request, exc)


def create_app(engine: Engine, config: OverheardConfig, *, rate_limit_per_minute: int = DEFAULT_RATE_LIMIT) -> FastAPI:
    from overheard.web import pages

    app = FastAPI(
        title="Overheard",
        version="0.1.0",
        summary="Social listening and social CRM: mentions, triage, contacts, routing, metrics and GDPR requests.",
        description=(
            "Authenticate with `Authorization: Bearer <token>`; create tokens with "
            "`overheard tokens create NAME --role ROLE`. Roles: admin, service (complaints and questions routed "
            "to customer service), sales (leads), marketing (aggregates only), privacy (contacts, consents, "
            "export and erasure). Everything a role may not see answers 403, or 404 for single records."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.config = config
    app.state.runtime = Runtime.build(config, engine, _NoClassifier())
    app.state.limiter = RateLimiter(rate_limit_per_minute)
    app.state.failures = FailureLimiter(config.web.failed_sign_ins_per_minute)
    for module in (health, mentions, leads, contacts, delivery, rules, metrics, gdpr, sources, tokens, workspace):
        app.include_router(module.router, dependencies=[Depends(known_query)])
    app.include_router(gdpr.authors, dependencies=[Depends(known_query)])  # authors who are not CRM contacts
    pages.mount(app)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(405, _method_not_allowed)
    app.add_exception_handler(ServiceError, _service_error)
    # The last added runs first: headers go on every answer, the 413 and the 403 included.
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, max_bytes=config.web.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
