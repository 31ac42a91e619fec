"""The `overheard` command line: thin commands over the pipeline and service functions."""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from overheard import logs
from overheard.config import ConfigError, OverheardConfig, load_config
from overheard.services import Caller, ServiceError, contacts, gdpr
from overheard.sources import SourceNotAvailable
from storage.database import StorageError

if TYPE_CHECKING:  # imported where used, so the CLI starts without loading the pipeline
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from listener.base import Collector
    from overheard.pipeline import BackgroundSender, BatchReport, Runtime
    from storage.health import OperatorAlert, SourceHealth

app = typer.Typer(help="Overheard: self-hosted social listening and social-CRM enrichment.", no_args_is_help=True)
contacts_app = typer.Typer(help="Import, export and look up CRM contacts.", no_args_is_help=True)
gdpr_app = typer.Typer(
    help="Data protection: export and erase what is kept on a contact, retention, and the audit log.",
    no_args_is_help=True,
)
app.add_typer(contacts_app, name="contacts")
app.add_typer(gdpr_app, name="gdpr")
tokens_app = typer.Typer(help="API tokens for the web app and the API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
accounts_app = typer.Typer(
    help="The brand's reply accounts: connect an X account (OAuth 2.0 PKCE).", no_args_is_help=True
)
app.add_typer(accounts_app, name="accounts")

console = Console()
errors = Console(stderr=True)
log = logging.getLogger("overheard.cli")
TEMPLATE = Path(__file__).parent / "templates" / "overheard.example.yaml"
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", envvar="OVERHEARD_CONFIG", help="Path to overheard.yaml.")
]


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _config(path: Path) -> OverheardConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc))


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log structured events to stderr.")] = False,
) -> None:
    logs.configure(logging.INFO if verbose else logging.WARNING)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path("overheard.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example overheard.yaml to start from."""
    if path.exists() and not force:
        fail(f"{path} already exists; use --force to overwrite it")
    shutil.copyfile(TEMPLATE, path)
    console.print(f"Wrote [bold]{path}[/]. Edit brands, sources and routing, then run [bold]overheard collect[/].")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Folder for the demo database (recreated).")] = Path("var/demo"),
) -> None:
    """Run the whole pipeline offline on the bundled synthetic sample and print the triage summary."""
    from overheard.demo import run_demo

    try:
        run_demo(workdir, console)
    except (ConfigError, StorageError, SourceNotAvailable) as exc:
        fail(str(exc))


@app.command()
def collect(
    config: ConfigOption = Path("overheard.yaml"),
    source: Annotated[str | None, typer.Option(help="Only this source (by name).")] = None,
) -> None:
    """Sweep every enabled source once, then send due deliveries."""
    from overheard.runtime import open_runtime
    from overheard.sources import build_collectors

    conf = _config(config)
    try:
        collectors = build_collectors(conf, source)
        runtime = open_runtime(conf)
    except (SourceNotAvailable, StorageError) as exc:
        fail(str(exc))
    if _sweep_all(runtime, collectors):
        raise typer.Exit(1)


