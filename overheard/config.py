"""overheard.yaml: the one validated configuration, and the settings read from the environment.

Secrets never live in the file: a channel or source names the *environment variable* that holds its
secret (`secret_env: OVERHEARD_SERVICE_WEBHOOK_SECRET`). Errors name the file, line and key.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from classifiers import missing_model_files
from classifiers.verdict import Intent
from enrichers.alerts import AlertsConfig
from enrichers.crm.hubspot.client import HubSpotSettings
from enrichers.leads import DEFAULT_LEAD_SCORING, LeadScoring
from enrichers.priority import PriorityConfig
from enrichers.replies import ReplyAccount
from enrichers.routing import DEFAULT_ROUTING, RoutingConfig, describe_errors
from listener.base import SourceBase
from listener.mention import Platform
from listener.query import QuerySyntaxError
from listener.query import parse as parse_query
from listener.registry import SOURCES

_STRICT = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """overheard.yaml cannot be used; the message names file, line and key for each problem."""


class Settings(BaseSettings):
    """Everything read from the environment: the one list of OVERHEARD_* variables, each documented here once.

    The variable is the field's name in capitals after `OVERHEARD_` (`task_time_limit_s` is
    OVERHEARD_TASK_TIME_LIMIT_S). Process settings override the file (`database_url`); the worker settings tune
    `overheard worker` and `overheard scheduler` (docs/scaling.md says what each guarantees). Secrets a source or
    channel needs are named in the file (`secret_env:`) and read with `secret()`; the classifier's own variables
    (OVERHEARD_CACHE_DIR, OVERHEARD_DATA_DIR, OVERHEARD_TRAIN_THREADS) are read by `classifiers`, which imports
    nothing of ours, and listed in docs/configuration.md with these.
    """

    model_config = SettingsConfigDict(env_prefix="OVERHEARD_", extra="ignore", frozen=True)

    # ---- every process
    config: Path = Field(default=Path("overheard.yaml"), description="Path to overheard.yaml.")
    database_url: str | None = Field(default=None, description="Overrides `database` in the file (holds passwords).")
    redis_url: str | None = Field(
        default=None, description="The Redis broker `overheard worker` and `overheard scheduler` share."
    )
    classifier: str = Field(
        default="overheard.runtime:load_classifier",
        description="'module:function' returning the classifier every command and worker uses (tests: a stand-in).",
    )
    # ---- workers and the scheduler
    visibility_timeout_s: float = Field(
        default=3600, gt=0, description="Redis redelivers a message not acknowledged within this many seconds."
    )
    task_time_limit_s: float = Field(default=900, gt=0, description="A task running longer is killed (hard limit).")
    task_max_attempts: int = Field(default=5, ge=1, description="Attempts before a run is dead-lettered.")
    retry_base_s: float = Field(default=10, gt=0, description="Delay before the first retry; doubles each attempt.")
    retry_max_s: float = Field(default=600, gt=0, description="Longest delay between retries.")
    stuck_after_s: float | None = Field(
        default=None, description="Re-send an unfinished run untouched this long (default: 2 × visibility timeout)."
    )
    recover_every_s: float = Field(default=30, gt=0, description="How often the scheduler sends `recover`.")
    pending_ttl_s: float = Field(
        default=120,
        gt=0,
        description=(
            "A waiting collect, re-check, recover or sender wake-up keeps another of the same job from being "
            "queued for at most this long (overheard/pending.py)."
        ),
    )
    soft_shutdown_s: float = Field(default=60, ge=0, description="On shutdown, running tasks get this long to end.")
    runs_kept_days: int = Field(default=7, ge=1, description="Finished task runs are forgotten after this many days.")
    queue: str = Field(default="overheard", min_length=1, description="The Celery queue workers read.")

    @model_validator(mode="after")
    def _ordered(self) -> Settings:
        problems = []
        if self.visibility_timeout_s <= self.task_time_limit_s:
            problems.append(
                f"OVERHEARD_VISIBILITY_TIMEOUT_S ({self.visibility_timeout_s:g}) must be longer than "
                f"OVERHEARD_TASK_TIME_LIMIT_S ({self.task_time_limit_s:g}), or Redis hands a running task "
                "to a second worker"
            )
        if self.retry_max_s >= self.stuck_seconds:
            problems.append(
                f"OVERHEARD_RETRY_MAX_S ({self.retry_max_s:g}) must be shorter than OVERHEARD_STUCK_AFTER_S "
                f"({self.stuck_seconds:g}), or a run waiting for its retry is re-sent as stuck"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def stuck_seconds(self) -> float:
        return self.stuck_after_s if self.stuck_after_s is not None else 2 * self.visibility_timeout_s


OTHER_VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("OVERHEARD_CACHE_DIR", "~/.cache/overheard", "Where the classifier keeps its ONNX exports and backend choice."),
    ("OVERHEARD_DATA_DIR", "var/data", "The fetched training data `overheard train` reads (`--data` overrides)."),
    ("OVERHEARD_SENTIMENT_DIR", "$OVERHEARD_DATA_DIR/tweeteval_sentiment", "The TweetEval sentiment files alone."),
    ("OVERHEARD_INTENT_LABELS", "classifiers/data/intent/labels.tsv", "Another intent label file (training)."),
    ("OVERHEARD_TRAIN_THREADS", "2", "CPU threads the encoder uses while `overheard train` pools features."),
)
"""Variables read by `classifiers`, which imports nothing of ours, so they cannot be fields of `Settings`;
listed here so docs/configuration.md names every variable in one table."""


def environment_table() -> str:
    """The Markdown table of every OVERHEARD_* variable, as docs/configuration.md holds it (a test keeps it so)."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, spec in Settings.model_fields.items():
        default = spec.get_default(call_default_factory=True)
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `OVERHEARD_{name.upper()}` | {shown} | {spec.description} |")
    rows += [f"| `{name}` | `{default}` | {what} |" for name, default, what in OTHER_VARIABLES]
    return "\n".join(rows) + "\n"


