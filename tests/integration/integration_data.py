"""Fixture patients seeded into the real FHIR server, and hook requests that point at it.

A CAR-T patient (axicabtagene ciloleucel infused 4 days before NOW, fever and hypotension since), with a
Medication referenced by id, vitals and labs within the look-back window, one old and one cancelled
observation, and a second patient whose data must never leak into the first one's record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cds_service.cdshooks.models import HookRequest
from cds_service.domain.concepts import ICD10CM, LOINC, RXNORM

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PATIENT = "crs-int-1"
OTHER_PATIENT = "crs-int-2"
_VITALS = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
    ]
}
_LABS = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]
}


def _observation(
    obs_id: str,
    patient: str,
    category: dict[str, Any],
    code: str,
    when: str,
    value: float,
    unit: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": extra.pop("status", "final"),
        "category": [category],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        **extra,
    }


def _vital_signs(patient: str) -> list[dict[str, Any]]:
    temps = [(f"{patient}-temp-{i}", f"2026-11-2{i}T08:00:00Z", 37.0 + i * 0.4) for i in range(1, 5)]
    observations = [_observation(i, patient, _VITALS, "8310-5", when, v, "Cel") for i, when, v in temps]
    observations.append(
        _observation(f"{patient}-hr-1", patient, _VITALS, "8867-4", "2026-11-24T08:00:00Z", 118, "/min")
    )
    panel = _observation(f"{patient}-bp-1", patient, _VITALS, "85354-9", "2026-11-24T08:05:00Z", 0, "mm[Hg]")
    del panel["valueQuantity"]
    panel["component"] = [
        {
            "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
            "valueQuantity": {
                "value": 84,
                "unit": "mm[Hg]",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        },
        {
            "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
            "valueQuantity": {
                "value": 50,
                "unit": "mm[Hg]",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        },
    ]
    observations.append(panel)
    observations.append(
        _observation(f"{patient}-temp-old", patient, _VITALS, "8310-5", "2026-10-01T08:00:00Z", 39.5, "Cel")
    )
    observations.append(
        _observation(
            f"{patient}-temp-x",
            patient,
            _VITALS,
            "8310-5",
            "2026-11-24T09:00:00Z",
            41.0,
            "Cel",
            status="cancelled",
        )
    )
    return observations


def _labs(patient: str) -> list[dict[str, Any]]:
    return [
        _observation(f"{patient}-crp-1", patient, _LABS, "1988-5", "2026-11-22T06:00:00Z", 40.0, "mg/L"),
        _observation(f"{patient}-crp-2", patient, _LABS, "1988-5", "2026-11-24T06:00:00Z", 120.0, "mg/L"),
        _observation(
            f"{patient}-ferritin-1", patient, _LABS, "2276-4", "2026-11-24T06:00:00Z", 2400.0, "ng/mL"
        ),
    ]


def patient_resources(patient: str) -> list[dict[str, Any]]:
    """Everything one fixture patient has on the server."""
    subject = {"reference": f"Patient/{patient}"}
    return [
        {"resourceType": "Patient", "id": patient, "birthDate": "1961-03-02", "gender": "female"},
        {
            "resourceType": "MedicationRequest",
            "id": f"{patient}-mr-1",
            "status": "completed",
            "intent": "order",
            "medicationReference": {"reference": "Medication/axicel"},
            "subject": subject,
            "authoredOn": "2026-11-19T09:00:00Z",
        },
        {
            "resourceType": "MedicationAdministration",
            "id": f"{patient}-ma-1",
            "status": "completed",
            "medicationReference": {"reference": "Medication/axicel"},
            "subject": subject,
            "effectiveDateTime": "2026-11-20T10:00:00Z",
        },
        {
            "resourceType": "Procedure",
            "id": f"{patient}-proc-1",
            "status": "completed",
            "code": {"text": "CAR-T cell infusion"},
            "subject": subject,
            "performedDateTime": "2026-11-20T10:00:00Z",
        },
        {
            "resourceType": "Condition",
            "id": f"{patient}-crs",
            "code": {
                "coding": [
                    {"system": ICD10CM, "code": "D89.832", "display": "Cytokine release syndrome, grade 2"}
                ]
            },
            "subject": subject,
            "onsetDateTime": "2026-11-23T08:00:00Z",
        },
        *_vital_signs(patient),
        *_labs(patient),
    ]


def seed_resources() -> list[dict[str, Any]]:
    """The shared Medication and both patients."""
    medication = {
        "resourceType": "Medication",
        "id": "axicel",
        "code": {"coding": [{"system": RXNORM, "code": "1993637", "display": "axicabtagene ciloleucel"}]},
    }
    return [medication, *patient_resources(PATIENT), *patient_resources(OTHER_PATIENT)]


def hook_request(
    server: str, token: str, prefetch: dict[str, Any] | None, patient: str = PATIENT
) -> HookRequest:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "7b1f3d2c-1f4e-4a8e-9d0c-0a8e2b6c5d11",
        "fhirServer": server,
        "fhirAuthorization": {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "crs-cds",
            "patient": patient,
        },
        "context": {"userId": "Practitioner/doc-1", "patientId": patient},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return HookRequest.model_validate(body)
