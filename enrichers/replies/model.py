"""The vendor-neutral side of replying: which thread, from which account, and what came of it.

Each platform's wire format lives in its own module beside this one (`mastodon`, `bluesky`, `x`, `reddit`, and the
app stores' review replies `googleplay`, `appstore`); they
share these types and `call`, which turns every way an HTTP request can fail into a reason a person can act on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from listener.mention import Mention, ReplyRef

_FROZEN = ConfigDict(frozen=True, extra="forbid")

ReplyPlatform = Literal["mastodon", "bluesky", "x", "reddit", "googleplay", "appstore"]

DEFAULT_API: dict[str, str] = {
    "bluesky": "https://bsky.social",
    "x": "https://api.x.com",
    "reddit": "https://oauth.reddit.com",
    "googleplay": "https://androidpublisher.googleapis.com",
    "appstore": "https://api.appstoreconnect.apple.com",
}
"""Where each platform's API lives when an account names no `base_url` (Mastodon has no default: name your
instance)."""

PLATFORM_NAMES: dict[str, str] = {
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "x": "X",
    "reddit": "Reddit",
    "googleplay": "Google Play",
    "appstore": "App Store Connect",
}

STORES = ("googleplay", "appstore")
"""Review platforms answered through their store's API: their reviews are `review` mentions whose external_id starts
with '<store>:' (`listener.googleplay`, `listener.appstore`)."""


class ReplyAccount(BaseModel):
    """One account the team answers customers from, on one platform (`reply_accounts:` in overheard.yaml).

    The secret never lives in the file: `secret_env` names the environment variable holding it.
    """

    model_config = _FROZEN

    platform: ReplyPlatform
    secret_env: str = Field(
        min_length=1,
        description=(
            "Environment variable holding the account's secret: Mastodon, an access token with write:statuses; "
            "Bluesky, an app password; X, a user-context OAuth 2.0 token (PKCE) with tweet.write, used only while no "
            "account is connected in Settings → Reply accounts (it may then be left unset); Reddit, a user "
            "OAuth token with the submit scope; Google Play, a Play Console user's refresh token (scope "
            "androidpublisher); App Store, the API key's .p8 file contents."
        ),
    )
    base_url: str | None = Field(
        default=None,
        description="Mastodon: your instance, e.g. 'https://mastodon.social' (required). Others: the API's address "
        "(default: the platform's own).",
    )
    handle: str | None = Field(
        default=None, description="Bluesky: the handle or DID to sign in as (required). Others: shown to the team."
    )
    cost_per_post: Decimal | None = Field(
        default=None, ge=0, description="X: what one post costs under your API plan, shown before sending."
    )
    currency: str = Field(default="USD", min_length=3, max_length=3, description="Currency of `cost_per_post`.")
    user_agent: str = Field(
        default="overheard-replies/1.0",
        min_length=1,
        description="Reddit asks every client to identify itself ('<app>/<version> by u/<name>').",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for each answer.")
    client_id_env: str | None = Field(
        default=None,
        description="Google Play (required) and X (to connect the account with OAuth 2.0 PKCE): environment variable "
        "with the OAuth client id.",
    )
    client_secret_env: str | None = Field(
        default=None,
        description="Google Play (required) and X (a confidential client; leave out for a public one): environment "
        "variable with the OAuth client secret.",
    )
    token_url: str | None = Field(
        default=None,
        description="The OAuth token endpoint (default: Google Play https://oauth2.googleapis.com/token, X "
        "<base_url>/2/oauth2/token).",
    )
    authorize_url: str | None = Field(
        default=None,
        description="X: where the admin authorizes the account (default: https://x.com/i/oauth2/authorize).",
    )
    redirect_uri: str | None = Field(
        default=None,
        description="X: the callback URL registered for your X app, exactly (default: this server's "
        "/settings/accounts/x/callback as the browser reached it).",
    )
    key_id: str | None = Field(default=None, description="App Store: the App Store Connect API key's id (required).")
    issuer_id: str | None = Field(default=None, description="App Store: your team's issuer id (required).")

    @model_validator(mode="after")
    def _needs(self) -> ReplyAccount:
        if self.platform == "mastodon" and not self.base_url:
            raise ValueError("a mastodon reply account needs base_url (your instance, e.g. https://mastodon.social)")
        if self.platform == "bluesky" and not self.handle:
            raise ValueError("a bluesky reply account needs handle (the account to sign in as)")
        if self.platform == "googleplay" and not (self.client_id_env and self.client_secret_env):
            raise ValueError(
                "a googleplay reply account needs client_id_env and client_secret_env (the variables holding the "
                "OAuth client's id and secret; secret_env holds the refresh token)"
            )
        if self.platform == "x" and self.client_secret_env and not self.client_id_env:
            raise ValueError(
                "an x reply account with client_secret_env needs client_id_env too (the OAuth client's id)"
            )
        if self.platform == "appstore" and not (self.key_id and self.issuer_id):
            raise ValueError(
                "an appstore reply account needs key_id and issuer_id (App Store Connect → Users and Access → "
                "Integrations; secret_env holds the .p8 key)"
            )
        return self

    @property
    def api(self) -> str:
        """The API's base URL, without a trailing slash."""
        return (self.base_url or DEFAULT_API[self.platform]).rstrip("/")