def _sweep_all(runtime: Runtime, collectors: Sequence[Collector], sender: BackgroundSender | None = None) -> int:
    """One collect (`services.sweeps.collect`: two sources at a time) with progress; a failing source is reported
    and the others go on. Returns the failures. With a `sender`, each stored page nudges it, so its deliveries go
    out while the next page is classified."""
    from overheard.services import sweeps

    columns = (SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:

        def watch(name: str) -> Callable[[BatchReport], None]:
            task = progress.add_task(f"collecting {name}", total=None)
            return lambda batch: progress.advance(task, batch.stored)

        report = sweeps.collect(runtime, collectors, watch=watch, nudge=sender.nudge if sender else None)
    for failure in report.failures:
        if failure.crashed:
            errors.print(
                f"[red]source {failure.name} stopped by an error, the others go on:[/] {escape(failure.reason)}"
            )
        else:
            errors.print(
                f"[yellow]source {failure.name} failed, the others go on:[/] {failure.reason}", highlight=False
            )
    total = report.sweeps
    for name in total.busy:
        errors.print(f"[yellow]source {name} is being swept by another process; left to it[/]", highlight=False)
    for line in report.alerts.lines():
        errors.print(f"[bold red]alert[/] {line}", highlight=False)
    sent = report.deliveries
    assert sent is not None
    console.print(
        f"stored {total.stored} mentions, quarantined {len(total.quarantined)}, "
        f"routes {sum(total.routes.values())}; deliveries: {sent.delivered} delivered, {sent.failed} to retry, {sent.dead} dead"
    )
    return len(report.failures)


@app.command()
def run(
    config: ConfigOption = Path("overheard.yaml"),
    every: Annotated[float, typer.Option(help="Seconds between sweeps.")] = 300.0,
    sweeps: Annotated[int, typer.Option(help="Stop after this many sweeps (0 = run until interrupted).")] = 0,
) -> None:
    """Collect continuously in this process (the embedded default; see `worker` to scale out)."""
    from overheard.runtime import open_runtime
    from overheard.sources import build_collectors

    conf = _config(config)
    try:
        collectors = build_collectors(conf)
        runtime = open_runtime(conf)
    except (SourceNotAvailable, StorageError) as exc:
        fail(str(exc))
    from overheard.pipeline import BackgroundSender

    done, rechecked_at, retained_at = 0, 0.0, 0.0
    sender = BackgroundSender(runtime)  # sending off the collecting thread; each round still ends with a pass
    try:
        while True:
            try:
                _sweep_all(runtime, collectors, sender)
                rechecked_at = _recheck_when_due(runtime, rechecked_at)
                retained_at = _retention_when_due(runtime, retained_at)
            except Exception as exc:  # the database away, a receiver's bug: this round is lost, not the service
                from overheard.pipeline import refusal

                log.error("run.round_failed", extra={"reason": refusal(exc)})
                errors.print(f"[red]this round stopped by an error, the next one runs:[/] {escape(refusal(exc))}")
            done += 1
            if sweeps and done >= sweeps:
                return
            time.sleep(every)
    except KeyboardInterrupt:
        console.print("stopped; cursors are saved after each complete sweep")
    finally:
        sender.close()


@app.command()
def sources(
    config: ConfigOption = Path("overheard.yaml"),
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Source health per source and query: last success, last error, items, rate-limit headroom, working?"""
    from dataclasses import asdict

    from overheard.services import sweeps
    from overheard.sources import quotas
    from storage.database import open_database

    if format not in ("table", "json"):
        fail(f"--format {format!r} is not one of table, json")
    conf = _config(config)
    try:
        found = sweeps.health(conf, open_database(conf.database_url()), Caller.operator())
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    for name, reason in found.unavailable:
        errors.print(f"[yellow]source {name} cannot run:[/] {reason}", highlight=False)
    health, alerts = found.sources, found.alerts
    metered = quotas(conf)  # billed or capped sources: use, cap and projected use this period
    if format == "json":
        document = {**_health_document(health, alerts), "quotas": [asdict(q) for q in metered]}
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        return
    from rich.table import Table

    table = Table("source:query", "working?", "last success", "last error", "items 1h", "items 24h", "rate limit left")
    for h in health:
        limit = h.rate_limit
        headroom = "—" if limit is None or limit.remaining is None else f"{limit.remaining}/{limit.limit or '?'}"
        error = f"{_when(h.last_error_at)}: {h.last_error}" if h.last_error else "—"
        style = {"working": "green", "failing": "red", "stopped": "red"}.get(h.state.value, "yellow")
        table.add_row(
            h.name,
            f"[{style}]{h.state.value}[/]",
            _when(h.last_success_at),
            error,
            str(h.items_last_hour),
            str(h.items_last_day),
            headroom,
        )
    console.print(table)
    for quota in metered:
        console.print(f"[bold]quota[/] {quota.source}: {quota.describe()}", highlight=False)
    for alert in alerts:
        console.print(f"[bold red]alert[/] {_when(alert.raised_at)} {alert.kind}: {alert.message}", highlight=False)


@app.command()
def doctor(
    config: ConfigOption = Path("overheard.yaml"),
    remeasure: Annotated[bool, typer.Option(help="Time the candidate paths again (backend auto).")] = False,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """What the model serves on here and why: backend auto's measured choice, with the CPU's flags."""
    from dataclasses import asdict

    from overheard.runtime import serving_path

    if format not in ("text", "json"):
        fail(f"--format {format!r} is not one of text, json")
    path = serving_path(_config(config), remeasure=remeasure)
    if format == "json":
        sys.stdout.write(json.dumps(asdict(path), indent=2) + "\n")
        return
    console.print(f"classifier.backend: {path.backend}; serves on [bold]{escape(path.serves)}[/]", highlight=False)
    console.print(f"why: {escape(path.reason)}", highlight=False)
    console.print(f"CPU flags that matter: {', '.join(path.cpu_flags) or 'none of ' + 'avx2/avx512/vnni/amx'}")
    for m in path.measured:
        console.print(
            f"  {m['label']}: {m['per_s']} posts/s (rounds {m['rounds']}), agrees with fp32 on "
            f"{float(str(m['intent_agreement'])):.1%} of intents, {float(str(m['sentiment_agreement'])):.1%} of sentiments",
            highlight=False,
        )
    if path.file:
        console.print(f"kept in {path.file} (measured {path.measured_at}); --remeasure to time again", highlight=False)


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _health_document(health: Sequence[SourceHealth], alerts: Sequence[OperatorAlert]) -> dict[str, object]:
    from dataclasses import asdict

    return {
        "sources": [{**asdict(h), "working": h.working} for h in health],
        "operator_alerts": [asdict(a) for a in alerts],
    }


@app.command()
def recheck(config: ConfigOption = Path("overheard.yaml")) -> None:
    """Re-check a sample of recent mentions per source now; remove those deleted on their platform."""
    from overheard.services import sweeps
    from storage.database import open_database

    conf = _config(config)
    try:
        report = sweeps.recheck(conf, open_database(conf.database_url()))
    except StorageError as exc:
        fail(str(exc))
    if report is None:
        console.print("another process is re-checking now; nothing done")
        return
    states = ", ".join(f"{n} {state}" for state, n in sorted(report.states.items())) or "nothing to check"
    console.print(f"re-checked {report.checked} mentions ({states}); removed {len(report.deletions)}")
    for deletion in report.deletions:
        console.print(f"  removed {deletion.source}:{deletion.external_id}: {deletion.reason}", highlight=False)
    for source, skipped in sorted(report.not_checkable.items()):
        console.print(f"  {source}: {skipped} mentions cannot be re-checked (no lookup by id)", highlight=False)


@app.command("deletion-notice")
def deletion_notice(
    source: Annotated[str, typer.Argument(help="Platform of the posts: x, mastodon, reddit, bluesky, ...")],
    file: Annotated[Path, typer.Argument(help="The platform's notice: one id per line, or JSON lines with 'id'.")],
    config: ConfigOption = Path("overheard.yaml"),
    reason: Annotated[str, typer.Option(help="Kept on the tombstone and in the audit log.")] = "platform notice",
) -> None:
    """Apply a platform's delete or compliance notice (e.g. an X compliance job's results)."""
    from overheard.trust import notice_ids
    from storage.database import open_database

    conf = _config(config)
    try:
        ids = notice_ids(file.read_text(encoding="utf-8"))
        removed = gdpr.apply_deletion_notice(open_database(conf.database_url()), Caller.operator(), source, ids, reason)
    except (StorageError, ServiceError, OSError, ValueError) as exc:
        fail(str(exc))
    stored = sum(1 for r in removed if r.removed.get("mentions"))
    console.print(f"applied {len(removed)} deletions from {file}; {stored} were stored and are now removed")


def _recheck_when_due(runtime: object, last: float) -> float:
    """Run the platform-deletion re-check when `recheck.every` has passed since `last` (monotonic seconds)."""
    from overheard.pipeline import Runtime
    from overheard.scheduler import parse_interval
    from overheard.services import sweeps

    assert isinstance(runtime, Runtime)
    settings = runtime.config.recheck
    if not settings.enabled or (last and time.monotonic() - last < parse_interval(settings.every).total_seconds()):
        return last
    report = sweeps.recheck(runtime.config, runtime.engine)
    if report is not None and report.deletions:
        console.print(f"removed {len(report.deletions)} mentions deleted on their platform")
    return time.monotonic()


def _retention_when_due(runtime: object, last: float) -> float:
    """Apply retention when `retention.every` has passed since `last` (monotonic seconds; 0 = never ran)."""
    from overheard import retention
    from overheard.pipeline import Runtime
    from overheard.scheduler import parse_interval

    assert isinstance(runtime, Runtime)
    settings = runtime.config.retention
    if not settings.enabled or (
        last and time.monotonic() - last < parse_interval(settings.every, "retention.every").total_seconds()
    ):
        return last
    removed = retention.run_scheduled(runtime.engine, settings)
    if removed and any(removed.values()):
        console.print("retention: deleted " + ", ".join(f"{n} {t}" for t, n in removed.items() if n), highlight=False)
    return time.monotonic()


@app.command()
def serve(
    config: ConfigOption = Path("overheard.yaml"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the API (/api, OpenAPI at /api/docs) and the web app on the configured database."""
    import uvicorn

    from overheard.api import create_app
    from storage.database import open_database

    conf = _config(config)
    try:
        engine = open_database(conf.database_url())
    except StorageError as exc:
        fail(str(exc))
    console.print(f"serving on http://{host}:{port}  (sign in with a token from `overheard tokens create`)")
    uvicorn.run(create_app(engine, conf), host=host, port=port, log_level="info")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who the token is for (shown as the actor in the audit log).")],
    role: Annotated[str, typer.Option("--role", help="admin, service, sales, marketing, communications or privacy.")],
    days: Annotated[
        int, typer.Option("--days", min=0, max=3650, help="Days until it expires; 0: never (not advised).")
    ] = 90,
    config: ConfigOption = Path("overheard.yaml"),
    actor: Annotated[str, typer.Option(help="Who issues it, for the audit log.")] = "cli",
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    from overheard.services import tokens
    from storage.database import open_database

    conf = _config(config)
    try:
        issued = tokens.issue(open_database(conf.database_url()), Caller.operator(actor), name, role, days)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    token = issued.token
    until = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "never expires"
    errors.print(
        f"created {token.role} token '{token.name}' ({until}); it is shown once, store it now:", highlight=False
    )
    sys.stdout.write(issued.secret + "\n")


@tokens_app.command("list")
def tokens_list(config: ConfigOption = Path("overheard.yaml")) -> None:
    """Every token issued: who has it, its role, when it was last used, and whether it is live."""
    from rich.table import Table

    from overheard.services import tokens
    from storage.database import open_database
    from storage.schema import now_utc

    conf = _config(config)
    try:
        issued = tokens.listed(open_database(conf.database_url()), Caller.operator())
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    now = now_utc()
    table = Table("name", "role", "status", "created", "last used", "expires")
    for token in issued:
        table.add_row(
            token.name,
            token.role.value,
            token.status(now),
            f"{token.created_at:%Y-%m-%d}",
            f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
            f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never (revoke and reissue)",
        )
    console.print(table if issued else "no tokens yet: create one with `overheard tokens create NAME --role ROLE`")


@tokens_app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The token's name, as `overheard tokens list` shows it.")],
    config: ConfigOption = Path("overheard.yaml"),
    actor: Annotated[str, typer.Option(help="Who revokes it, for the audit log.")] = "cli",
) -> None:
    """Revoke a token at once; web sessions signed in with it end too."""
    from overheard.services import tokens
    from storage.database import open_database

    conf = _config(config)
    try:
        tokens.revoke(open_database(conf.database_url()), Caller.operator(actor), name)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    console.print(f"revoked token '{name}'; its web sessions are signed out")


