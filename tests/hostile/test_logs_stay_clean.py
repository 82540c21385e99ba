"""Secrets and patient data never reach the logs: full hook calls, with tokens, names and values, captured."""

from __future__ import annotations

import logging

import httpx

from tests.conftest import load_json, make_client

SECRET_TOKEN = "fhir-access-token-SECRET-5f2e"
PATIENT_NAME = "Zanzibar-Quixotely"
ODD_VALUE = "39.87"


def _request_with_secrets() -> dict:
    request = load_json("examples/order-sign-teclistamab.json")
    request["fhirServer"] = "http://127.0.0.1:9/fhir"  # nothing listens there: the fetch fails and is logged
    request["fhirAuthorization"] = {
        "access_token": SECRET_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "crs-cds",
        "patient": "pt-myeloma-1",
    }
    request["prefetch"]["patient"]["name"] = [{"family": PATIENT_NAME, "given": ["Ada"]}]
    del request["prefetch"]["vitalSigns"]  # a key to fetch with the token
    request["prefetch"]["labs"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "crp-1",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
                    "subject": {"reference": "Patient/pt-myeloma-1"},
                    "effectiveDateTime": "2026-11-24T08:00:00Z",
                    "valueQuantity": {
                        "value": float(ODD_VALUE),
                        "unit": "mg/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "mg/L",
                    },
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "broken",
                    "status": "final",
                    "code": {"text": PATIENT_NAME},
                    "valueQuantity": {"value": "x"},
                }
            },
        ],
    }
    return request


def _fhir_server(request: httpx.Request) -> httpx.Response:
    """Every query answers an empty searchset (so httpx logs a completed request, URL and all)."""
    return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": []})


def test_no_token_name_or_value_in_the_logs_of_full_hook_calls(settings, caplog):
    caplog.set_level(logging.INFO)
    with make_client(settings, fhir_transport=httpx.MockTransport(_fhir_server)) as client:
        for service in ("crs-order-sign", "crs-patient-view"):
            request = _request_with_secrets()
            request["hook"] = "order-sign" if service == "crs-order-sign" else "patient-view"
            response = client.post(
                f"/cds-services/{service}",
                json=request,
                headers={"Authorization": "Bearer eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2ln"},
            )
            assert response.status_code == 200
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert caplog.records, "hook calls must log something (service, hookInstance, timings)"
    assert "hookInstance" in text
    for secret in (SECRET_TOKEN, PATIENT_NAME, ODD_VALUE, "eyJhbGciOiJFUzM4NCJ9", "pt-myeloma-1"):
        assert secret not in text, f"{secret!r} leaked into the logs"
