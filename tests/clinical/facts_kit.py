"""Builders for the facts-extraction tests: raw R4 JSON resources, records read as the intake reads them,
and the real knowledge base (loaded once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cds_service.domain.facts import Facts
from cds_service.intake.builder import add_draft_orders, record_from_resources
from cds_service.intake.read import READERS
from cds_service.intake.record import PatientRecord
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.loader import load_knowledge
from cds_service.reading.extract import extract_facts

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PATIENT = {"reference": "Patient/p1"}

_LISTS = {
    "MedicationRequest": "medication_requests",
    "MedicationAdministration": "medication_administrations",
    "MedicationStatement": "medication_statements",
    "MedicationDispense": "medication_dispenses",
    "Procedure": "procedures",
    "Observation": "observations",
    "Condition": "conditions",
}


@cache
def kb() -> KnowledgeBase:
    """The real knowledge base under cards/."""
    return load_knowledge(REPO / "cards")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def hours_ago(hours: float) -> str:
    return iso(NOW - timedelta(hours=hours))


# ---------------------------------------------------------------- records


def parsed_record(*raws: dict[str, Any], drafts: list[dict[str, Any]] | None = None, **kw: Any) -> PatientRecord:
    """A record built by the intake's own builder (no observation pre-filter)."""
    bundle = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]} if drafts else None
    record = record_from_resources(list(raws), knowledge=kb(), now=NOW, draft_orders=bundle, prefilter=False)
    for key, value in kw.items():
        setattr(record, key, value)
    return record


def direct_record(*raws: dict[str, Any]) -> PatientRecord:
    """A record holding every resource as read, entered-in-error ones included (the builder drops those)."""
    record = PatientRecord(patient_id="p1")
    for raw in raws:
        getattr(record, _LISTS[raw["resourceType"]]).append(READERS[raw["resourceType"]](raw))
    return record


def facts_of(*raws: dict[str, Any], **kw: Any) -> Facts:
    return extract_facts(parsed_record(*raws, **kw), kb(), NOW)


def direct_facts(*raws: dict[str, Any]) -> Facts:
    return extract_facts(direct_record(*raws), kb(), NOW)


def with_drafts(record: PatientRecord, drafts: list[dict[str, Any]]) -> PatientRecord:
    add_draft_orders(record, {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]})
    return record


# ---------------------------------------------------------------- observations


def coding(code: str, system: str = LOINC) -> dict[str, Any]:
    return {"system": system, "code": code}


def quantity(value: float, code: str | None = None, unit: str | None = None, system: str | None = UCUM) -> dict:
    q: dict[str, Any] = {"value": value}
    if code is not None:
        q["code"] = code
        if system is not None:
            q["system"] = system
    if unit is not None:
        q["unit"] = unit
    return q


def observation(
    codes: list[str] | str,
    value: dict[str, Any] | None = None,
    *,
    id: str = "o1",
    status: str = "final",
    when: str | None = None,
    components: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An Observation coded with LOINC code(s), a valueQuantity and optional components."""
    codes = [codes] if isinstance(codes, str) else codes
    raw: dict[str, Any] = {
        "resourceType": "Observation",
        "id": id,
        "status": status,
        "subject": PATIENT,
        "code": {"coding": [coding(c) for c in codes]},
    }
    if when is not None or not any(k.startswith("effective") for k in extra):
        raw["effectiveDateTime"] = when or hours_ago(2)
    if value is not None:
        raw["valueQuantity"] = value
    if components:
        raw["component"] = components
    raw.update(extra)
    return raw


def component(code: str, value: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"code": {"coding": [coding(code)]}, **extra}
    if value is not None:
        raw["valueQuantity"] = value
    return raw


# ---------------------------------------------------------------- medications


def med(text: str | None = None, code: str | None = None, system: str = RXNORM) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code is not None:
        concept["coding"] = [{"system": system, "code": code}]
    if text is not None:
        concept["text"] = text
    return {"medicationCodeableConcept": concept}


def administration(drug: str, status: str = "completed", *, id: str = "ma1", **time: Any) -> dict[str, Any]:
    time = time or {"effectiveDateTime": hours_ago(48)}
    return {
        "resourceType": "MedicationAdministration",
        "id": id,
        "status": status,
        "subject": PATIENT,
        **med(drug),
        **time,
    }


def request(drug: str, status: str = "active", *, id: str = "mr1", intent: str = "order", **extra: Any) -> dict:
    raw = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": status,
        "intent": intent,
        "subject": PATIENT,
        **med(drug),
    }
    raw.setdefault("authoredOn", hours_ago(72))
    raw.update(extra)
    return raw


def statement(drug: str, status: str = "completed", *, id: str = "ms1", **time: Any) -> dict[str, Any]:
    time = time or {"effectiveDateTime": hours_ago(48)}
    return {"resourceType": "MedicationStatement", "id": id, "status": status, "subject": PATIENT, **med(drug), **time}


def dispense(drug: str, status: str = "completed", *, id: str = "md1", **time: Any) -> dict[str, Any]:
    time = time or {"whenHandedOver": hours_ago(48)}
    return {"resourceType": "MedicationDispense", "id": id, "status": status, "subject": PATIENT, **med(drug), **time}


def procedure(text: str, status: str = "completed", *, id: str = "pr1", **time: Any) -> dict[str, Any]:
    time = time or {"performedDateTime": hours_ago(48)}
    return {"resourceType": "Procedure", "id": id, "status": status, "subject": PATIENT, "code": {"text": text}, **time}


def condition(code: str, *, id: str = "c1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": id,
        "subject": PATIENT,
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
        **extra,
    }


def status_concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]}