@accounts_app.command("list")
def accounts_list(config: ConfigOption = Path("overheard.yaml")) -> None:
    """Every configured reply account and whether it is connected (never a token)."""
    from overheard.services import reply_accounts
    from storage.database import open_database

    conf = _config(config)
    try:
        found = reply_accounts.accounts(open_database(conf.database_url()), Caller.operator(), conf)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    for a in found:
        if a.connected:
            state = f"connected as @{a.connected.handle} (by {a.connected.connected_by})"
        elif a.connectable:
            state = f"not connected: {a.ready}" if a.ready else f"not connected (replies use {a.account.secret_env})"
        else:
            state = f"secret in {a.account.secret_env}"
        console.print(f"{a.name}  {a.account.platform}  {state}", highlight=False)
    if not found:
        console.print("no reply account is configured (reply_accounts in overheard.yaml)")


@accounts_app.command("connect")
def accounts_connect(
    name: Annotated[str, typer.Argument(help="The reply account's name in overheard.yaml (an x account).")],
    redirect_uri: Annotated[
        str | None,
        typer.Option(help="The callback registered for your X app (default: the account's redirect_uri)."),
    ] = None,
    config: ConfigOption = Path("overheard.yaml"),
    actor: Annotated[str, typer.Option(help="Who connects it, for the audit log.")] = "cli",
) -> None:
    """Print the address where you authorize the account on X, then read the address X sent your browser back to
    (paste it whole) and store the account's tokens, encrypted."""
    from overheard.services import reply_accounts
    from storage.database import open_database

    conf = _config(config)
    account = conf.reply_accounts.get(name)
    callback = redirect_uri or (account.redirect_uri if account else None)
    if account is not None and not callback:
        fail(f"say where X sends the browser back: --redirect-uri, or redirect_uri on {name} in overheard.yaml")
    engine = open_database(conf.database_url())
    caller = Caller.operator(actor)
    try:
        address = reply_accounts.start_connect(engine, caller, conf, name, callback or "")
        errors.print("1. Open this address, sign in to X as the brand's account and allow access:", highlight=False)
        sys.stdout.write(address + "\n")
        errors.print("2. Paste the whole address X sent your browser back to (it holds code= and state=):")
        pasted = sys.stdin.readline().strip()
        done = reply_accounts.finish_connect(engine, caller, conf, pasted)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    console.print(f"{done.account} is connected as @{done.handle}", highlight=False)


