"""The pipeline: collect → classify → enrich → route → store, as plain functions over batches.

The CLI, the Celery tasks and the API all call these functions; there is no second implementation.
A page of mentions is stored with its verdicts, links, findings, routes and deliveries in one
transaction; a collector's cursor is saved after each page is stored, so a failed sweep resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError, StatementError

from classifiers.verdict import Classifier, Document, Verdict
from enrichers.delivery import Breakers, ChannelKind, sending_client
from enrichers.delivery import Channel as DeliveryChannel
from enrichers.delivery import deliver_due as deliver_due_once
from enrichers.enrich import enrich
from enrichers.linking import CompanyIndex, author_handle
from enrichers.model import Company, CompanyClass, DeliveryStatus
from listener.base import Collector, Rejected
from listener.http import guarded_transport
from listener.mention import Mention
from listener.query import QuerySet
from overheard.config import Channel, CrmConfig, DeliveryConfig, OverheardConfig, secret
from overheard.trust import classifier_thresholds, record_sweep_outcome, watch_for
from storage import task_runs
from storage.contacts import SqlContactDirectory
from storage.database import error_text
from storage.health import RateLimit
from storage.mentions import get_cursor, quarantine_items, save_mentions, save_verdicts, set_cursor
from storage.outbox import Enriched, SqlDeliveryQueue, save_enrichments
from storage.ratings import save_rating

log = logging.getLogger("overheard.pipeline")


@dataclass
class Runtime:
    """What every pipeline step needs, built once per process from the config."""

    config: OverheardConfig
    engine: Engine
    classifier: Classifier
    queries: QuerySet
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @classmethod
    def build(cls, config: OverheardConfig, engine: Engine, classifier: Classifier, **kwargs: Any) -> Runtime:
        return cls(config, engine, classifier, QuerySet(config.queries()), **kwargs)

    def company_index(self, stored: Iterable[Company]) -> CompanyIndex:
        """Companies from the CRM plus the configured competitors, found in text by name or domain."""
        companies = {c.id: c for c in stored}
        for competitor in self.config.competitors:
            companies.setdefault(
                f"competitor:{competitor.name}",
                Company(
                    id=f"competitor:{competitor.name}",
                    name=competitor.name,
                    domain=competitor.domain,
                    classification=CompanyClass.competitor,
                    competitor_of=competitor.competes_with or self.config.brands[0].name,
                ),
            )
        return CompanyIndex(companies.values())


@dataclass
class BatchReport:
    """What one or more batches did, for progress output and the demo summary."""

    stored: int = 0
    skipped_tombstoned: int = 0
    quarantined: list[str] = field(default_factory=list)
    classified: int = 0
    needs_human: int = 0
    linked_contacts: int = 0
    findings: int = 0
    not_profiled: int = 0  # a contact was found but consent did not allow keeping a profile
    routes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (team, intent) → routes
    intents: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)  # noise kind (owned, spam, competitor) → mentions
    # (team, noise kind) → flagged mentions a rule of that team matched but held back (they stay out of its queue);
    # team "" counts flagged mentions no team's rule matched
    held_back: Counter[tuple[str, str]] = field(default_factory=Counter)
    busy: list[str] = field(default_factory=list)  # collectors another process was sweeping: left to it

    def add(self, other: BatchReport) -> None:
        for name in (
            "stored",
            "skipped_tombstoned",
            "classified",
            "needs_human",
            "linked_contacts",
            "findings",
            "not_profiled",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.quarantined += other.quarantined
        self.busy += other.busy
        self.routes.update(other.routes)
        self.intents.update(other.intents)
        self.flagged.update(other.flagged)
        self.held_back.update(other.held_back)


def classify(classifier: Classifier, mentions: Sequence[Mention], batch_size: int = 32) -> list[Verdict]:
    """Verdicts for `mentions`, in order, read in batches; a review's star rating goes with its text."""
    documents = [
        Document(
            text=f"{m.title}. {m.text}" if m.title and m.source.value == "review" else m.text,
            rating=m.rating,
            language=m.language,
        )
        for m in mentions
    ]
    verdicts: list[Verdict] = []
    for start in range(0, len(documents), batch_size):
        verdicts += classifier.classify(documents[start : start + batch_size])
    return verdicts


