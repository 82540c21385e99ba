"""Raw FHIR R4 JSON for the timeline tests: what a SMART page reads from a FHIR server and posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PATIENT = "tl-1"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
AXICEL = ("1987402", "axicabtagene ciloleucel (Yescarta) suspension for IV infusion")
NOREPINEPHRINE = ("7512", "norepinephrine")
TOCILIZUMAB = ("612865", "tocilizumab")


def at(hours_before_now: float) -> str:
    return (NOW - timedelta(hours=hours_before_now)).isoformat().replace("+00:00", "Z")


def patient(birth_date: str = "1968-03-02", pid: str = PATIENT) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": birth_date, "gender": "female"}


def vital(oid: str, code: str, hours: float, value: float, unit: str, pid: str = PATIENT) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": at(hours),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def temperature(oid: str, hours: float, celsius: float, unit: str = "Cel") -> dict[str, Any]:
    return vital(oid, "8310-5", hours, celsius, unit)


def blood_pressure(oid: str, hours: float, systolic: float, diastolic: float = 50) -> dict[str, Any]:
    panel = vital(oid, "85354-9", hours, 0, "mm[Hg]")
    del panel["valueQuantity"]
    panel["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": c}]},
         "valueQuantity": {"value": v, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}
        for c, v in (("8480-6", systolic), ("8462-4", diastolic))
    ]
    return panel


def spo2(oid: str, hours: float, percent: float) -> dict[str, Any]:
    return vital(oid, "59408-5", hours, percent, "%")


def o2_flow(oid: str, hours: float, litres: float) -> dict[str, Any]:
    return vital(oid, "3151-8", hours, litres, "L/min")


def administration(aid: str, drug: tuple[str, str], hours: float, *, running: bool = False) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": aid,
        "status": "in-progress" if running else "completed",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": drug[0], "display": drug[1]}],
                                      "text": drug[1]},
    }
    if running:
        raw["effectivePeriod"] = {"start": at(hours)}
    else:
        raw["effectiveDateTime"] = at(hours)
    return raw


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def rising_crs_chart() -> list[dict[str, Any]]:
    """Axicel 3 days ago; fever from 10 h ago, hypotension from 6 h ago, norepinephrine from 2 h ago."""
    return [
        patient(),
        searchset(
            administration("ma-axicel", AXICEL, 72),
            administration("ma-norepi", NOREPINEPHRINE, 2, running=True),
        ),
        searchset(
            temperature("t-1", 30, 37.0),
            temperature("t-2", 10, 38.6),
            temperature("t-3", 4, 39.1),
            blood_pressure("bp-1", 30, 118),
            blood_pressure("bp-2", 6, 84),
            blood_pressure("bp-3", 3, 78),
            spo2("s-1", 6, 96),
        ),
    ]
