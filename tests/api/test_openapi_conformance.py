"""Schemathesis against the published OpenAPI document, with its standard checks and bounded examples.

It runs as the admin (who reaches every route) on a database of its own, since it may relabel, resolve
or consent at random; PostgreSQL is included because it refuses some text SQLite accepts (NUL bytes).
Each operation is one test (the operations are the authorization matrix's rows, which another test holds
equal to the published document), fed valid and invalid requests. Examples are derandomized, so a failure
in CI is the same failure on a laptop, and bounded, so both backends take about a minute on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from overheard.api import create_app
from storage.tokens import Role
from tests.api.conftest import _seeded_database
from tests.api.seed import DEMO_CONFIG, MemoClassifier, Seeded
from tests.api.test_authorization_matrix import MATRIX

EXAMPLES_PER_OPERATION = 12


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, memo_classifier: MemoClassifier
) -> Iterator[Seeded]:
    folder: Path = tmp_path_factory.mktemp("fuzzed")
    yield from _seeded_database(request.param, folder, memo_classifier)


@pytest.fixture(scope="session")
def api_schema(fuzzed: Seeded) -> OpenApiSchema:
    app = create_app(fuzzed.engine, DEMO_CONFIG, rate_limit_per_minute=1_000_000)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda value: str(value))
def test_operation_conforms_to_the_published_schema(
    api_schema: OpenApiSchema, fuzzed: Seeded, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    admin = fuzzed.auth(Role.admin)

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=admin)

    conforms()