def process_batch(runtime: Runtime, mentions: Sequence[Mention], rejected: Sequence[Rejected] = ()) -> BatchReport:
    """Classify, then store, link, attach findings and route one batch in one transaction.

    Enrichment decides mention by mention, but storage writes the whole batch's links, findings, routes and
    deliveries (with their audit records) in a handful of statements, not several per mention.

    Should the database refuse the batch's data (a value no limit in `listener.mention` foresaw), the batch is
    stored again one mention at a time and each refused one is quarantined with the database's reason: one bad
    mention costs one mention, never the page. A database that cannot be reached is not bad data: that raises.
    """
    tagged = runtime.queries.tag_all(mentions)
    verdicts = classify(runtime.classifier, tagged, runtime.config.classifier.batch_size) if tagged else []
    try:
        return _store(runtime, tagged, verdicts, rejected)
    except _REFUSED as exc:
        if isinstance(exc, _NOT_DATA):
            raise
        log.warning("batch.refused", extra={"mentions": len(tagged), "reason": refusal(exc)})
    report = _store(runtime, [], [], rejected)
    for mention, verdict in zip(tagged, verdicts, strict=True):
        try:
            report.add(_store(runtime, [mention], [verdict], ()))
        except _REFUSED as exc:
            if isinstance(exc, _NOT_DATA):
                raise
            reason = f"{mention.source.value}:{mention.external_id[:80]}: the database refused it ({refusal(exc)})"
            payload = json.dumps(mention.model_dump(mode="json"), default=str)  # ASCII: any text survives it
            report.add(_store(runtime, [], [], [Rejected(mention.source.value, reason, payload)]))
    return report


_REFUSED = (DataError, IntegrityError, StatementError, UnicodeError)
"""What a database or its driver raises for a value it cannot keep (too long, a NUL, a broken constraint, text
UTF-8 cannot encode)."""
_NOT_DATA = (OperationalError, InterfaceError)
"""StatementErrors that say the database is unreachable or gone: retried later, never blamed on a mention."""


def refusal(exc: BaseException) -> str:
    """Why the database refused a statement, without the SQL or its parameters (`storage.database.error_text`)."""
    text = error_text(exc)
    return text if isinstance(exc, StatementError) else f"{type(exc).__name__}: {text}"[:500]


