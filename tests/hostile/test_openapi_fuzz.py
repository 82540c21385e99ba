"""Hostile input: schemathesis drives every operation of the OpenAPI document; nothing may answer 5xx.

Bounded: a fixed number of generated examples per operation. (schemathesis' pytest plugin does not load under
pytest 9, so the operations are driven through its Python API with hypothesis directly.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from tests.conftest import make_client

EXAMPLES_PER_OPERATION = 40


def test_no_operation_of_the_openapi_document_answers_5xx(settings):
    with make_client(settings) as client:  # runs the lifespan: the runtime stays on app.state meanwhile
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 5, "discovery, hook, feedback, healthz and readyz must be in the document"
        for operation in operations:

            @given(case=operation.as_strategy())
            @hypothesis_settings(
                # too_slow only: the 2-core CI machine is shared, and generation time is not what this checks.
                max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=[HealthCheck.too_slow]
            )
            def run(case) -> None:
                response = case.call()
                where = f"{case.method} {case.formatted_path}"
                assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text[:300]}"
                if response.status_code >= 400:
                    assert response.json()["resourceType"] == "OperationOutcome", where

            run()
