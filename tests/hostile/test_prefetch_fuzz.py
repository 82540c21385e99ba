"""Hostile input: random FHIR-shaped JSON in context and prefetch never makes a hook answer 5xx."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import make_client

RESOURCE_TYPES = [
    "Patient",
    "Observation",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "MedicationDispense",
    "Procedure",
    "Condition",
    "Medication",
    "OperationOutcome",
    "Bundle",
    "Unknown",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "2026-11-24T10:00:00Z",
            "2026-11-24",
            "Cel",
            "[degF]",
            "final",
            "entered-in-error",
            "http://loinc.org",
            "8310-5",
            "8480-6",
            "#m1",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def fhir_shaped(draw: Any) -> dict[str, Any]:
    resource = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "status",
                    "code",
                    "valueQuantity",
                    "effectiveDateTime",
                    "subject",
                    "component",
                    "medicationCodeableConcept",
                    "medicationReference",
                    "contained",
                    "entry",
                    "birthDate",
                    "effectivePeriod",
                    "authoredOn",
                    "category",
                    "dataAbsentReason",
                    "link",
                    "type",
                ]
            ),
            json_values,
            max_size=8,
        )
    )
    resource["resourceType"] = draw(st.sampled_from(RESOURCE_TYPES))
    return resource


@st.composite
def bundles(draw: Any) -> dict[str, Any]:
    entries = draw(st.lists(fhir_shaped(), max_size=6))
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in entries]}


prefetch_values = st.one_of(st.none(), fhir_shaped(), bundles(), json_values)


def test_random_fhir_shaped_prefetch_and_context_never_cause_5xx(settings):
    with make_client(settings) as client:

        @given(
            prefetch=st.dictionaries(
                st.sampled_from(
                    [
                        "patient",
                        "medicationRequests",
                        "vitalSigns",
                        "labs",
                        "medicationAdministrations",
                        "procedures",
                        "conditions",
                    ]
                ),
                prefetch_values,
                max_size=7,
            ),
            draft=bundles(),
            selections=st.lists(st.text(max_size=15), max_size=3),
            hook=st.sampled_from(["patient-view", "order-sign", "order-select"]),
        )
        # too_slow only: the 2-core CI machine is shared, and generation time is not what this test checks.
        @hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        def run(prefetch: dict, draft: dict, selections: list, hook: str) -> None:
            service = {
                "patient-view": "crs-patient-view",
                "order-sign": "crs-order-sign",
                "order-select": "crs-order-select",
            }[hook]
            body = {
                "hook": hook,
                "hookInstance": "fuzz",
                "context": {
                    "userId": "Practitioner/1",
                    "patientId": "p1",
                    "draftOrders": draft,
                    "selections": selections,
                },
                "prefetch": prefetch,
            }
            response = client.post(f"/cds-services/{service}", json=body)
            assert response.status_code < 500, response.text[:500]

        run()