def _store(
    runtime: Runtime, tagged: Sequence[Mention], verdicts: Sequence[Verdict], rejected: Sequence[Rejected]
) -> BatchReport:
    report = BatchReport(quarantined=[r.reason for r in rejected])
    now = runtime.clock()
    retention = timedelta(days=runtime.config.retention.findings_days)
    thresholds = classifier_thresholds(runtime.classifier)
    with runtime.engine.begin() as connection:
        quarantine_items(connection, rejected)
        ids = save_mentions(connection, tagged)
        # The last copy of a mention met twice in one batch wins, as in save_mentions.
        kept = list({m.key: (m, v) for m, v in zip(tagged, verdicts, strict=True) if m.key in ids}.values())
        report.stored = len(kept)
        report.skipped_tombstoned = len({m.key for m in tagged}) - report.stored
        save_verdicts(connection, [(ids[m.key], v) for m, v in kept], now)
        directory = SqlContactDirectory(connection)
        directory.prefetch_handles(author_handle(m) for m, _ in kept)
        companies = runtime.company_index(directory.prefetch_companies())
        enriched = [
            Enriched(
                ids[mention.key],
                mention,
                verdict,
                enrich(
                    mention,
                    verdict,
                    directory,
                    runtime.config.routing,
                    now,
                    retention,
                    companies,
                    leads=runtime.config.leads,
                    owned_accounts=runtime.config.owned_accounts,
                    priority=runtime.config.priority,
                ),
            )
            for mention, verdict in kept
        ]
        save_enrichments(connection, enriched, thresholds)
    rule_teams = {rule.name: rule.team.value for rule in runtime.config.routing.rules}
    for _, _, verdict, outcome in enriched:
        report.classified += 1
        report.intents[verdict.intent.value] += 1
        report.needs_human += verdict.needs_human
        report.linked_contacts += bool(outcome.link and outcome.link.contact_id)
        report.findings += outcome.finding is not None
        report.not_profiled += outcome.consent is not None and not outcome.consent.allowed
        if outcome.flag is not None:
            report.flagged[outcome.flag.kind.value] += 1
            held = {o.rule for o in outcome.rule_outcomes if o.matched and (o.note or "").startswith("held back")}
            teams = {rule_teams[r] for r in held if r in rule_teams} or {""}  # "": no team's rule matched it anyway
            for team in teams:
                report.held_back[(team, outcome.flag.kind.value)] += 1
        for routed in outcome.routes:
            report.routes[(routed.route.team.value, verdict.intent.value)] += 1
    log.info("batch.stored", extra={"stored": report.stored, "quarantined": len(rejected)})
    return report


def sweep(runtime: Runtime, collector: Collector, on_page: Callable[[BatchReport], None] | None = None) -> BatchReport:
    """Run one collector from its saved cursor, saving the cursor after each stored page.

    One sweep of a collector runs at a time, whichever process asks (`overheard collect` or `run`, a Celery
    worker): a second one would start from the same cursor and store the same pages twice over. While another
    process sweeps it, this returns at once with the collector's name in `busy`.

    Each sweep's outcome (items, or the failure's reason, and rate-limit headroom) is kept for source
    health; a failure is recorded and re-raised, so the caller reports it and goes on with other sources.
    """
    with task_runs.exclusive(runtime.engine, f"sweep:{collector.name}") as mine:
        if not mine:
            log.info("sweep.busy", extra={"source": collector.name})
            return BatchReport(busy=[collector.name])
        return _sweep(runtime, collector, on_page)


SWEEPS_AT_ONCE = 2
"""Collectors `sweep_each` runs side by side: while one's page is stored, enriched and routed (Python, one core),
the other's is classified (the encoder's threads, outside the interpreter lock). Two is enough to keep the encoder
busy; each sweep keeps its own cursor, lock and health row as when run alone."""


def sweep_each(
    runtime: Runtime,
    collectors: Sequence[Collector],
    on_page: Callable[[Collector, BatchReport], None] | None = None,
    at_once: int = SWEEPS_AT_ONCE,
) -> list[tuple[Collector, BatchReport | Exception]]:
    """`sweep` every collector, `at_once` at a time; per collector, in order, its report or what stopped it (one
    failing source never stops the others)."""

    def one(collector: Collector) -> BatchReport | Exception:
        try:
            return sweep(runtime, collector, (lambda batch: on_page(collector, batch)) if on_page else None)
        except Exception as exc:  # reported by the caller, who goes on with the other sources
            return exc

    if at_once <= 1 or len(collectors) <= 1:
        return [(c, one(c)) for c in collectors]
    with ThreadPoolExecutor(min(at_once, len(collectors)), thread_name_prefix="sweep") as pool:
        return list(zip(collectors, pool.map(one, collectors), strict=True))