def environment(**overrides: Any) -> Settings:
    """The settings from the environment, with `overrides` (a command's options) on top; `ConfigError` names
    each variable that is wrong and why."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = "".join(f"OVERHEARD_{str(part).upper()}" for part in error["loc"][:1])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise ConfigError("; ".join(problems)) from None


def _check_query(value: str) -> str:
    try:
        parse_query(value)
    except QuerySyntaxError as exc:
        raise ValueError(f"query {value!r}: {exc}") from None
    return value


Query = Annotated[str, Field(min_length=1, description='Boolean query: AND / OR / NOT, "phrases", (groups).')]


class Watched(BaseModel):
    """A brand, product or competitor we listen for."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    query: Query
    domain: str | None = Field(default=None, description="Web domain it owns, for company linking.")

    _query_ok = field_validator("query")(classmethod(lambda cls, v: _check_query(v)))


class Brand(Watched):
    products: tuple[Watched, ...] = ()


class Competitor(Watched):
    competes_with: str | None = Field(default=None, description="Name of our brand it competes with.")


class HttpConfig(BaseModel):
    """How the listener's one HTTP client behaves (all collectors share it)."""

    model_config = _STRICT

    user_agent: str | None = Field(default=None, description="Identifying User-Agent; leave out for the default.")
    min_interval_s: float = Field(default=1.0, ge=0, description="Per-host minimum gap between requests, in seconds.")
    allow_networks: tuple[str, ...] = Field(
        default=(), description="Private networks collectors may reach (e.g. a self-hosted instance). Empty: none."
    )


def _sources_schema(models: tuple[type[SourceBase], ...]) -> Any:
    """One entry under `sources:`: the registered model its `kind` names."""
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007 (a union of a runtime tuple)


_REGISTERED = tuple(kind.config for kind in SOURCES.values())

