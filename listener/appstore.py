"""App Store reviews of the brand's own apps, through the App Store Connect API (`GET /v1/apps/{id}/customerReviews`).

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    AppStoreCollector(
        http: Http,
        *,
        name: str,                          # cursor key: '<source>:<app id>'
        app_id: str,                        # the app's Apple ID, e.g. '1234567890' (App Store Connect → App Information)
        token: AppStoreToken,               # signs the API's ES256 tokens with the team's .p8 key
        base_url: str = "https://api.appstoreconnect.apple.com",
        page_size: int = 200,               # `limit`, at most 200
        max_pages: int = 10,
        usage: AppStoreUsage | None = None, # the hourly request allowance, shared by the source's collectors
        finishing: Finishing | None = None,
    )

Reviews are asked for newest first (`sort=-createdDate`) and paged by the `links.next` URL Apple gives. The cursor
is a `listener.cursor.Watermark` over `createdDate`, whose resume position is the `links.next` URL of an unfinished
backlog: a sweep stops at the first review older than the floor, and a failure on page 5 keeps pages 1–4. Reviews
are `Platform.review` mentions with a 1–5 `rating`, the review's title as `title`, under the id `appstore:<id>`.
Replies go through `enrichers.replies.appstore` (`POST /v1/customerReviewResponses`).

Credentials: an App Store Connect API key (Users and Access → Integrations → App Store Connect API; role Customer
Support, or Admin/App Manager, to reply), its key id and the team's issuer id. The private key (.p8 file, a PEM
EC P-256 key) is read from the environment variable `private_key_env` names. Each request carries a JWT signed with
it (ES256, audience 'appstoreconnect-v1') valid for at most 20 minutes, as Apple requires; `AppStoreToken` makes a
new one a minute before the last expires. Apple allows a key about 3,600 requests an hour and says how many are
left in each answer's `X-Rate-Limit` header (`user-hour-lim:3600;user-hour-rem:3545;`): `AppStoreUsage` keeps it
for `overheard sources` (asking once, for the app's bundle id, when no sweep of this process has yet), and the
shell's rate-limit watch keeps it on the source's health row after each sweep.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field

from listener.base import BuildContext, Collector, Page, Quota, SourceBase, SourceError
from listener.cursor import Watermark
from listener.http import Http, HttpError, decode_json
from listener.mention import Author, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, convert_items, page_error, source_error

API = "https://api.appstoreconnect.apple.com"
AUDIENCE = "appstoreconnect-v1"
TOKEN_LIFETIME_S = 1200
"""Apple refuses a token whose expiry is more than 20 minutes after it was issued."""
RENEW_MARGIN_S = 60
ID_PREFIX = "appstore:"
"""Review mentions' external ids are 'appstore:<customerReviews id>' (the reply client strips it)."""
MAX_RESPONSE_CHARS = 5970
"""The longest developer response App Store Connect takes (longer ones are refused with HTTP 409)."""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def load_private_key(pem: str, where: str) -> ec.EllipticCurvePrivateKey:
    """The .p8 key as an EC P-256 private key; `where` names its environment variable in the error."""
    try:
        key = load_pem_private_key(pem.replace("\\n", "\n").strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{where} does not hold a readable private key ({exc}); set it to the contents of the AuthKey_<key id>.p8 "
            "file, BEGIN and END lines included"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{where} holds a key that is not EC P-256: App Store Connect keys (.p8) are")
    return key


def app_store_jwt(key: ec.EllipticCurvePrivateKey, *, key_id: str, issuer_id: str, issued_at: float) -> str:
    """One App Store Connect API token: ES256, `kid` the key id, `iss` the issuer id, valid 20 minutes."""
    claims = {
        "iss": issuer_id,
        "iat": int(issued_at),
        "exp": int(issued_at) + TOKEN_LIFETIME_S,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": key_id, "typ": "JWT"})


class AppStoreToken:
    """The bearer token of an App Store Connect API key, made anew shortly before the last one expires."""

    def __init__(self, http: Http, *, private_key: str, key_id: str, issuer_id: str, key_env: str = "the key") -> None:
        self.http = http
        self.key = load_private_key(private_key, key_env)
        self.key_id = key_id
        self.issuer_id = issuer_id
        self._token: str | None = None
        self._expires_at = 0.0

    def header(self) -> dict[str, str]:
        now = self.http.clock()
        if self._token is None or now >= self._expires_at - RENEW_MARGIN_S:
            self._token = app_store_jwt(self.key, key_id=self.key_id, issuer_id=self.issuer_id, issued_at=now)
            self._expires_at = int(now) + TOKEN_LIFETIME_S
        return {"Authorization": f"Bearer {self._token}"}


class AppStoreUsage:
    """The hourly request allowance of the API key, as Apple last stated it (`X-Rate-Limit`)."""

    def __init__(self, http: Http, *, source: str) -> None:
        self.http = http
        self.source = source
        self.limit: int | None = None
        self.remaining: int | None = None
        self.seen_at: datetime | None = None

    def saw(self, header: str | None) -> None:
        """Keep what an answer's `X-Rate-Limit` header says ('user-hour-lim:3600;user-hour-rem:3545;')."""
        values: dict[str, int] = {}
        for part in (header or "").split(";"):
            name, _, value = part.strip().partition(":")
            if value.strip().isdigit():
                values[name.strip()] = int(value)
        if "user-hour-lim" in values and "user-hour-rem" in values:
            self.limit, self.remaining = values["user-hour-lim"], values["user-hour-rem"]
            self.seen_at = datetime.fromtimestamp(self.http.clock(), tz=UTC)

    def quota(self) -> Quota:
        used = (self.limit - self.remaining) if self.limit is not None and self.remaining is not None else 0
        resets = self.seen_at + timedelta(hours=1) if self.seen_at else None  # a rolling hour: at the latest
        return Quota(self.source, "requests/hour", used, self.limit, None, resets)


def review_to_mention(review: Mapping[str, Any], app_id: str) -> Converted:
    """One `customerReviews` resource as a Mention."""
    attributes = review["attributes"]
    body = (attributes.get("body") or "").strip()
    title = (attributes.get("title") or "").strip()
    if not body and not title:
        raise ValueError("review has neither title nor body")
    nickname = attributes.get("reviewerNickname") or None
    rating = attributes.get("rating")
    return Converted(
        Mention(
            source=Platform.review,
            external_id=f"{ID_PREFIX}{review['id']}",
            url=f"https://apps.apple.com/app/id{quote(app_id)}?see-all=reviews",
            author=Author(handle=nickname or "anonymous", name=nickname),
            title=title or None,
            text=body or title,
            created_at=_time(attributes["createdDate"]),
            rating=float(rating) if isinstance(rating, int | float) else None,
            raw_hash=payload_hash(review),
        )
    )


class AppStoreCollector:
    """The customer reviews of one app. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        app_id: str,
        token: AppStoreToken,
        base_url: str = API,
        page_size: int = 200,
        max_pages: int = 10,
        usage: AppStoreUsage | None = None,
        finishing: Finishing | None = None,
    ) -> None:
        if not app_id.isdigit():
            raise ValueError(f"App Store: app id {app_id!r} is not an Apple ID (digits, App Information in Connect)")
        self.http = http
        self.name = name
        self.app_id = app_id
        self.token = token
        self.url = f"{base_url.rstrip('/')}/v1/apps/{app_id}/customerReviews"
        self.params: dict[str, Any] = {
            "sort": "-createdDate",
            "limit": max(1, min(page_size, 200)),
            "fields[customerReviews]": "rating,title,body,reviewerNickname,createdDate,territory",
        }
        self.max_pages = max_pages
        self.usage = usage
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        floor = _time(start.floor) if start.floor else None
        next_url = start.resume
        newest: str | None = None
        for _ in range(self.max_pages):
            body = self._fetch(next_url)
            reviews = [r for r in body["data"] if isinstance(r, dict)]
            fresh = [r for r in reviews if not _below(r, floor)]
            mentions, rejected = convert_items(
                self.name, fresh, lambda r: review_to_mention(r, self.app_id), self.finishing
            )
            times = [t for t in (_created(r) for r in fresh) if t is not None]
            if times:
                page_newest = max(times, key=_time)
                newest = page_newest if newest is None else max(newest, page_newest, key=_time)
            links = body.get("links")
            next_url = links.get("next") if isinstance(links, dict) and isinstance(links.get("next"), str) else None
            exhausted = len(fresh) < len(reviews) or not next_url
            mark = start.after_page(newest=newest, oldest=next_url, exhausted=exhausted, order=_time)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted:
                return

    def quota(self) -> Quota | None:
        """Requests used of the key's hourly allowance, for `overheard sources`. When this process has not asked
        Apple anything yet, one small request (the app's bundle id) reads the allowance; None when it fails."""
        if self.usage is None:
            return None
        if self.usage.limit is None:
            try:
                response = self.http.request(
                    "GET",
                    self.url.removesuffix("/customerReviews"),
                    params={"fields[apps]": "bundleId"},
                    headers=self.token.header(),
                )
            except HttpError:
                return None
            self.usage.saw(response.headers.get("x-rate-limit"))
            if self.usage.limit is None:
                return None
        return self.usage.quota()

    def _fetch(self, next_url: str | None) -> dict[str, Any]:
        url, params = (next_url, None) if next_url else (self.url, self.params)
        if urlsplit(url).netloc != urlsplit(self.url).netloc:
            raise page_error(self.name, url, "the next page is on another host than the API")
        try:
            response = self.http.request("GET", url, params=params, headers=self.token.header())
            body = decode_json(response) if response.content else None
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if self.usage is not None:
            self.usage.saw(response.headers.get("x-rate-limit"))
        if response.status_code != 200:
            raise self._refusal(response.status_code, body)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise page_error(self.name, self.url, "expected a CustomerReviewsResponse with a 'data' list")
        return body

    def _refusal(self, status: int, body: Any) -> SourceError:
        errors = body.get("errors") if isinstance(body, dict) else None
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        said = " ".join(str(first[k]) for k in ("title", "detail") if first.get(k))
        if status == 401:
            why = "check key_id, issuer_id and the .p8 key; a revoked key must be replaced"
            return SourceError(self.name, f"App Store Connect refused the API key (HTTP 401 {said}): {why}")
        if status == 403:
            why = "give the API key a role that may read customer reviews (Customer Support, App Manager or Admin)"
            return SourceError(self.name, f"App Store Connect forbids it (HTTP 403 {said}): {why}")
        if status == 404:
            return SourceError(
                self.name, f"App Store Connect knows no app {self.app_id} for this key (HTTP 404 {said})"
            )
        return SourceError(self.name, f"{self.url}: HTTP {status} {said}".rstrip())


def _created(review: Mapping[str, Any]) -> str | None:
    try:
        value = review["attributes"]["createdDate"]
        _time(value)
        return str(value)
    except (KeyError, TypeError, ValueError):
        return None


def _below(review: Mapping[str, Any], floor: datetime | None) -> bool:
    created = _created(review)
    return floor is not None and created is not None and _time(created) < floor


# --- overheard.yaml: `kind: appstore` -----------------------------------------------------------------------------


class AppStoreSource(SourceBase):
    kind: Literal["appstore"]
    apps: tuple[str, ...] = Field(min_length=1, description="Apple IDs of your apps (digits), e.g. 1234567890.")
    key_id: str = Field(min_length=1, description="The App Store Connect API key's id (10 characters).")
    issuer_id: str = Field(min_length=1, description="Your team's issuer id (a UUID, on the API keys page).")
    private_key_env: str = Field(
        default="OVERHEARD_APP_STORE_PRIVATE_KEY",
        description="Env var holding the key's .p8 file contents (PEM, BEGIN/END lines included).",
    )
    base_url: str | None = Field(default=None, description="Leave out for api.appstoreconnect.apple.com.")


def build(source: AppStoreSource, ctx: BuildContext) -> list[Collector]:
    """One collector per app, sharing the key's token and its hourly allowance."""
    pem = ctx.token(source.private_key_env, required=True) or ""
    token = AppStoreToken(
        ctx.http, private_key=pem, key_id=source.key_id, issuer_id=source.issuer_id, key_env=source.private_key_env
    )
    usage = AppStoreUsage(ctx.http, source=source.name)
    return [
        AppStoreCollector(
            ctx.http,
            name=ctx.name(app),
            app_id=app,
            token=token,
            base_url=source.base_url or API,
            usage=usage,
            finishing=ctx.finishing,
        )
        for app in source.apps
    ]