def _sweep(runtime: Runtime, collector: Collector, on_page: Callable[[BatchReport], None] | None) -> BatchReport:
    started = runtime.clock()
    watch = watch_for(collector)
    total = BatchReport()
    headroom: list[RateLimit | None] = [None]
    error: BaseException | None = None
    try:
        with watch.during() if watch else nullcontext(headroom) as headroom:
            _sweep_pages(runtime, collector, total, on_page)
    except BaseException as exc:
        error = exc
        raise
    finally:
        record_sweep_outcome(
            runtime.engine,
            collector.name,
            started_at=started,
            finished_at=runtime.clock(),
            items=total.stored + total.skipped_tombstoned,
            error=error,
            rate_limit=headroom[0],
        )
    return total


def _sweep_pages(
    runtime: Runtime, collector: Collector, total: BatchReport, on_page: Callable[[BatchReport], None] | None
) -> None:
    """Store each page, then save the position it lets the next sweep resume from: a 429 or a crash on page 5
    keeps pages 1-4 and their progress, so they are neither fetched (and, on X, billed) nor stored again.
    Collectors yield only cursors that are safe once that page and those before it are stored
    (`listener.cursor.Watermark`)."""
    with runtime.engine.begin() as connection:
        cursor = get_cursor(connection, collector.name)
    position = cursor
    for page in collector.sweep(cursor):
        batch = process_batch(runtime, page.mentions, page.rejected)
        total.add(batch)
        if page.rating is not None:  # a review page's overall rating, kept over time
            with runtime.engine.begin() as connection:
                save_rating(connection, collector.name, page.rating, runtime.clock())
        if page.next_cursor is not None and page.next_cursor != position:
            position = page.next_cursor
            with runtime.engine.begin() as connection:
                set_cursor(connection, collector.name, position)
        if on_page:
            on_page(batch)


def delivery_channel(
    name: str, channel: Channel, settings: DeliveryConfig | None = None, crm: CrmConfig | None = None
) -> DeliveryChannel | None:
    """The sending side of a configured channel; None for inbox-only channels. A hubspot channel takes its
    account settings from `crm.hubspot` and its token from the environment variable they name."""
    if channel.kind == "inbox":
        return None
    settings = settings or DeliveryConfig()
    if channel.kind == "hubspot":
        hubspot = crm.hubspot if crm else None
        token = secret(hubspot.token_env) if hubspot else None
        return DeliveryChannel(
            name=name,
            kind=ChannelKind.hubspot,
            timeout_s=settings.timeout_s,
            deadline_s=settings.deadline_s,
            hubspot=hubspot,
            token=None if token is None else SecretStr(token),
        )
    signing_secret = secret(channel.secret_env)
    return DeliveryChannel(
        name=name,
        kind=ChannelKind(channel.kind),
        url=channel.url,
        timeout_s=settings.timeout_s,
        deadline_s=settings.deadline_s,
        secret=None if signing_secret is None else SecretStr(signing_secret),
        smtp_host=channel.smtp_host,
        smtp_port=channel.smtp_port,
        mail_from=channel.mail_from,
        mail_to=channel.to,
    )


@dataclass
class DeliveryReport:
    delivered: int = 0
    """Acknowledged by their receiver (a webhook's 2xx, an SMTP accept, a CRM's stored ids)."""
    failed: int = 0
    dead: int = 0
    in_inbox: int = 0
    """Kept for the web inbox only: nothing was sent anywhere."""