if TYPE_CHECKING:  # the union is built from the registry at run time; every member is a SourceBase
    Source = SourceBase
else:
    Source = _sources_schema(_REGISTERED)


class Channel(BaseModel):
    """Where a team hears about a route. `inbox` keeps it for the web inbox only; the others also send."""

    model_config = _STRICT

    kind: Literal["inbox", "webhook", "slack", "email", "crm", "hubspot"] = Field(
        description="inbox: the web inbox only; webhook/slack/email: sent there; crm: a signed lead payload to a "
        "URL; hubspot: synced into HubSpot with the `crm.hubspot` settings (contact, company, note, deal)."
    )
    url: str | None = Field(default=None, description="webhook/slack/crm: the endpoint URL.")
    secret_env: str | None = Field(
        default=None, description="webhook/crm: env var holding the 'whsec_…' signing secret."
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    mail_from: str | None = None
    to: tuple[str, ...] = Field(default=(), description="email: recipients.")

    @model_validator(mode="after")
    def _needs(self) -> Channel:
        missing = []
        if self.kind in ("webhook", "slack", "crm") and not self.url:
            missing.append("url")
        if self.kind in ("webhook", "crm") and not self.secret_env:
            missing.append("secret_env (the environment variable holding the signing secret)")
        if self.kind == "email":
            missing += [f for f in ("smtp_host", "mail_from") if not getattr(self, f)] + ([] if self.to else ["to"])
        if missing:
            raise ValueError(f"a {self.kind} channel needs {', '.join(missing)}")
        return self


def _default_channels() -> dict[str, Channel]:
    teams = ("customer_service", "sales", "marketing", "product", "communications")
    return {team: Channel(kind="inbox") for team in teams}


class CrmConfig(BaseModel):
    """`crm:`: the CRMs leads are synced into by a channel of that kind (`channels: {sales-crm: {kind: hubspot}}`)."""

    model_config = _STRICT

    hubspot: HubSpotSettings | None = Field(
        default=None, description="HubSpot: the private-app token's environment variable, what to create, limits."
    )


class RetentionConfig(BaseModel):
    """How long records are kept, in days."""

    model_config = _STRICT

    findings_days: int = Field(default=180, ge=1, description="Findings on a contact's profile.")
    mentions_days: int = Field(default=365, ge=1)
    quarantine_days: int = Field(default=30, ge=1)
    deliveries_days: int = Field(default=90, ge=1)
    audit_days: int = Field(default=2190, ge=1)
    pages_days: int = Field(default=30, ge=1, description="Collected pages still waiting for a worker.")
    every: str = Field(
        default="1d", description="How often retention runs by itself (the scheduler and `overheard run`)."
    )
    enabled: bool = Field(default=True, description="Run retention on its schedule (`gdpr retention` always works).")


class RecheckConfig(BaseModel):
    """The re-check for platform deletions: a sample of recent mentions per source, asked for again."""

    model_config = _STRICT

    enabled: bool = True
    every: str = Field(default="6h", description="How often the scheduler (and `overheard run`) re-checks, e.g. '6h'.")
    per_source: int = Field(default=20, ge=1, le=1000, description="Mentions sampled per source each time.")
    window_days: int = Field(default=7, ge=1, description="Sample among mentions collected in this many days.")


Probability = Annotated[float, Field(ge=0, le=1)]


class ThresholdsConfig(BaseModel):
    """Confidence below which a verdict is marked needs_human; what is left out keeps the shipped value."""

    model_config = _STRICT

    sentiment: Probability | None = Field(default=None, description="For the sentiment verdict (0–1).")
    intent: dict[Intent, Probability] = Field(
        default_factory=dict, description="Per intent, e.g. {complaint: 0.6, purchase_intent: 0.7} (0–1)."
    )


class DeliveryConfig(BaseModel):
    model_config = _STRICT

    concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description=(
            "Sends in flight at once: a slow receiver (a CRM answering in 300 ms) then costs one slot, "
            "not the whole queue's time. 1 sends one by one in due order. Keep it at or below the smallest "
            "receiver's listen backlog (Python's http.server: 5): more connections at once than that made "
            "a local receiver drop connection attempts, which the sender retried a second later."
        ),
    )
    per_channel: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description=(
            "Sends in flight to one channel at most (default: half of `concurrency`, at least 1), so a receiver "
            "that hangs holds its own slots and the other channels keep theirs."
        ),
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to connect to a receiver, and to wait for each read."
    )
    deadline_s: float = Field(
        default=30.0,
        gt=0,
        le=900,
        description="Seconds one send may take in all, however slowly the receiver answers (a byte every 2 s).",
    )
    breaker_failures: int = Field(
        default=5, ge=1, description="Failed sends in a row after which a channel is not tried for a while."
    )
    breaker_cooldown_s: float = Field(
        default=60.0, gt=0, description="How long a channel whose breaker opened waits before one send tries it."
    )

    @model_validator(mode="after")
    def _deadline_covers_a_read(self) -> DeliveryConfig:
        if self.deadline_s < self.timeout_s:
            raise ValueError(f"deadline_s ({self.deadline_s:g}) must be at least timeout_s ({self.timeout_s:g})")
        return self


