"""Who may do what: the capabilities, the role policy, each role's record scope, the caller, and the errors.

The policy is one table (`POLICY`): each capability lists the roles that have it (function-level
authorization). What a role sees inside a capability is its `Scope` (object-level authorization, enforced
in SQL by storage): service sees every mention routed to customer service, sales sees purchase
intent and scored leads routed to sales, admin and privacy see everything; marketing and communications hold
no record-level capability, only aggregates and `read_alerts`: the spike and storm alerts and exactly the posts
each alert names as its evidence (communications is the crisis desk: alerts, evidence, negative storms and the
dashboard) and `review_noise`, the review of what noise screening kept out of the queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.inbox import Scope
from storage.tokens import Role


class Capability(StrEnum):
    read_mentions = "read_mentions"
    triage = "triage"
    read_contacts = "read_contacts"
    manage_consents = "manage_consents"
    read_routes = "read_routes"
    retry_deliveries = "retry_deliveries"
    read_rules = "read_rules"
    dry_run_rules = "dry_run_rules"
    read_metrics = "read_metrics"
    gdpr = "gdpr"
    work_leads = "work_leads"  # the ranked lead feed and its decisions (accept, dismiss, snooze): sales' desk
    operate = "operate"  # source health and operator alerts: for whoever runs Overheard, not business teams
    read_alerts = "read_alerts"  # spike and storm alerts, and the posts each names as evidence (and no other post)
    manage_tokens = "manage_tokens"  # issue, list and revoke API tokens (overheard.services.tokens)
    review_noise = "review_noise"  # what noise screening kept out (spam and scams, own posts, competitor talk)
    connect_accounts = "connect_accounts"  # connect and disconnect the brand's reply accounts (OAuth; admin only)


_ALL = frozenset(Role)
POLICY: dict[Capability, frozenset[Role]] = {
    Capability.read_mentions: frozenset({Role.admin, Role.service, Role.sales}),
    Capability.triage: frozenset({Role.admin, Role.service, Role.sales}),
    Capability.read_contacts: frozenset({Role.admin, Role.service, Role.sales, Role.privacy}),
    Capability.manage_consents: frozenset({Role.admin, Role.privacy}),
    Capability.read_routes: frozenset({Role.admin, Role.service, Role.sales}),
    Capability.retry_deliveries: frozenset({Role.admin, Role.service, Role.sales}),
    # Rules hold no personal data; a dry run shows excerpts of posts, so only admins run it.
    Capability.read_rules: _ALL - {Role.privacy},
    Capability.dry_run_rules: frozenset({Role.admin}),
    Capability.read_metrics: frozenset({Role.admin, Role.marketing, Role.communications, Role.service, Role.sales}),
    Capability.gdpr: frozenset({Role.admin, Role.privacy}),
    Capability.operate: frozenset({Role.admin}),
    Capability.work_leads: frozenset({Role.admin, Role.sales}),
    Capability.read_alerts: frozenset({Role.admin, Role.marketing, Role.communications}),
    Capability.manage_tokens: frozenset({Role.admin}),
    Capability.connect_accounts: frozenset({Role.admin}),
    # Spam review reads posts of every team's stream: the admin, and communications (impersonated support accounts and
    # scams aimed at the brand's customers are theirs to watch); not each team's triage roles.
    Capability.review_noise: frozenset({Role.admin, Role.communications}),
}

SCOPES: dict[Role, Scope] = {
    Role.admin: Scope(),
    Role.privacy: Scope(),
    # Service: every mention routed to customer service, whatever the model said (its intent is a label and a filter).
    Role.service: Scope(team="customer_service", intents=("complaint", "question"), every_routed=True),
    # Sales: purchase intent routed to sales, and every lead routed there (a prospect's ask read as "other").
    Role.sales: Scope(team="sales", intents=("purchase_intent",), leads=True),
    # Marketing holds no record capability; the scope is never used, and would show nothing if it were.
    Role.marketing: Scope(team="marketing", intents=()),
    # Communications likewise: alerts and their evidence come through `read_alerts`, not a record scope.
    Role.communications: Scope(team="communications", intents=()),
}


class ServiceError(Exception):
    """A use case refused: the message says what was wrong, in words a user can act on."""


class Forbidden(ServiceError):
    """The caller's role may not do this at all (HTTP 403)."""

    def __init__(self, message: str, capability: Capability | None = None) -> None:
        super().__init__(message)
        self.capability = capability


class NotFound(ServiceError):
    """No such record, or not one the caller's scope may see; the two are not told apart (HTTP 404)."""


class Invalid(ServiceError):
    """What was asked is malformed or incomplete (HTTP 400), e.g. a dismissal without a reason."""


class Conflict(ServiceError):
    """The record is in a state that does not allow the action (HTTP 409), e.g. retrying a delivered delivery."""


@dataclass(frozen=True)
class Caller:
    """Who asks: `name` is the actor written to the audit log; `role` decides capabilities and scope."""

    name: str
    role: Role

    @classmethod
    def operator(cls, name: str = "cli") -> Caller:
        """Whoever runs the command line on the server: an admin (they hold the database anyway)."""
        return cls(name=name, role=Role.admin)

    @property
    def scope(self) -> Scope:
        return SCOPES[self.role]

    def can(self, capability: Capability) -> bool:
        return self.role in POLICY[capability]

    def require(self, capability: Capability) -> None:
        """Raise `Forbidden` unless the role has `capability`."""
        if not self.can(capability):
            allowed = ", ".join(sorted(POLICY[capability]))
            raise Forbidden(
                f"role '{self.role}' may not {capability.value.replace('_', ' ')} (allowed: {allowed})", capability
            )
