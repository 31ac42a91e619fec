"""Bluesky: `app.bsky.feed.searchPosts`, logged in with an app password on the account's PDS, or logged out.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    BlueskyCollector(
        http: Http,
        *,
        name: str,                          # cursor key, conventionally 'bluesky:<query name>'
        search: str,                        # sent as `q`; Bluesky's search has no OR, so the builder makes
                                            # one collector per alternative (`BuildContext.plain_searches`)
        base_url: str = "https://public.api.bsky.app",  # logged-out AppView (ignored with a session)
        session: BlueskySession | None = None,  # logged in: searches go to the account's PDS, which proxies them
        access_token: str | None = None,    # a fixed JWT instead of a session (expires within hours)
        language: str | None = None,        # `lang` filter
        page_size: int = 100,               # 1..100
        max_pages: int = 10,
        overlap_s: int = 0,                 # ask again this far below the floor (late-indexed posts)
        profile_batch: int = 25,            # authors per `app.bsky.actor.getProfiles` (the API's maximum)
        finishing: Finishing | None = None,
    )

Results are asked for with `sort=latest`, newest first. Pages are *time windows*, not the opaque `cursor`
(logged-out search refuses `cursor`, and deep paging runs out): the next page is `until` = the oldest post
seen plus one millisecond (the boundary is fetched again and deduplicated). Our own cursor is a
`listener.cursor.Watermark` over each post's sort time (the earlier of `record.createdAt` and `indexedAt`,
which is what `since`/`until` filter on): `since` = floor (inclusive), `until` = resume. Search results carry
no follower counts, so each page's authors are looked up with `app.bsky.actor.getProfiles`, 25 at a time.

`BlueskySession` logs in with an app password (`com.atproto.server.createSession` on bsky.social or the
account's PDS), sends later requests to the PDS its DID document names, and renews the access token with
`com.atproto.server.refreshSession` before its two hours run out (logging in again when the refresh is refused).
`RateLimit-*` headers are honoured by `Http`. The `bot` self-label is recorded as the 'bot' signal. Posts of
authors carrying the `!no-unauthenticated` self-label (they asked not to be shown to logged-out viewers) are
not collected.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from listener.base import BuildContext, Collector, Page, SourceBase, SourceNotAvailable
from listener.cursor import LATE_INDEXING_OVERLAP_S, Watermark
from listener.engagement import BlueskyEngagement
from listener.http import Http, HttpError, HttpStatusError, decode_json
from listener.language import normalise_language
from listener.mention import Author, Engagement, Mention, Platform, ReplyRef, payload_hash
from listener.normalise import Converted, Finishing, Skip, convert_items, page_error, source_error
from listener.recheck import BlueskyChecker

log = logging.getLogger(__name__)

SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
PROFILES_PATH = "/xrpc/app.bsky.actor.getProfiles"
PROFILE_BATCH = 25
"""Most actors `app.bsky.actor.getProfiles` takes in one request."""
AUTH_HOST = "https://bsky.social"
PUBLIC_APPVIEW = "https://public.api.bsky.app"
ACCESS_LIFETIME_S = 2 * 3600.0
"""How long an access token lives when its JWT does not say (Bluesky's are two hours)."""
RENEW_MARGIN_S = 10 * 60.0
"""A session is refreshed this long before its access token expires."""
NO_UNAUTHENTICATED = "!no-unauthenticated"
"""Self-label of authors who asked not to be shown to logged-out viewers; we honour it by not collecting."""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sort_time(post: Mapping[str, Any]) -> datetime:
    """The time Bluesky sorts and filters `sort=latest` search by."""
    created = _time(post["record"]["createdAt"])
    indexed = post.get("indexedAt")
    return min(created, _time(indexed)) if indexed else created


def _reply_ref(post: Mapping[str, Any], reply: Mapping[str, Any]) -> ReplyRef | None:
    """The post's cid and its thread's root (uri, cid): a reply names both (`app.bsky.feed.post#replyRef`)."""
    cid = post.get("cid")
    if not isinstance(cid, str) or not cid:
        return None
    root = reply.get("root") if isinstance(reply.get("root"), Mapping) else None
    if root and isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str):
        return ReplyRef(cid=cid, root_uri=root["uri"], root_cid=root["cid"])
    return ReplyRef(cid=cid, root_uri=post["uri"], root_cid=cid)