class WebConfig(BaseModel):
    """`overheard serve`: web sessions, cookies and the limits that hold before a request is read."""

    model_config = _STRICT

    session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="A web sign-in lasts this long (and never past its token's expiry)."
    )
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "Mark the session cookie Secure: 'auto' when the request came over https (run uvicorn with "
            "--proxy-headers behind a TLS proxy), 'always' behind https whatever the proxy says, 'never' for "
            "plain-http development only."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Larger request bodies are refused (413) before they are read."
    )
    failed_sign_ins_per_minute: int = Field(
        default=10, ge=1, description="Bad tokens or sign-ins one client address may send a minute before 429."
    )


class ClassifierConfig(BaseModel):
    model_config = _STRICT

    backend: Literal["auto", "onnx-int8", "onnx-fp32", "onnx", "torch"] = Field(
        default="auto",
        description=(
            "auto: at first use on a host, time ONNX Runtime fp32 and int8 on a fixed sample and serve the fastest "
            "whose verdicts agree with fp32 on at least 99% of intents and of sentiments; the choice and its reason "
            "are kept per model version and CPU (`overheard doctor` shows them). onnx-int8 (or onnx): int8 weights, "
            "fastest where the CPU has VNNI; onnx-fp32: the trained weights on ONNX Runtime; torch: the fp32 weights "
            "on PyTorch, as trained."
        ),
    )
    allow_fast: bool = Field(
        default=False,
        description=(
            "With backend auto and the standard model: the 4-layer fast model is a candidate too, and serves if it "
            "is the fastest (lower sentiment and complaint figures: see the model card)."
        ),
    )
    batch_size: int = Field(default=32, ge=1, le=1024)
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    model: Literal["standard", "fast"] = Field(
        default="standard",
        description=(
            "Which shipped model to serve: standard (6 layers) or fast (4 layers: about 1.4x the speed for hosts "
            "where standard falls short, with lower sentiment and complaint figures; see the model card)."
        ),
    )
    artifacts: Path | None = Field(
        default=None,
        description=(
            "Folder of a model to serve instead of a shipped one (meta.json, heads.npz and "
            "encoder_layers.safetensors), relative to this file. E.g. what `overheard train --out DIR` wrote, or "
            "an earlier release restored with `git archive`."
        ),
    )

    @model_validator(mode="after")
    def _one_model(self) -> ClassifierConfig:
        if self.artifacts is not None and "model" in self.model_fields_set:
            raise ValueError("set classifier.model (a shipped model) or classifier.artifacts (a folder), not both")
        return self

    def model_folder(self) -> Path:
        """The folder of the model this config serves: ``artifacts`` if given, else the shipped ``model``."""
        from classifiers.model import RELEASES

        return self.artifacts or RELEASES[self.model]


