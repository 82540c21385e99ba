"""The shipped knowledge base, and builders for Facts, for the rules tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cds_service.clinical.rules import RuleConfig
from cds_service.domain.facts import (
    DataGap,
    DiagnosisFact,
    DraftOrder,
    Exposure,
    Facts,
    Measurement,
    O2Device,
    O2Support,
    TreatmentGiven,
    VasopressorUse,
)
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.loader import load_knowledge

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ADULT_BIRTH = date(1970, 5, 1)
CONFIG = RuleConfig()
UNITS = {
    "temperature": "Cel",
    "heart_rate": "/min",
    "respiratory_rate": "/min",
    "systolic": "mm[Hg]",
    "diastolic": "mm[Hg]",
    "map": "mm[Hg]",
    "spo2": "%",
    "crp": "mg/L",
    "ferritin": "ng/mL",
    "ldh": "U/L",
    "creatinine": "mg/dL",
    "platelets": "10*9/L",
    "neutrophils": "10*9/L",
    "ice_score": "{score}",
    "gcs": "{score}",
}


#: The knowledge base as shipped (cards/): the rules are tested against the content they run on.
KB: KnowledgeBase = load_knowledge(REPO / "cards")
NEURO = KB.neuro  # the ICANS knowledge of cards/icans.yaml (the ASTCT table is data, and the rules read it as such)
DOSING = KB.dosing  # the dose rules of cards/dosing.yaml (tocilizumab by weight)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"


def at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


def m(concept: str, value: float, hours_ago: float = 1, ref: str | None = None) -> Measurement:
    return Measurement(
        concept, value, UNITS.get(concept, "1"), at(hours_ago), ref or f"Observation/{concept}-{hours_ago}"
    )


def exposure(drug_id: str = "axicabtagene-ciloleucel", days_ago: float = 3, **kw: Any) -> Exposure:
    moment = NOW - timedelta(days=days_ago)
    values: dict[str, Any] = {
        "drug_id": drug_id,
        "source": "MedicationAdministration",
        "reference": f"MedicationAdministration/{drug_id}",
        "start": moment,
        "last": moment,
        "matched_by": f"text:{drug_id}",
    }
    values.update(kw)
    return Exposure(**values)


def o2(device: O2Device | str, flow: float | None = None, hours_ago: float = 1) -> O2Support:
    return O2Support(O2Device(device), flow, at(hours_ago), f"Observation/o2-{hours_ago}")


def pressor(
    name: str = "norepinephrine", hours_ago: float = 2, end_hours_ago: float | None = None
) -> VasopressorUse:
    end = None if end_hours_ago is None else at(end_hours_ago)
    return VasopressorUse(name, name == "vasopressin", at(hours_ago), end, f"MedicationAdministration/{name}")


def treatment(treatment_id: str, kind: str, hours_ago: float) -> TreatmentGiven:
    return TreatmentGiven(treatment_id, kind, at(hours_ago), f"MedicationAdministration/{treatment_id}")


def diagnosis(concept: str, code: str, grade: int | None, hours_ago: float | None) -> DiagnosisFact:
    onset = None if hours_ago is None else at(hours_ago)
    return DiagnosisFact(concept, code, grade, onset, f"Condition/{code}")


def draft(
    reference: str,
    *,
    drug_id: str | None = None,
    treatment_id: str | None = None,
    codes: tuple[str, ...] = (),
    text: str = "",
    resource_type: str = "MedicationRequest",
    selected: bool = False,
) -> DraftOrder:
    return DraftOrder(reference, resource_type, drug_id, treatment_id, codes, text, selected)


def gap(key: str, reason: str = "forbidden") -> DataGap:
    return DataGap(key, f"{key} could not be read", reason)


def facts(
    *items: Any, birth: date | None = ADULT_BIRTH, exposures: tuple[Exposure, ...] | None = None, **kw: Any
) -> Facts:
    """Facts at NOW with one axi-cel exposure 3 days ago unless told otherwise; items sorted by type."""
    buckets: dict[str, list[Any]] = {
        "measurements": [],
        "o2_support": [],
        "vasopressors": [],
        "treatments": [],
        "diagnoses": [],
        "draft_orders": [],
        "data_gaps": [],
    }
    kinds = {
        Measurement: "measurements",
        O2Support: "o2_support",
        VasopressorUse: "vasopressors",
        TreatmentGiven: "treatments",
        DiagnosisFact: "diagnoses",
        DraftOrder: "draft_orders",
        DataGap: "data_gaps",
    }
    for item in items:
        buckets[kinds[type(item)]].append(item)
    values = {k: tuple(v) for k, v in buckets.items()}
    values.update(kw)
    return Facts(
        now=NOW,
        patient_id="p1",
        birth_date=birth,
        exposures=(exposure(),) if exposures is None else exposures,
        **values,
    )


def born_days_before(days: int) -> date:
    return (NOW - timedelta(days=days)).date()
