"""Seed data for API and web tests: the real pipeline run over the bundled Lumora samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from classifiers.verdict import Classifier, Document, Verdict
from listener.replay import ReplayCollector
from overheard.config import OverheardConfig, load_config
from overheard.pipeline import Runtime, sweep
from overheard.services import contacts as crm
from storage.tokens import Role, create_token
from tests.conftest import SAMPLES

DEMO_CONFIG: OverheardConfig = load_config(SAMPLES / "demo.yaml")


class MemoClassifier:
    """The shipped classifier, remembering each text's verdict: seeding a second database costs no inference."""

    def __init__(self, inner: Classifier) -> None:
        self.inner = inner
        self.version = inner.version
        self.memory: dict[Document, Verdict] = {}

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        new = [d for d in dict.fromkeys(documents) if d not in self.memory]
        if new:
            self.memory.update(zip(new, self.inner.classify(new), strict=True))
        return [self.memory[d] for d in documents]


@dataclass(frozen=True)
class Seeded:
    """A database holding the demo sample, with one token per role (`tokens[role]` is the secret)."""

    engine: Engine
    tokens: dict[Role, str]

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def seed(engine: Engine, classifier: Classifier) -> Seeded:
    crm.import_companies(engine, SAMPLES / "companies.csv")
    crm.import_contacts(engine, SAMPLES / "contacts.csv")
    runtime = Runtime.build(DEMO_CONFIG, engine, classifier)
    sweep(runtime, ReplayCollector(SAMPLES / "mentions.jsonl", name="demo-sample"))
    with engine.begin() as connection:
        tokens = {role: create_token(connection, f"{role.value}-tester", role)[0] for role in Role}
    return Seeded(engine, tokens)
