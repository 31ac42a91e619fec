"""Google Play reviews of the brand's own apps, through the Google Play Developer API (`reviews.list`). Replies to
them (`reviews.reply`) go through `enrichers.replies.googleplay`.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    GooglePlayCollector(
        http: Http,
        *,
        name: str,                          # cursor key: '<source>:<package name>'
        package: str,                       # the app, e.g. 'com.acme.app'
        token: GoogleOAuthToken,            # the Play Console user's OAuth token (refresh-token grant)
        base_url: str = "https://androidpublisher.googleapis.com",
        page_size: int = 100,               # `maxResults`
        max_pages: int = 10,
        translation_language: str | None = None,
        finishing: Finishing | None = None,
    )

The API returns only reviews written or edited in the last seven days, so every sweep reads that whole window
(paged with `token` = `tokenPagination.nextPageToken`) and the cursor stays empty: a review edited again is
stored again under the same id (`googleplay:<reviewId>`) with its new text and stars. Sweep more often than
weekly or reviews are missed. Reviews are `Platform.review` mentions with a 1–5 `rating`.

Credentials: an OAuth client (Google Cloud console) and a refresh token of a Play Console user allowed to see and
reply to reviews, for the scope `https://www.googleapis.com/auth/androidpublisher`. `GoogleOAuthToken` trades the
refresh token for an access token at Google's token endpoint and renews it five minutes before it expires.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field

from listener.base import BuildContext, Collector, Page, SourceBase, SourceNotAvailable
from listener.http import Http, HttpError, decode_json
from listener.language import normalise_language
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, convert_items, page_error, source_error

API = "https://androidpublisher.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
RENEW_MARGIN_S = 300.0
MAX_REPLY_CHARS = 350
"""The most characters `reviews.reply` accepts in a reply (`enrichers.replies.googleplay`)."""


class GoogleOAuthToken:
    """An access token from a refresh token (OAuth 2.0 refresh-token grant), renewed before it expires."""

    def __init__(
        self, http: Http, *, client_id: str, client_secret: str, refresh_token: str, token_url: str = TOKEN_URL
    ) -> None:
        self.http = http
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.token_url = token_url
        self._access: str | None = None
        self._expires_at = 0.0

    def header(self) -> dict[str, str]:
        if self._access is None or self.http.clock() >= self._expires_at - RENEW_MARGIN_S:
            response = self.http.request(
                "POST",
                self.token_url,
                form={
                    "grant_type": "refresh_token",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "refresh_token": self.refresh_token,
                },
            )
            body = decode_json(response) if response.content else {}
            if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
                why = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
                raise HttpError(
                    self.token_url,
                    f"Google refused the refresh token ({why or f'HTTP {response.status_code}'}): create a new one "
                    "for the Play Console user",
                    status=response.status_code,
                )
            self._access = str(body["access_token"])
            self._expires_at = self.http.clock() + float(body.get("expires_in", 3600))
        return {"Authorization": f"Bearer {self._access}"}


def review_to_mention(review: Mapping[str, Any], package: str) -> Converted:
    """One Review resource (its user comment) as a Mention."""
    comment = next(c["userComment"] for c in review["comments"] if isinstance(c, dict) and "userComment" in c)
    text = (comment.get("text") or "").strip()
    if not text:
        raise ValueError("review has no text")
    review_id = str(review["reviewId"])
    modified = comment["lastModified"]
    stars = comment.get("starRating")
    return Converted(
        Mention(
            source=Platform.review,
            external_id=f"googleplay:{review_id}",
            url=f"https://play.google.com/store/apps/details?id={quote(package)}&reviewId={quote(review_id)}",
            author=Author(handle=review.get("authorName") or "anonymous", name=review.get("authorName")),
            text=text,
            language=normalise_language(comment.get("reviewerLanguage")),
            created_at=datetime.fromtimestamp(int(modified["seconds"]), tz=UTC),
            engagement=Engagement(likes=comment.get("thumbsUpCount")),
            rating=float(stars) if isinstance(stars, int | float) else None,
            raw_hash=payload_hash(review),
        )
    )


class GooglePlayCollector:
    """The recent reviews of one app. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        package: str,
        token: GoogleOAuthToken,
        base_url: str = API,
        page_size: int = 100,
        max_pages: int = 10,
        translation_language: str | None = None,
        finishing: Finishing | None = None,
    ) -> None:
        self.http = http
        self.name = name
        self.package = package
        self.token = token
        self.base = f"{base_url.rstrip('/')}/androidpublisher/v3/applications/{quote(package, safe='')}/reviews"
        self.params: dict[str, Any] = {"maxResults": max(1, min(page_size, 100))}
        if translation_language:
            self.params["translationLanguage"] = translation_language
        self.max_pages = max_pages
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        page_token: str | None = None
        for _ in range(self.max_pages):
            body = self._fetch({**self.params, "token": page_token} if page_token else self.params)
            reviews = [r for r in body.get("reviews") or [] if isinstance(r, dict)]
            mentions, rejected = convert_items(
                self.name, reviews, lambda r: review_to_mention(r, self.package), self.finishing
            )
            yield Page(mentions, rejected, next_cursor=None)
            page_token = (body.get("tokenPagination") or {}).get("nextPageToken")
            if not page_token:
                return

    def _fetch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            body = self.http.get_json(self.base, params=params, headers=self.token.header())
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if not isinstance(body, dict):
            raise page_error(self.name, self.base, "expected a ReviewsListResponse object")
        return body


# --- overheard.yaml: `kind: googleplay` ---------------------------------------------------------------------------


class GooglePlaySource(SourceBase):
    kind: Literal["googleplay"]
    apps: tuple[str, ...] = Field(min_length=1, description="Package names of your apps, e.g. com.acme.app.")
    client_id_env: str = Field(default="OVERHEARD_GOOGLE_CLIENT_ID", description="Env var with the OAuth client id.")
    client_secret_env: str = Field(
        default="OVERHEARD_GOOGLE_CLIENT_SECRET", description="Env var with the OAuth client secret."
    )
    refresh_token_env: str = Field(
        default="OVERHEARD_GOOGLE_PLAY_REFRESH_TOKEN",
        description="Env var with a refresh token of a Play Console user (scope androidpublisher).",
    )
    translation_language: str | None = Field(default=None, description="Have Google translate reviews into this.")
    base_url: str | None = Field(default=None, description="Leave out for androidpublisher.googleapis.com.")
    token_url: str | None = Field(default=None, description="Leave out for oauth2.googleapis.com/token.")


def build(source: GooglePlaySource, ctx: BuildContext) -> list[Collector]:
    """One collector per app, sharing the user's token."""
    token = GoogleOAuthToken(
        ctx.http,
        client_id=ctx.token(source.client_id_env, required=True) or "",
        client_secret=ctx.token(source.client_secret_env, required=True) or "",
        refresh_token=ctx.token(source.refresh_token_env, required=True) or "",
        token_url=source.token_url or TOKEN_URL,
    )
    if not source.apps:  # pragma: no cover - the model requires one
        raise SourceNotAvailable(f"source '{source.name}': name the apps")
    return [
        GooglePlayCollector(
            ctx.http,
            name=ctx.name(app),
            package=app,
            token=token,
            base_url=source.base_url or API,
            translation_language=source.translation_language,
            finishing=ctx.finishing,
        )
        for app in source.apps
    ]