@accounts_app.command("disconnect")
def accounts_disconnect(
    name: Annotated[str, typer.Argument(help="The reply account's name in overheard.yaml.")],
    config: ConfigOption = Path("overheard.yaml"),
    actor: Annotated[str, typer.Option(help="Who disconnects it, for the audit log.")] = "cli",
) -> None:
    """Delete the account's stored tokens (replies fall back to its secret_env) and ask X to revoke them."""
    from overheard.services import reply_accounts
    from storage.database import open_database

    conf = _config(config)
    try:
        problem = reply_accounts.disconnect(open_database(conf.database_url()), Caller.operator(actor), conf, name)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    if problem is None:
        console.print(f"{name} is disconnected; its tokens are deleted and revoked on X")
    else:
        console.print(
            f"{name} is disconnected; its tokens are deleted here, but {problem}: "
            "revoke Overheard's access on X (Settings → Security → Connected apps)"
        )


@app.command()
def worker(
    config: ConfigOption = Path("overheard.yaml"),
    concurrency: Annotated[int, typer.Option(help="Pool processes; one task each at a time.")] = 1,
    pool: Annotated[str, typer.Option(help="prefork (default), solo or threads.")] = "prefork",
    name: Annotated[str | None, typer.Option(help="Worker node name (default: overheard@<host>).")] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run a Celery worker (scaling out with Redis); see docs/scaling.md for the guarantees."""
    from overheard import tasks
    from overheard.config import environment

    _config(config)  # a broken file is reported here, not by every task
    try:
        settings = environment(config=config.resolve())
    except ConfigError as exc:
        fail(str(exc))
    if not settings.redis_url:
        fail("set OVERHEARD_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to the Redis broker workers share")
    celery = tasks.configure(settings)  # the forked pool processes inherit it
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}"]
    argv += ["--queues", settings.queue, "--without-gossip", "--without-mingle"]
    celery.worker_main([*argv, f"--hostname={name or 'overheard@%h'}"])


@app.command()
def scheduler(
    config: ConfigOption = Path("overheard.yaml"),
    state: Annotated[Path, typer.Option(help="File keeping each schedule entry's last run.")] = Path(
        "var/celerybeat-schedule"
    ),
) -> None:
    """Send a collect per source every `poll_every`, and the sweeper that re-sends stuck work (Celery beat)."""
    from overheard import tasks
    from overheard.config import environment
    from overheard.scheduler import run_scheduler

    conf = _config(config)
    try:
        settings = environment(config=config.resolve())
        if not settings.redis_url:
            fail("set OVERHEARD_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to the Redis broker workers share")
        run_scheduler(tasks.configure(settings), conf, settings, state)
    except ConfigError as exc:
        fail(str(exc))


@app.command()
def report(
    config: ConfigOption = Path("overheard.yaml"),
    format: Annotated[str, typer.Option("--format", help="text (triage summary), html, csv or json.")] = "text",
    start: Annotated[str | None, typer.Option("--from", help="First day (2026-11-06) or a date-time.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included, or an end date-time.")] = None,
    brand: Annotated[str | None, typer.Option(help="Only mentions of this brand (or 'product:…').")] = None,
    language: Annotated[
        str | None, typer.Option(help="Only mentions in this language (ISO 639-1, e.g. de), for html, csv, json.")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="Time zone of days and charts, e.g. Europe/Berlin.")] = "UTC",
    granularity: Annotated[str | None, typer.Option(help="hour, day or week (default: by period length).")] = None,
    out: Annotated[Path | None, typer.Option(help="File (html, json) or folder (csv) to write.")] = None,
) -> None:
    """Report on stored mentions: the triage summary (text), or the period's metrics as html, csv or json."""
    from overheard import report as reporting
    from overheard.services import metrics as figures
    from storage.database import open_database

    if format not in reporting.FORMATS:
        fail(f"--format {format!r} is not one of {', '.join(reporting.FORMATS)}")
    conf = _config(config)
    try:
        engine = open_database(conf.database_url())
    except StorageError as exc:
        fail(str(exc))
    if format == "text" and language:
        fail("--language slices the figures of an html, csv or json report; the text triage summary has none")
    if format == "text":
        from overheard.demo import print_summary

        print_summary(engine, console)
        return
    if not (start and end):
        fail(f"a {format} report needs a period: --from 2026-11-06 --to 2026-11-19")
    try:
        first, last = reporting.period(start, end, tz)
        built = figures.report(engine, Caller.operator(), first, last, brand, tz, granularity, language)
    except ServiceError as exc:  # a language that is not an ISO 639-1 code
        fail(str(exc))
    except (ValueError, KeyError) as exc:  # a bad date, zone (ZoneInfoNotFoundError is a KeyError) or granularity
        fail(f"{exc}".strip("'\""))
    if format == "json" and out is None:
        sys.stdout.write(reporting.to_json(built) + "\n")
        return
    for path in reporting.write(built, format, out):
        console.print(f"wrote {path}")


@contacts_app.command("import")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="Contacts CSV, or a HubSpot contacts JSON export (.json).")],
    config: ConfigOption = Path("overheard.yaml"),
    companies: Annotated[Path | None, typer.Option(help="Companies CSV, imported in the same transaction.")] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="csv or hubspot (default: hubspot for .json, else csv).")
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Import the valid contacts (whole) even when some rows are bad.")
    ] = False,
) -> None:
    """Import contacts: every bad row is reported with its row and column, and a file with one changes nothing."""
    from storage.database import open_database

    conf = _config(config)
    try:
        engine = open_database(conf.database_url())
        result = contacts.import_crm(engine, file, companies_path=companies, format=format, skip_bad_rows=skip_bad_rows)
    except (StorageError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    for name, errors_of in ((companies, result.companies.errors), (file, result.contacts.errors)):
        for error in errors_of:
            column = f", {error.column}" if error.column else ""
            errors.print(f"{name}: row {error.row}{column}: {error.message}", highlight=False, markup=False)
    if not result.applied:
        fail(f"nothing imported: {len(result.errors)} problems; fix them, or use --skip-bad-rows to import the rest")
    if companies:
        console.print(f"imported {len(result.companies.companies)} companies")
    console.print(
        f"imported {len(result.contacts.contacts)} contacts, {len(result.contacts.consents)} consent records; "
        f"{len(result.errors)} rows rejected"
    )
    if result.errors:
        raise typer.Exit(1)


@contacts_app.command("export")
def contacts_export(
    config: ConfigOption = Path("overheard.yaml"),
    format: Annotated[str, typer.Option("--format", help="csv or hubspot (a HubSpot contacts JSON export).")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write the contacts here instead of stdout.")] = None,
    companies: Annotated[Path | None, typer.Option(help="Also write the companies CSV here.")] = None,
    actor: Annotated[str, typer.Option(help="Who exports (kept in the audit log).")] = "cli",
) -> None:
    """Export contacts and companies in the shapes `contacts import` reads back (the export is audited)."""
    from storage.database import open_database

    if format not in contacts.CRM_FORMATS:
        fail(f"--format {format!r} is not one of {', '.join(contacts.CRM_FORMATS)}")
    conf = _config(config)
    try:
        exported = contacts.export_contacts(open_database(conf.database_url()), Caller.operator(actor), format)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    if companies:
        companies.write_text(exported.companies, encoding="utf-8")
        errors.print(f"wrote {companies}", highlight=False)
    if out:
        out.write_text(exported.contacts, encoding="utf-8")
        errors.print(f"wrote {exported.count} contacts to {out}", highlight=False)
    else:
        sys.stdout.write(exported.contacts)


def _write_json(document: object, out: Path | None) -> None:
    """A document as indented JSON to `out` (saying so on stderr, so stdout stays data) or to stdout."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
        errors.print(f"wrote {out}", highlight=False)
    else:
        sys.stdout.write(text)


@contacts_app.command("show")
def contacts_show(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    config: ConfigOption = Path("overheard.yaml"),
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of stdout.")] = None,
    actor: Annotated[str, typer.Option(help="Who looks (kept in the audit log).")] = "cli",
) -> None:
    """The contact 360° as JSON: identities, companies and roles, consents, findings, routes and deliveries."""
    from pydantic import TypeAdapter

    from storage.database import open_database
    from storage.inbox import ContactView
    from storage.provenance import explanation_document, route_record_documents

    conf = _config(config)
    try:
        found = contacts.contact_360(open_database(conf.database_url()), Caller.operator(actor), contact)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    _write_json(
        {
            **TypeAdapter(ContactView).dump_python(found.contact, mode="json"),
            "why": [explanation_document(e) for e in found.why],
            "route_records": route_record_documents(found.route_records),
        },
        out,
    )


@gdpr_app.command("export")
def gdpr_export(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    config: ConfigOption = Path("overheard.yaml"),
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of stdout.")] = None,
    actor: Annotated[str, typer.Option(help="Who asks (kept in the audit log).")] = "cli",
) -> None:
    """Export everything kept on one contact as JSON (the request is audited)."""
    from storage.database import open_database

    conf = _config(config)
    try:
        document = gdpr.export(open_database(conf.database_url()), Caller.operator(actor), contact)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    _write_json(document, out)


@gdpr_app.command("erase")
def gdpr_erase(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    config: ConfigOption = Path("overheard.yaml"),
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone.")] = False,
    actor: Annotated[str, typer.Option(help="Who asks (kept in the audit log).")] = "cli",
) -> None:
    """Erase a contact and everything tied to them; their posts are tombstoned so they are not collected again."""
    if not yes:
        fail("erasure cannot be undone; run again with --yes to confirm")
    from storage.database import open_database

    conf = _config(config)
    try:
        erased = gdpr.erase(open_database(conf.database_url()), Caller.operator(actor), contact)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    deleted = ", ".join(f"{table} {n}" for table, n in erased.deleted.items() if n)
    scrubbed = ", ".join(f"{where} {n}" for where, n in erased.scrubbed.items() if n) or "nothing"
    console.print(
        f"erased {contact}: {deleted}; {erased.tombstoned_mentions} posts tombstoned; "
        f"their handles, name and emails taken out of: {scrubbed}",
        highlight=False,
    )


@gdpr_app.command("compact")
def gdpr_compact(
    config: ConfigOption = Path("overheard.yaml"),
    actor: Annotated[str, typer.Option(help="Who runs it (kept in the audit log).")] = "cli",
) -> None:
    """After erasures: rewrite the database files so deleted rows leave no trace (PostgreSQL: VACUUM FULL of the
    personal-data tables, then CHECKPOINT; SQLite: VACUUM). Each table is locked while it is rewritten."""
    from storage.database import open_database

    conf = _config(config)
    try:
        statements = gdpr.compact(open_database(conf.database_url()), Caller.operator(actor))
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    console.print(f"compacted: {len(statements)} statements run ({statements[0]} … {statements[-1]})", highlight=False)


@gdpr_app.command("retention")
def gdpr_retention(
    config: ConfigOption = Path("overheard.yaml"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be deleted.")] = False,
    actor: Annotated[str, typer.Option(help="Who runs it (kept in the audit log).")] = "cli",
) -> None:
    """Delete records past the `retention:` periods of overheard.yaml, per data class; --dry-run counts first."""
    from overheard import retention
    from storage.database import open_database

    conf = _config(config)
    try:
        counts = retention.run(open_database(conf.database_url()), conf.retention, dry_run=dry_run, actor=actor)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    verb = "would delete" if dry_run else "deleted"
    for data_class, n in counts.items():
        console.print(f"{data_class}: {verb} {n}", highlight=False)
    if dry_run:
        console.print("dry run: nothing was deleted")


@gdpr_app.command("audit")
def gdpr_audit(
    config: ConfigOption = Path("overheard.yaml"),
    contact: Annotated[str | None, typer.Option(help="Only entries about this contact id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest entries to show.")] = 50,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Who viewed, exported or erased what, newest first."""
    from storage.audit import as_json as audit_json
    from storage.database import open_database

    if format not in ("table", "json"):
        fail(f"--format {format!r} is not one of table, json")
    conf = _config(config)
    try:
        entries = gdpr.audit_trail(open_database(conf.database_url()), Caller.operator(), contact, limit)
    except (StorageError, ServiceError) as exc:
        fail(str(exc))
    if format == "json":
        sys.stdout.write(json.dumps(audit_json(entries), indent=2) + "\n")
        return
    from rich.table import Table

    table = Table("at", "actor", "action", "subject", "detail")
    for e in entries:
        detail = json.dumps(e.detail, sort_keys=True) if e.detail else ""
        cells = (e.at.strftime("%Y-%m-%d %H:%M:%S UTC"), e.actor, e.action, f"{e.subject_type} {e.subject_id}", detail)
        table.add_row(*map(escape, cells))
    console.print(table, highlight=False)


@app.command()
def evaluate(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Labeled .csv or .jsonl files: text, plus sentiment and/or intent (rating and language optional)."
        ),
    ],
    backend: Annotated[str, typer.Option(help="torch (fp32) or onnx (int8).")] = "torch",
    artifacts: Annotated[
        Path | None, typer.Option(help="Artifacts folder to evaluate, e.g. one written by `overheard train`.")
    ] = None,
) -> None:
    """Score the classifier on labeled files: accuracy, macro-F1, macro-recall, per-class figures, confusion; and
    per language (rows with a ``language`` column) accuracy, macro-F1, complaint and purchase-intent recall.

    Each text's language is detected as for a collected mention, and decides which model reads it."""
    from classifiers.labeled import (
        LANGUAGE_HEADER,
        LabeledFileError,
        LabeledText,
        classify_examples,
        figures_by_language,
        read_labeled,
        score,
    )
    from classifiers.model import ARTIFACTS, load_default
    from classifiers.multilingual import load_multilingual, multilingual_version
    from classifiers.routing import LanguageRouter
    from classifiers.verdict import Verdict
    from listener.language import detect_language

    try:
        english = load_default(backend=backend, artifacts=artifacts or ARTIFACTS)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    classifier = LanguageRouter(english, load_multilingual)
    models = f"{english.version} (English and unknown), {multilingual_version()} (other languages)"
    named: list[LabeledText] = []
    named_verdicts: list[Verdict] = []
    for file in files:
        try:
            labeled = read_labeled(file)
        except LabeledFileError as exc:
            fail(str(exc))
        for problem in labeled.problems:
            errors.print(f"{file}: row {problem.row}: {problem.reason}", highlight=False, markup=False)
        if not labeled.examples:
            fail(f"{file}: no usable labeled rows ({len(labeled.problems)} rejected)")
        verdicts = classify_examples(classifier, labeled.examples, detect=detect_language)
        result = score(labeled.examples, verdicts)
        sys.stdout.write(
            f"{file}: {len(labeled.examples)} rows evaluated, {len(labeled.problems)} rejected; "
            f"models {models}\n\n{result.render()}\n\n"
        )
        named += [e for e in labeled.examples if e.language]
        named_verdicts += [v for e, v in zip(labeled.examples, verdicts, strict=True) if e.language]
    if named:
        lines = [f"per language ({len(named)} rows with a language column; detected: share read in that language)"]
        lines.append(LANGUAGE_HEADER)
        detected = [detect_language(e.text) for e in named]
        lines += [figures.line() for figures in figures_by_language(named, named_verdicts, detected)]
        sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def train(
    config: ConfigOption = Path("overheard.yaml"),
    out: Annotated[Path, typer.Option(help="Folder to write the retrained artifacts to.")] = Path("var/model"),
    install: Annotated[bool, typer.Option("--install", help="Also replace the shipped artifacts.")] = False,
    sentiment_sample: Annotated[
        int, typer.Option(min=100, help="Train tweets the sentiment head is refitted on with the corrections.")
    ] = 4000,
    augment_sample: Annotated[
        int,
        typer.Option(
            min=0, help="Training-only rows (synthetic posts, support sets) the intent head is refitted with."
        ),
    ] = 4000,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder with the fetched public training data (default var/data or $OVERHEARD_DATA_DIR); "
            "`python scripts/fetch_training_data.py` fills it."
        ),
    ] = None,
) -> None:
    """Retrain the heads of the model the config serves from the shipped labeled data plus triage corrections;
    print held-out figures before/after."""
    from overheard.retraining import retrain_from_triage
    from storage.database import open_database

    conf = _config(config)
    served = conf.classifier.model_folder()
    try:
        engine = open_database(conf.database_url())
        result = retrain_from_triage(
            engine,
            out,
            artifacts=served,
            install_result=install,
            sentiment_sample=sentiment_sample,
            augment_sample=augment_sample,
            data_dir=data,
        )
    except (StorageError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    lines = [
        f"retraining the heads of {served}",
        f"corrections from triage: {result.corrections_train} to train on, {result.corrections_heldout} held out",
    ]
    for change in result.changes:
        lines.append(f"\n== {change.task}: {change.note}")
        heldout = "TweetEval val" if change.task == "sentiment" else "intent test split"
        for title, before, after in (
            (f"held-out public data ({heldout})", change.heldout_before, change.heldout_after),
            ("held-out corrections", change.corrections_before, change.corrections_after),
        ):
            if before is None or after is None:
                continue
            lines.append(f"-- {title}, before:\n{before.render()}\n-- {title}, after:\n{after.render()}")
    where = (
        f"{result.out_dir} and installed over {served}"
        if install
        else f"{result.out_dir} (shipped artifacts untouched; --install to ship)"
    )
    lines.append(f"\nwrote {result.model_version} to {where}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    app()