@dataclass(frozen=True)
class ReplyCredentials:
    """An account with its secret, read from the environment (`credentials_for`)."""

    account: ReplyAccount
    secret: SecretStr
    more: Mapping[str, SecretStr] = field(default_factory=dict)  # other secrets, by variable (Google's OAuth client)


@dataclass(frozen=True)
class MissingSecret:
    """The account's secret is not in the environment; `reason` names the variable to set."""

    reason: str


def credentials_for(account: ReplyAccount, environ: Mapping[str, str]) -> ReplyCredentials | MissingSecret:
    """The account's credentials, or what to set when its environment variable is empty."""
    name = PLATFORM_NAMES[account.platform]
    more: dict[str, SecretStr] = {}
    # X's OAuth client is for connecting the account (enrichers.replies.x_oauth), not for posting with the token.
    client = (account.client_id_env, account.client_secret_env) if account.platform != "x" else ()
    for variable in (account.secret_env, *client):
        if variable is None:
            continue
        value = environ.get(variable, "").strip()
        if not value:
            return MissingSecret(f"no {name} credentials: set the environment variable {variable}")
        more[variable] = SecretStr(value)
    return ReplyCredentials(account, more.pop(account.secret_env), more)


def secret_in(credentials: ReplyCredentials, variable: str | None) -> str:
    """One of the credentials' other secrets (read by `credentials_for`), by its variable."""
    found = credentials.more.get(variable or "")
    return found.get_secret_value() if found is not None else ""


class ThreadRef(BaseModel):
    """The post to answer, as its platform names it."""

    model_config = _FROZEN

    platform: str = Field(description="listener.Platform value of the post ('x', 'mastodon', ...).")
    external_id: str = Field(
        description="The post's id: a tweet id, a Reddit fullname ('t3_…'/'t1_…'), a Bluesky at-uri, a Mastodon URI."
    )
    url: str | None = Field(default=None, description="Public link to the post (Mastodon resolves it when needed).")
    reply_ref: ReplyRef | None = Field(default=None, description="What the collector kept for replying.")

    @classmethod
    def of(cls, mention: Mention) -> ThreadRef:
        return cls(
            platform=mention.source.value, external_id=mention.external_id, url=mention.url, reply_ref=mention.reply_ref
        )

    @property
    def answered_on(self) -> str:
        """The platform whose API takes the reply: the post's platform, or for an app store review its store."""
        store = self.external_id.split(":", 1)[0]
        return store if self.platform == "review" and store in STORES and ":" in self.external_id else self.platform


class ReplyResult(BaseModel):
    """What came of one reply: sent, with the platform's id and link for it, or failed with a reason a person can
    act on and the draft kept to fix and send again."""

    model_config = _FROZEN

    platform: str
    sent: bool
    post_id: str | None = Field(
        default=None, description="The reply's id on the platform (status id, at-uri, tweet id, Reddit fullname)."
    )
    url: str | None = Field(default=None, description="Public link to the reply, when the platform gives one.")
    reason: str | None = Field(default=None, description="Why it was not sent, in words; None when sent.")
    draft: str | None = Field(default=None, description="The text, kept when the reply was not sent.")
    status_code: int | None = Field(default=None, description="The platform's HTTP status, when it answered.")

    @classmethod
    def failed(cls, platform: str, text: str, reason: str, status_code: int | None = None) -> ReplyResult:
        return cls(platform=platform, sent=False, reason=reason, draft=text, status_code=status_code)


# ---- HTTP: one request, every failure a reason ------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A request that got no usable answer; `reason` says why."""

    reason: str
    status_code: int | None = None


def body_of(response: httpx.Response) -> Any:
    """The response's JSON, or None when it sent something else."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def call(
    client: httpx.Client,
    method: str,
    url: str,
    credentials: ReplyCredentials,
    *,
    message: Callable[[Any], str | None],
    headers: Mapping[str, str] | None = None,
    **request: Any,
) -> httpx.Response | Failure:
    """Send one request; a 2xx response comes back, anything else as a `Failure` whose reason names the platform,
    what it said (`message` reads it from the body) and what to do about it."""
    name = PLATFORM_NAMES[credentials.account.platform]
    try:
        response = client.request(
            method, url, headers=dict(headers or {}), timeout=credentials.account.timeout_s, **request
        )
    except httpx.TimeoutException:
        return Failure(
            f"{name} did not answer within {credentials.account.timeout_s:g}s; the reply may or may not have been "
            "posted: check the thread before sending again"
        )
    except httpx.HTTPError as error:
        return Failure(f"could not reach {name} at {credentials.account.api}: {error}")
    if response.is_success:
        return response
    said = message(body_of(response))
    code = response.status_code
    detail = f"HTTP {code}" + (f": {said}" if said else "")
    if code == 401:
        reason = (
            f"{name} refused the account's credentials ({detail}); renew the secret in {credentials.account.secret_env}"
        )
    elif code == 403:
        reason = (
            f"{name} does not allow this reply ({detail}); the account may lack permission to post, or the author "
            "may have limited who can reply"
        )
    elif code == 429:
        wait = response.headers.get("retry-after")
        reason = f"{name}'s rate limit is reached ({detail}); try again" + (f" in {wait} s" if wait else " later")
    elif code >= 500:
        reason = f"{name} failed to take the reply ({detail}); try again later"
    else:
        reason = f"{name} refused the reply ({detail})"
    return Failure(reason, code)