def post_to_mention(post: Mapping[str, Any]) -> Converted:
    """One `app.bsky.feed.defs#postView` as a Mention."""
    record = post["record"]
    author = post["author"]
    uri = post["uri"]
    rkey = uri.rsplit("/", 1)[-1]
    handle = author["handle"]
    reply = record.get("reply") or {}
    labels = {label.get("val") for label in author.get("labels") or []}
    if NO_UNAUTHENTICATED in labels:
        raise Skip("author opted out of logged-out visibility")
    langs = record.get("langs") or []
    return Converted(
        Mention(
            source=Platform.bluesky,
            external_id=uri,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            author=Author(
                handle=handle,
                name=author.get("displayName") or None,
                followers=author.get("followersCount"),
                profile_url=f"https://bsky.app/profile/{handle}",
            ),
            text=record["text"],
            language=normalise_language(langs[0]) if langs else None,
            created_at=_time(record["createdAt"]),
            engagement=Engagement(
                likes=post.get("likeCount"),
                reposts=post.get("repostCount"),
                replies=post.get("replyCount"),
                quotes=post.get("quoteCount"),
            ),
            reply_to_id=(reply.get("parent") or {}).get("uri"),
            thread_id=(reply.get("root") or {}).get("uri") or uri,
            reply_ref=_reply_ref(post, reply),
            raw_hash=payload_hash(post),
        ),
        platform_bot="bot" in labels,
    )


