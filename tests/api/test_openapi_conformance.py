"""Schemathesis against the published OpenAPI document, with its standard checks and bounded examples.

It runs as the admin (who reaches every route) on a database of its own, since it may relabel, resolve
or consent at random; PostgreSQL is included because it refuses some text SQLite accepts (NUL bytes).
Each operation is one test (the operations are the authorization matrix's rows, which another test holds
equal to the published document), fed valid and invalid requests. Examples are derandomized, so a failure
in CI is the same failure on a laptop, and bounded (`EXAMPLES_PER_OPERATION`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from overheard.api import create_app
from storage.tokens import Role
from tests.api.conftest import _seeded_database
from tests.api.seed import DEMO_CONFIG, MemoClassifier, Seeded
from tests.api.test_authorization_matrix import MATRIX

# 25 keeps both backends near a minute and a half on two busy cores; raise it for a deeper run on a laptop.
EXAMPLES_PER_OPERATION = int(os.environ.get("OVERHEARD_FUZZ_EXAMPLES", "25"))


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
    # The token is part of what is generated (not added afterwards), so a case that was made invalid by
    # dropping it is not sent with it and then blamed for being accepted.
    admin = fuzzed.auth(Role.admin)
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, headers=admin),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=admin),
    )

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
        response = case.call_and_validate()
        statuses.append(response.status_code)

    statuses: list[int] = []
    conforms()
    documented = {int(code) for code in operation.definition.raw["responses"] if code.isdigit()}
    assert statuses, f"no request was sent to {method.upper()} {path}"
    assert all(status < 500 for status in statuses), statuses
    assert set(statuses) <= documented, (set(statuses) - documented, documented)


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ({"intnet": "complaint"}, "intnet"),  # a typo is an error, not a filter quietly left out
        ({"until": ["2026-11-13T00:00:00Z", "2026-11-14T00:00:00Z"]}, "until"),
        ({"since": "0.49"}, "since"),  # not seconds since 1970
    ],
    ids=["unknown", "repeated", "number-as-date"],
)
def test_what_schemathesis_found_stays_refused(fuzzed: Seeded, query: dict[str, object], refused: str) -> None:
    client = TestClient(create_app(fuzzed.engine, DEMO_CONFIG))
    response = client.get("/api/mentions", params=query, headers=fuzzed.auth(Role.admin))
    assert response.status_code == 422, response.text
    assert [problem["loc"] for problem in response.json()["detail"]] == [["query", refused]]
