"""Helpers for the FHIR-layer tests: a tiny fake knowledge base, hook-request and resource builders."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES_BY_ID
from cds_service.domain.concepts import LOINC

BASE = "https://ehr.example.org/fhir"
TOKEN = "secret-token-abc"
PATIENT = "pat-1"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

#: LOINC codes the fake knowledge base knows, as the real one would.
KNOWN_LOINC = {
    "8310-5": "temperature",
    "8867-4": "heart_rate",
    "9279-1": "respiratory_rate",
    "85354-9": "bp_panel",
    "8480-6": "systolic",
    "8462-4": "diastolic",
    "59408-5": "spo2",
    "2708-6": "spo2",
    "1988-5": "crp",
    "2276-4": "ferritin",
}


class FakeKnowledge:
    """Only what the FHIR layer asks of the knowledge base."""

    def observation_concept(self, system: str | None, code: str | None) -> str | None:
        return KNOWN_LOINC.get(code or "") if system == LOINC else None

    def observation_concept_by_text(self, texts: Any) -> str | None:
        return "ice_score" if any("ICE score" in t for t in texts) else None

    def condition_concept(self, system: str | None, code: str | None) -> tuple[str, int | None] | None:
        return ("crs", 2) if code == "D89.832" else None

    def condition_event(self, codings: Any, texts: Any) -> object | None:
        return None


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


def hook_request(
    prefetch: dict[str, Any] | None = None,
    *,
    server: str | None = BASE,
    token: str | None = TOKEN,
    **context: Any,
) -> HookRequest:
    """A patient-view request for PATIENT; pass prefetch=None to send no prefetch at all."""
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/doc-1", "patientId": PATIENT, **context},
    }
    if server is not None:
        body["fhirServer"] = server
    if token is not None:
        body["fhirAuthorization"] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "crs-cds",
        }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return HookRequest.model_validate(body)


def bundle(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of the resources, with a `next` link when given."""
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if next_url:
        result["link"] = [{"relation": "next", "url": next_url}]
    return result


def patient() -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PATIENT, "birthDate": "1970-01-01"}


def observation(
    obs_id: str, code: str = "8310-5", when: str = "2026-11-24T08:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": 38.5, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"},
        **extra,
    }


def medication_request(req_id: str, medication_ref: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": req_id,
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": medication_ref},
        "subject": {"reference": f"Patient/{PATIENT}"},
    }


def empty_prefetch() -> dict[str, Any]:
    """A full prefetch where every key is the empty answer (patient included)."""
    full: dict[str, Any] = {key: bundle() for key in SERVICES_BY_ID["crs-patient-view"].prefetch}
    full["patient"] = patient()
    return full