def _session_post(http: Http, url: str, *, json_body: Any = None, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = http.request("POST", url, json_body=json_body, headers=headers)
    body = decode_json(response) if response.content else {}
    if response.status_code != 200 or not isinstance(body, dict) or "accessJwt" not in body:
        reason = body.get("message") or body.get("error") if isinstance(body, dict) else None
        raise HttpError(
            url, f"Bluesky refused the login: {reason or f'HTTP {response.status_code}'}", status=response.status_code
        )
    return body


def create_session(http: Http, identifier: str, app_password: str, *, pds_url: str = AUTH_HOST) -> str:
    """Log in with an app password (`com.atproto.server.createSession`) and return the access JWT to pass
    as `BlueskyCollector(access_token=...)`. Use an app password, never the account password."""
    url = pds_url.rstrip("/") + "/xrpc/com.atproto.server.createSession"
    return str(_session_post(http, url, json_body={"identifier": identifier, "password": app_password})["accessJwt"])


def _expiry(jwt: str, now: float) -> float:
    """When an access JWT expires (its `exp` claim), or two hours from now when it cannot be read."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return now + ACCESS_LIFETIME_S


def _pds_of(body: Mapping[str, Any]) -> str | None:
    """The account's PDS, from the DID document createSession returns."""
    doc = body.get("didDoc")
    services = doc.get("service") if isinstance(doc, dict) else None
    for service in services if isinstance(services, list) else []:
        if isinstance(service, dict) and service.get("id", "").endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            return endpoint.rstrip("/") if isinstance(endpoint, str) else None
    return None


class BlueskySession:
    """A logged-in session: logs in on first use, then refreshes `RENEW_MARGIN_S` before the access token
    expires, logging in again when the refresh token is refused. Shared by the collectors of one source."""

    def __init__(self, http: Http, identifier: str, app_password: str, *, auth_url: str = AUTH_HOST) -> None:
        self.http = http
        self.identifier = identifier
        self.app_password = app_password
        self.auth_url = auth_url.rstrip("/")
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._pds: str | None = None

    @property
    def service_url(self) -> str:
        """Where logged-in requests go: the account's PDS (it proxies app.bsky.* to the AppView)."""
        if self._access is None:
            self._login()
        return self._pds or self.auth_url

    def header(self) -> dict[str, str]:
        """The Authorization header with an access token valid for at least the renewal margin."""
        if self._access is None:
            self._login()
        elif self.http.clock() >= self._expires_at - RENEW_MARGIN_S:
            self._renew()
        return {"Authorization": f"Bearer {self._access}"}

    def forget(self) -> None:
        """The server said the access token expired: renew it before the next request."""
        self._expires_at = 0.0

    def _login(self) -> None:
        url = f"{self.auth_url}/xrpc/com.atproto.server.createSession"
        self._take(
            _session_post(self.http, url, json_body={"identifier": self.identifier, "password": self.app_password})
        )

    def _renew(self) -> None:
        url = f"{self._pds or self.auth_url}/xrpc/com.atproto.server.refreshSession"
        try:
            self._take(_session_post(self.http, url, token=self._refresh))
        except HttpError as exc:
            log.info("bluesky.refresh_refused", extra={"identifier": self.identifier, "reason": str(exc)})
            self._login()

    def _take(self, body: Mapping[str, Any]) -> None:
        self._access = str(body["accessJwt"])
        self._refresh = str(body.get("refreshJwt") or self._refresh or "")
        self._expires_at = _expiry(self._access, self.http.clock())
        self._pds = _pds_of(body) or self._pds


class BlueskyCollector:
    """Post search for one term. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        search: str,
        base_url: str = PUBLIC_APPVIEW,
        session: BlueskySession | None = None,
        access_token: str | None = None,
        language: str | None = None,
        page_size: int = 100,
        max_pages: int = 10,
        overlap_s: int = 0,
        profile_batch: int = PROFILE_BATCH,
        finishing: Finishing | None = None,
    ) -> None:
        if not search.strip():
            raise ValueError("Bluesky: search must not be empty")
        self.overlap_s = overlap_s
        self.http = http
        self.name = name
        self.search = search
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self.language = language
        self.page_size = max(1, min(page_size, 100))
        self.max_pages = max_pages
        self.profile_batch = max(1, min(profile_batch, PROFILE_BATCH))
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        params: dict[str, Any] = {"q": self.search, "sort": "latest", "limit": self.page_size}
        if self.language:
            params["lang"] = self.language
        if start.floor:
            params["since"] = _stamp(_time(start.floor) - timedelta(seconds=self.overlap_s))
        until = _stamp(_time(start.resume) + timedelta(milliseconds=1)) if start.resume else None
        page_cursor: str | None = None  # only when a whole page shares one millisecond (windows cannot split it)
        newest: str | None = None
        for _ in range(self.max_pages):
            window = {
                **params,
                **({"until": until} if until else {}),
                **({"cursor": page_cursor} if page_cursor else {}),
            }
            body = self._fetch(SEARCH_PATH, window)
            posts = self._with_followers([p for p in body["posts"] if isinstance(p, dict)])
            mentions, rejected = convert_items(self.name, posts, post_to_mention, self.finishing)
            times = sorted(_stamp(t) for t in (_safe_sort_time(p) for p in posts) if t is not None)
            if times:
                newest = times[-1] if newest is None else max(newest, times[-1], key=_time)
            exhausted = not body.get("cursor") or not posts or not times
            mark = start.after_page(newest=newest, oldest=times[0] if times else None, exhausted=exhausted, order=_time)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted:
                return
            below = _stamp(_time(times[0]) + timedelta(milliseconds=1))
            page_cursor = body.get("cursor") if below == until else None
            until = below

    def _with_followers(self, posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The posts with their authors' follower counts, which search results lack, from getProfiles. A lookup
        that fails leaves the counts unknown: followers are worth having, not worth losing the page for."""
        wanted = list(dict.fromkeys(p["author"]["did"] for p in posts if _author_did(p) and not _has_followers(p)))
        counts: dict[str, int] = {}
        for begin in range(0, len(wanted), self.profile_batch):
            try:
                _, body = self._get(PROFILES_PATH, {"actors": wanted[begin : begin + self.profile_batch]})
            except HttpError as exc:
                log.warning("bluesky.profiles_unavailable", extra={"source": self.name, "reason": str(exc)})
                break
            profiles = body.get("profiles") if isinstance(body, dict) else None
            for profile in profiles if isinstance(profiles, list) else []:
                if isinstance(profile, dict) and isinstance(profile.get("followersCount"), int):
                    counts[str(profile.get("did"))] = profile["followersCount"]
        return [
            {**p, "author": {**p["author"], "followersCount": counts[_author_did(p) or ""]}}
            if (_author_did(p) or "") in counts
            else p
            for p in posts
        ]

    def _fetch(self, path: str, params: Mapping[str, Any], listed: str = "posts") -> dict[str, Any]:
        try:
            url, body = self._get(path, params)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if not isinstance(body, dict) or not isinstance(body.get(listed), list):
            raise page_error(self.name, url, f"expected an object with a '{listed}' list")
        return body

    def _get(self, path: str, params: Mapping[str, Any]) -> tuple[str, Any]:
        url = (self.session.service_url if self.session else self.base_url) + path
        try:
            return url, self.http.get_json(url, params=params, headers=self._headers())
        except HttpStatusError as exc:
            # An access token can expire early (the server answers 400/401 'ExpiredToken'): renew, ask once more.
            if exc.status not in (400, 401) or self.session is None:
                raise
            self.session.forget()
            return url, self.http.get_json(url, params=params, headers=self._headers())

    def _headers(self) -> dict[str, str]:
        return self.session.header() if self.session else self.headers


def _author_did(post: Mapping[str, Any]) -> str | None:
    author = post.get("author")
    did = author.get("did") if isinstance(author, dict) else None
    return did if isinstance(did, str) else None


def _has_followers(post: Mapping[str, Any]) -> bool:
    return isinstance(post["author"].get("followersCount"), int)


def _safe_sort_time(post: Mapping[str, Any]) -> datetime | None:
    try:
        return sort_time(post)
    except (KeyError, TypeError, ValueError):
        return None


# --- overheard.yaml: `kind: bluesky` ------------------------------------------------------------------------------


class BlueskySource(SourceBase):
    kind: Literal["bluesky"]
    identifier: str | None = Field(
        default=None, description="The account's handle or DID to log in with; left out: logged-out search."
    )
    app_password_env: str = Field(
        default="OVERHEARD_BLUESKY_APP_PASSWORD", description="Env var with an app password (Settings → App passwords)."
    )
    auth_url: str = Field(default=AUTH_HOST, description="Where to log in: bsky.social, or the account's own PDS.")
    service: str = Field(default=PUBLIC_APPVIEW, description="The AppView for logged-out search.")
    language: str | None = None
    access_token_env: str | None = Field(default=None, description="A fixed access JWT instead of a login.")


def build(source: BlueskySource, ctx: BuildContext) -> list[Collector]:
    """One post search per alternative of each query, sharing one logged-in session when an identifier is set."""
    session = None
    if source.identifier:
        password = ctx.token(source.app_password_env, required=True) or ""
        session = BlueskySession(ctx.http, source.identifier, password, auth_url=source.auth_url)
    elif source.access_token_env and not ctx.token(source.access_token_env):
        raise SourceNotAvailable(f"source '{source.name}': set the environment variable {source.access_token_env}")
    token = ctx.token(source.access_token_env)
    return [
        BlueskyCollector(
            ctx.http,
            name=name,
            search=search,
            base_url=source.service,
            session=session,
            access_token=token,
            language=source.language,
            overlap_s=LATE_INDEXING_OVERLAP_S,
            finishing=ctx.finishing,
        )
        for name, _, search in ctx.plain_searches()
    ]


def deletion_checker(source: BlueskySource, ctx: BuildContext) -> BlueskyChecker:
    """The re-check for deletions (`app.bsky.feed.getPosts`) on the source's AppView."""
    return BlueskyChecker(ctx.http, source.service, ctx.token(source.access_token_env))


def engagement_lookup(source: BlueskySource, ctx: BuildContext) -> BlueskyEngagement:
    """Counts of young posts, 25 per `getPosts` request on the source's AppView."""
    return BlueskyEngagement(ctx.http, source.service)
