"""A hand-written chart for HTTP tests: FHIR resources built in a few words, a patient-view request around them,
and the cards it gets by rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import NOW

BASE = "https://ehr.example.org/fhir"
PATIENT = "pt-intake"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SUBJECT = {"reference": f"Patient/{PATIENT}"}
PREFETCH_KEYS = (
    "medicationRequests",
    "medicationAdministrations",
    "medicationStatements",
    "medicationDispenses",
    "procedures",
    "conditions",
    "vitalSigns",
    "labs",
)


def at(hours: float) -> str:
    return (NOW - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def patient(birth_date: str = "1964-03-02", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PATIENT, "birthDate": birth_date, **extra}


def patient_view(patient_resource: dict[str, Any] | None = None, **keys: dict[str, Any]) -> dict[str, Any]:
    prefetch: dict[str, Any] = {"patient": patient_resource or patient()}
    prefetch.update({key: searchset() for key in PREFETCH_KEYS})
    prefetch.update(keys)
    return {
        "hook": "patient-view",
        "hookInstance": "5a3c1c2e-4f0b-4c1e-9b1e-7d9a1c2b3e4f",
        "context": {"userId": "Practitioner/onc-1", "patientId": PATIENT},
        "prefetch": prefetch,
    }


def car_t_given(hours: float, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": "axicel-1",
        "status": "completed",
        "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "axicabtagene ciloleucel (Yescarta)"},
        "effectiveDateTime": at(hours),
        **extra,
    }


def vital(code: str, value: Any, unit: str | None, ucum: str | None, hours: float, oid: str) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity["unit"] = unit
    if ucum is not None:
        quantity.update(system=UCUM, code=ucum)
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": SUBJECT,
        "effectiveDateTime": at(hours),
        "valueQuantity": quantity,
    }


def temperature(value: Any, unit: str | None = "Cel", ucum: str | None = "Cel", hours: float = 1, oid: str = "t1"):
    return vital("8310-5", value, unit, ucum, hours, oid)


def systolic(value: float, hours: float = 1, oid: str = "bp1") -> dict[str, Any]:
    return vital("8480-6", value, "mm[Hg]", "mm[Hg]", hours, oid)


def cards_of(client: Any, body: dict[str, Any], service: str = "crs-patient-view") -> list[dict[str, Any]]:
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def by_rule(cards: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {card["extension"]["org.crs-cds.finding"]["ruleId"]: card for card in cards}


def evidence_values(card: dict[str, Any]) -> list[Any]:
    return [e.get("value") for e in card["extension"]["org.crs-cds.finding"].get("evidence", [])]