class OverheardConfig(BaseModel):
    """The whole configuration: overheard.yaml, and the environment's settings under `env` (one tree)."""

    model_config = _STRICT

    env: Settings = Field(
        default_factory=environment,
        exclude=True,
        repr=False,
        description="The OVERHEARD_* environment variables (`Settings`); never written in the file.",
    )

    database: str = Field(
        default="sqlite:///./var/overheard.db", description="SQLAlchemy URL; put passwords in OVERHEARD_DATABASE_URL."
    )
    brands: tuple[Brand, ...] = Field(description="At least one brand we listen for.")
    competitors: tuple[Competitor, ...] = ()
    sources: tuple[Source, ...] = ()
    http: HttpConfig = Field(default_factory=HttpConfig)
    channels: dict[str, Channel] = Field(default_factory=_default_channels)
    routing: RoutingConfig = DEFAULT_ROUTING
    leads: LeadScoring = DEFAULT_LEAD_SCORING
    crm: CrmConfig = Field(default_factory=CrmConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    recheck: RecheckConfig = Field(default_factory=RecheckConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    owned_accounts: dict[Platform, tuple[str, ...]] = Field(
        default_factory=dict,
        description=(
            "The brand's own accounts per platform (e.g. {x: [LumoraHelp]}): their posts are the brand speaking, "
            "never routed as a customer's complaint (enrichers.noise)."
        ),
    )
    priority: PriorityConfig = Field(default_factory=PriorityConfig)
    reply_accounts: dict[str, ReplyAccount] = Field(
        default_factory=dict,
        description="Accounts the team answers from, by name; each names its platform and the secret's variable.",
    )
    reply_token_key_env: str = Field(
        default="OVERHEARD_REPLY_TOKEN_KEY",
        min_length=1,
        description=(
            "Environment variable holding the Fernet key (32 url-safe base64 bytes, e.g. from `python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`) that encrypts the tokens of "
            "reply accounts connected in Settings → Reply accounts (X). Changing it means connecting them again."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> OverheardConfig:
        problems = [] if self.brands else ["brands: name at least one brand to listen for"]
        problems += self.routing.unknown_channels(list(self.channels))
        problems += [
            f"channels.{name}: a hubspot channel needs the crm.hubspot section (at least its token_env)"
            for name, channel in self.channels.items()
            if channel.kind == "hubspot" and self.crm.hubspot is None
        ]
        for kind, rules in (("volume", self.alerts.volume), ("negative_share", self.alerts.negative_share)):
            # An alert route goes to the channel named after its team; with the default alerts section a
            # team without such a channel still sees the alert in the web inbox (no delivery is queued).
            problems += [
                f"alerts.{kind}.teams: '{team.value}' has no channel of that name; add channels.{team.value}"
                for team in rules.teams
                if rules.enabled and team.value not in self.channels and "alerts" in self.model_fields_set
            ]
        names = [s.name for s in self.sources]
        problems += [f"sources: name '{n}' is used twice" for n in sorted({n for n in names if names.count(n) > 1})]
        known = set(self.queries())
        for source in self.sources:
            problems += [
                f"sources ('{source.name}').queries: '{q}' is not a configured brand, product or competitor"
                for q in source.queries or ()
                if q not in known
            ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def queries(self) -> dict[str, str]:
        """Query name → query text, for every brand, product and competitor (names like 'brand:Lumora')."""
        named: dict[str, str] = {}
        for brand in self.brands:
            named[f"brand:{brand.name}"] = brand.query
            for product in brand.products:
                named[f"product:{product.name}"] = product.query
        for competitor in self.competitors:
            named[f"competitor:{competitor.name}"] = competitor.query
        return named

    @model_validator(mode="before")
    @classmethod
    def _env_not_in_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "env" in data and not isinstance(data["env"], Settings):
            raise ValueError("env: set the environment's settings as OVERHEARD_* variables, not in the file")
        return data

    def database_url(self, settings: Settings | None = None) -> str:
        """OVERHEARD_DATABASE_URL when set, else the file's `database`."""
        return (settings or self.env).database_url or self.database


# ---- loading with file/line/key errors --------------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its closest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
            key = next((k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
            if child is None:
                continue  # a discriminator tag ('x', 'replay') pydantic adds to the path
            line = (key or child).start_mark.line + 1
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


class _OneError:
    """One pydantic error in the shape `describe_errors` reads, with the path made relative to `routing`."""

    def __init__(self, item: Any) -> None:
        self.item = item

    def errors(self) -> list[Any]:
        return [self.item]


def _describe(error: ValidationError, tree: yaml.Node | None, path: Path, data: Any) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        if loc and loc[0] == "routing":
            [text] = describe_errors(_OneError({**item, "loc": loc[1:]}), data.get("routing"))
        else:
            shown = [p for i, p in enumerate(loc) if not (i and isinstance(loc[i - 1], int) and p in SOURCES)]
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in shown).lstrip(".") or "(top level)"
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key '{loc[-1]}'"
            text = f"{where}: {message}"
        line = _line_of(tree, loc)
        problems.append(f"{path}{f' line {line}' if line else ''}: {text}")
    return problems


def parse_config(text: str, path: Path = Path("overheard.yaml"), env: Settings | None = None) -> OverheardConfig:
    """Validate YAML text, with the environment's settings `env` (default: read now) under `config.env`; raises
    ConfigError naming file, line and key."""
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, found {type(data).__name__}")
    try:
        if "env" in data:
            raise ConfigError(f"{path}: env: set the environment's settings as OVERHEARD_* variables, not in the file")
        tree_data = {**data, "env": env or environment()}
        config = _validating(tuple(kind.config for kind in SOURCES.values())).model_validate(tree_data)
    except ValidationError as error:
        raise ConfigError("\n".join(_describe(error, tree, path, data))) from None
    for source in config.sources:
        for field in type(source).model_fields:
            if isinstance(named := getattr(source, field), Path):
                object.__setattr__(source, field, _beside(path, named))
    if config.classifier.artifacts is not None:
        model = _beside(path, config.classifier.artifacts)
        missing = missing_model_files(model)
        if missing:
            raise ConfigError(
                f"{path}: classifier.artifacts: {model} is not a model folder (no {' or '.join(missing)}); "
                "leave it out to serve the shipped model"
            )
        object.__setattr__(config.classifier, "artifacts", model)
    return config


@cache
def _validating(models: tuple[type[SourceBase], ...]) -> type[OverheardConfig]:
    """`OverheardConfig` reading `sources:` with these models: the registry as it is now, so a kind registered
    after this module was imported (a test's, a plugin's) is read like the others.
    """
    if models == _REGISTERED:
        return OverheardConfig
    sources: Any = (tuple[_sources_schema(models), ...], ())  # type: ignore[misc]  # a union of a runtime tuple
    return create_model(OverheardConfig.__name__, __base__=OverheardConfig, sources=sources)


def _beside(config_path: Path, named: Path) -> Path:
    """A path the config names: relative ones are read from the config file's folder, not the working directory."""
    return named if named.is_absolute() else (config_path.parent / named).resolve()


def load_config(path: Path | str | None = None, env: Settings | None = None) -> OverheardConfig:
    """The configuration tree: the file at `path` (default: OVERHEARD_CONFIG, else overheard.yaml) and the
    environment's settings `env` (default: read now)."""
    env = env or environment()
    path = Path(path) if path else env.config
    if not path.exists():
        raise ConfigError(f"{path}: no such file (run `overheard init` to write a commented example)")
    return parse_config(path.read_text(encoding="utf-8"), path, env)


def secret(name: str | None) -> str | None:
    """Read a secret from the environment by the variable name the config gives."""
    return os.environ.get(name) if name else None
