"""`overheard demo`: the whole pipeline, offline, on the bundled synthetic sample (see samples/README.md)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from overheard.config import load_config
from overheard.pipeline import BatchReport
from overheard.runtime import open_runtime
from overheard.services import contacts as crm
from overheard.services import sweeps
from overheard.sources import build_collectors
from storage import triage
from storage.outbox import delivery_states

SAMPLES = Path(__file__).parent / "samples"
TEAMS = ("customer_service", "sales", "communications", "marketing", "product")


def run_demo(workdir: Path, console: Console) -> BatchReport:
    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    config = load_config(SAMPLES / "demo.yaml")
    database_url = f"sqlite:///{(workdir / 'overheard.db').resolve()}"
    with console.status("loading the offline model (first run prepares and caches it)…"):
        runtime = open_runtime(config, database_url=database_url)
    companies = crm.import_companies(runtime.engine, SAMPLES / "companies.csv")
    contacts = crm.import_contacts(runtime.engine, SAMPLES / "contacts.csv")
    console.print(
        f"CRM: {len(companies.companies)} companies, {len(contacts.contacts)} contacts, "
        f"{len(contacts.consents)} consent records imported ({len(contacts.errors) + len(companies.errors)} rows rejected)"
    )
    [collector] = build_collectors(config)
    lines = sum(1 for line in (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("collect → classify → enrich → route → store", total=lines)

        def advance(batch: BatchReport) -> None:
            progress.advance(task, batch.stored + batch.skipped_tombstoned + len(batch.quarantined))

        collected = sweeps.collect(runtime, [collector], watch=lambda _: advance)
    if collected.failures:  # the bundled sample cannot fail to read; if it does, say why rather than go on
        raise collected.failures[0].error
    total, alerts = collected.sweeps, collected.alerts
    with runtime.engine.connect() as connection:
        states = delivery_states(connection)
    print_summary(runtime.engine, console)
    console.print(
        f"\n[bold]{total.stored}[/] mentions stored and classified · {total.needs_human} need a human · "
        f"{total.linked_contacts} linked to CRM contacts · {total.findings} findings attached · "
        f"{total.not_profiled} from contacts without a valid basis (triaged, not profiled) · "
        f"{states.get('in_inbox', 0)} deliveries in the teams' web inboxes, {states.get('delivered', 0)} sent to "
        f"receivers · {len(total.quarantined)} lines quarantined\n"
        f"kept out of the queues: {total.flagged['spam']} flagged as spam or scams · "
        f"{total.flagged['owned']} from the brand's own accounts · {total.flagged['competitor']} about competitors only"
    )
    print_noise_per_team(total, console)
    for reason in total.quarantined:
        console.print(f"  quarantined: {reason}", highlight=False)
    for line in alerts.lines():
        console.print(f"[bold red]alert[/] {line}", highlight=False)
    console.print(f"database: {database_url} · wall time {time.perf_counter() - started:.1f} s")
    console.print("[dim]All sample mentions, people and companies are synthetic, written for this demo.[/]")
    return total


def noise_per_team(report: BatchReport) -> dict[str, tuple[int, int, int, int]]:
    """Per team: (routes made, held back as spam or scams, held back as the brand's own posts, held back as about a
    competitor only) — what each team's queue holds and what noise screening kept out of it. Team "" holds the
    flagged mentions no team's rule matched, so each kind's column adds up to all mentions flagged so."""
    teams = sorted({team for team, _ in report.routes} | {team for team, _ in report.held_back}, key=_team_order)
    return {
        team: (
            sum(n for (t, _), n in report.routes.items() if t == team),
            report.held_back[(team, "spam")],
            report.held_back[(team, "owned")],
            report.held_back[(team, "competitor")],
        )
        for team in teams
    }


def _team_order(team: str) -> tuple[int, str]:
    return (TEAMS.index(team) if team in TEAMS else len(TEAMS) + (not team), team)


def print_noise_per_team(report: BatchReport, console: Console) -> None:
    table = Table(title="Per team: routed, and what noise screening kept out of its queue", show_lines=False)
    for column in ("team", "routed", "flagged spam", "owned accounts", "about competitors"):
        table.add_column(column, justify="left" if column == "team" else "right")
    for team, counts in noise_per_team(report).items():
        table.add_row(team or "(no team's rule matched)", *(str(n) for n in counts))
    console.print(table)


def print_summary(engine: Engine, console: Console) -> None:
    with engine.connect() as connection:
        counts = triage.counts_by_team_and_intent(connection)
        per_team = {team: triage.top_routes(connection, team) for team in TEAMS}
        stored = triage.mention_counts(connection)
    table = Table(title="Triage summary: routes per team and intent", show_lines=False)
    for column in ("team", "intent", "routes", "open", "urgent/high"):
        table.add_column(column, justify="right" if column in ("routes", "open", "urgent/high") else "left")
    for row in counts:
        table.add_row(row.team, row.intent, str(row.routes), str(row.open), str(row.urgent_or_high))
    console.print(table)
    console.print(
        f"{stored['stored']} mentions stored; {stored['not_routed']} matched no routing rule (kept for reporting)"
    )
    for team in TEAMS:
        top = per_team[team]
        if not top:
            continue
        console.print(f"\n[bold]{team}[/] — most pressing:")
        for line in top:
            due = f" due {line.due_at:%d %b %H:%M}" if line.due_at else ""
            reach = f", {line.followers:,} followers" if line.followers is not None else ""
            console.print(
                escape(f"  [{line.priority}{due}]") + f" {line.source} @{line.author}{reach} · {line.intent} "
                f"{line.confidence:.0%} · “{line.excerpt}” (rule {line.rule})",
                highlight=False,
            )
