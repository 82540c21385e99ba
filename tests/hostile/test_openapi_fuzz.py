"""Hostile input: schemathesis drives every operation of the OpenAPI document; nothing may answer 5xx.

Bounded: a fixed number of generated examples per operation, no shrinking deadline games.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import make_client


@pytest.fixture
def api_schema(settings) -> Iterator[Any]:
    with make_client(settings) as client:  # runs the lifespan: the runtime stays on app.state meanwhile
        yield schemathesis.openapi.from_asgi("/openapi.json", client.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx(case):
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
    )
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"