def deliver_due(runtime: Runtime, limit: int = 500, client: httpx.Client | None = None) -> DeliveryReport:
    """Send every due delivery once, `limit` claimed at a time, until none is left due (the one sender every
    entry point calls: `collect`, `run`, the Celery `deliver` task, the demo).

    Every delivery is claimed before it is sent (`SqlDeliveryQueue.claim`), so senders in other processes never
    send it too. A delivery that fails is due again only after its backoff, and one held by an open breaker only
    after the breaker's cooldown, so the passes end. Inbox channels deliver by being stored. A channel that
    cannot send (e.g. its secret's environment variable is unset) is left out, so its deliveries are retried on
    the normal schedule and nothing is lost while the operator fixes it.
    """
    settings = runtime.config.delivery
    queue = SqlDeliveryQueue(runtime.engine, clock=runtime.clock)
    inbox = [name for name, channel in runtime.config.channels.items() if channel.kind == "inbox"]
    report = DeliveryReport(in_inbox=queue.deliver_to_inbox(inbox, runtime.clock()))
    senders: dict[str, DeliveryChannel] = {}
    for name, channel in runtime.config.channels.items():
        try:
            sender = delivery_channel(name, channel, settings, runtime.config.crm)
        except ValueError as exc:
            log.warning("channel.unusable", extra={"channel": name, "reason": str(exc)})
            continue
        if sender is not None:
            senders[name] = sender
    breakers = _breakers(settings)
    # Receivers are configured URLs: the collectors' SSRF guard applies, with the networks overheard.yaml allows.
    guarded = guarded_transport(runtime.config.http.allow_networks)
    with nullcontext(client) if client is not None else sending_client(guarded) as sending, queue.keeping_claims():
        while True:
            sent = deliver_due_once(
                queue,
                senders,
                runtime.clock(),
                limit,
                sending,
                concurrency=settings.concurrency,
                per_channel=settings.per_channel,
                breakers=breakers,
            )
            for after in sent:
                report.delivered += after.status is DeliveryStatus.delivered
                report.failed += after.status is DeliveryStatus.failed
                report.dead += after.status is DeliveryStatus.dead
            if len(sent) < limit:
                return report


class BackgroundSender:
    """Sends due deliveries on a thread of its own, so collecting and classifying go on while receivers answer.

    The outbox is transactional: a page's deliveries are committed with the page, so sending needs nothing from
    the collecting thread but a nudge (`nudge()` after each stored page). Each pass is `deliver_due`, whose claims
    keep any other sender (the caller's own `deliver_due`, another process) from sending a delivery twice. A pass
    that fails (the database away) is logged and the next nudge tries again; nothing is lost, since what was not
    sent stays due. `close()` runs a last pass and stops the thread.
    """

    def __init__(self, runtime: Runtime, client: httpx.Client | None = None) -> None:
        self.runtime = runtime
        # One sending client for every pass (the guarded one `deliver_due` would build for each), so connections
        # to receivers that keep them alive last from one pass to the next instead of being opened anew each time.
        self._own = (
            None if client is not None else sending_client(guarded_transport(runtime.config.http.allow_networks))
        )
        self.client = client if client is not None else self._own
        self.report = DeliveryReport()
        """What the passes so far sent, summed."""
        self.failures: list[str] = []
        """Why passes failed, in order."""
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="overheard-sender", daemon=True)
        self._thread.start()

    def nudge(self, _batch: object = None) -> None:
        """Something may be due: run a pass soon (one pass for any number of nudges while one runs)."""
        self._wake.set()

    def close(self) -> DeliveryReport:
        self._stopping.set()
        self._wake.set()
        self._thread.join()
        if self._own is not None:
            self._own.close()
        return self.report

    def __enter__(self) -> BackgroundSender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            last = self._stopping.is_set()
            try:
                sent = deliver_due(self.runtime, client=self.client)
            except Exception as exc:  # the database away, a receiver's bug: the next nudge tries again
                self.failures.append(refusal(exc))
                log.error("sender.pass_failed", extra={"reason": refusal(exc)})
            else:
                for name in ("delivered", "failed", "dead", "in_inbox"):
                    setattr(self.report, name, getattr(self.report, name) + getattr(sent, name))
            if last:
                return


_BREAKERS: dict[tuple[int, float], Breakers] = {}


def _breakers(settings: DeliveryConfig) -> Breakers:
    """This process's channel breakers, kept across passes (a breaker that forgot each pass would not hold)."""
    key = (settings.breaker_failures, settings.breaker_cooldown_s)
    return _BREAKERS.setdefault(key, Breakers(*key))
