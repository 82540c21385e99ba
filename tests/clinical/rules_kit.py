"""A small knowledge base with the documented API, and builders for Facts, for the rules tests.

The fake keeps the rules tests independent of clinical content changes in cards/ (the real knowledge base is
used where a test is about that content, such as the PALS thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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


@dataclass(frozen=True)
class T:
    value: float
    source: str = "test"


@dataclass(frozen=True)
class FakeThresholds:
    fever_celsius: T = T(38.0)
    low_flow_max_l_min: T = T(6)
    spo2_assess_below: T = T(92)
    ferritin_hlh_ng_ml: T = T(10000)
    crp_rise_factor: T = T(2.0)
    crp_rise_window_hours: T = T(48)
    neutropenia_anc_10e9_l: T = T(0.5)
    easix_korell_2022: T = T(4.67)
    lab_max_age_days: T = T(7)
    long_term_corticosteroid_days: T = T(21)
    borderline_sbp_margin: T = T(5)
    adult_from_age_days: int = 18 * 365

    def hypotension_sbp(self, age_days: int | None, age_years: int | None = None) -> T:
        """PALS: < 60 neonates, < 70 infants, < 70 + 2 x years (1-10), < 90 above; adult 90."""
        if age_days is None or age_days >= 11 * 365:
            return T(90)
        if age_days < 28:
            return T(60)
        if age_days < 365:
            return T(70)
        return T(70 + 2 * (age_days // 365))

    def tachycardia_hr(self, age_days: int | None, age_years: int | None = None) -> T:
        return T(100 if age_days is None or age_days >= 13 * 365 else 140)

    def tachypnoea_rr(self, age_days: int | None, age_years: int | None = None) -> T:
        return T(20 if age_days is None or age_days >= 13 * 365 else 30)


@dataclass(frozen=True)
class FakePremed:
    id: str
    treatment_id: str | None
    label: str
    display: str
    system: str | None
    code: str | None
    dose_text: str = "per label"
    timing: str = "before the dose"
    source: str = "label"
    for_drug: str = ""
    paediatric_mg_per_m2: float | None = None
    paediatric_max_mg: float | None = None
    paediatric_timing: str | None = None
    paediatric_label: str | None = None
    paediatric_source: str | None = None


@dataclass(frozen=True)
class FakeDrug:
    id: str
    generic_name: str
    risk_tier: str
    exposure_window_days: int = 28
    drug_class: str = "car-t"
    boxed_warning_crs: bool = True
    premedication: tuple[FakePremed, ...] = ()
    boxed_warning_neurotoxicity: bool = False


@dataclass(frozen=True)
class FakeBaseline:
    id: str
    label: str
    display: str
    system: str | None
    code: str | None
    resource_type: str = "ServiceRequest"
    source: str = "guideline"


@dataclass(frozen=True)
class FakeTreatment:
    id: str
    kind: str


@dataclass(frozen=True)
class FakeSite:
    min_order_alert_tier: str | None = None


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
DEX = FakePremed("dexamethasone", "dexamethasone", "Dexamethasone 16 mg", "dexamethasone", RXNORM, "3264")
H1 = FakePremed(
    "antihistamine", "diphenhydramine", "Diphenhydramine 50 mg", "diphenhydramine", RXNORM, "3498"
)
CHILD_DEX = FakePremed(
    "dexamethasone-blinatumomab", "dexamethasone", "Dexamethasone 20 mg IV 1 h before the dose", "dexamethasone",
    RXNORM, "3264", for_drug="blinatumomab", paediatric_mg_per_m2=5, paediatric_max_mg=20,
    paediatric_label="Dexamethasone 5 mg/m2 (max 20 mg) before the dose",
)
DRUGS = {
    d.id: d
    for d in (
        FakeDrug("axicabtagene-ciloleucel", "axicabtagene ciloleucel", "high", 28),
        FakeDrug("teclistamab", "teclistamab", "high", 14, "bispecific", True, (DEX, H1)),
        FakeDrug("rituximab", "rituximab", "moderate", 7, "anti-cd20", False),
        FakeDrug("blinatumomab", "blinatumomab", "high", 28, "bispecific", True, (CHILD_DEX,)),
        FakeDrug("nivolumab", "nivolumab", "low", 7, "checkpoint-inhibitor", False),
    )
}
BASELINE = (
    FakeBaseline("crp", "CRP", "C reactive protein", LOINC, "1988-5"),
    FakeBaseline("ferritin", "Ferritin", "Ferritin", LOINC, "2276-4"),
)


def _real_neuro() -> Any:
    """The ICANS knowledge of cards/icans.yaml (the ASTCT table is data, and the rules read it as such)."""
    from pathlib import Path

    from cds_service.knowledge.codes import SystemResolver
    from cds_service.knowledge.loader import read_model
    from cds_service.knowledge.neuro import IcansFile, NeuroKnowledge

    cards = Path(__file__).resolve().parents[2] / "cards"
    return NeuroKnowledge(read_model(cards / "icans.yaml", IcansFile, "icans.yaml"), SystemResolver({}))


NEURO = _real_neuro()


def _real_dosing() -> Any:
    """The dose rules of cards/dosing.yaml (tocilizumab by weight)."""
    from pathlib import Path

    from cds_service.knowledge.dosing import DosingFile
    from cds_service.knowledge.loader import read_model

    return read_model(Path(__file__).resolve().parents[2] / "cards" / "dosing.yaml", DosingFile, "dosing.yaml")


DOSING = _real_dosing()


def _real_periods() -> Any:
    """The post-dose monitoring periods of cards/monitoring-periods.yaml, by drug id."""
    from pathlib import Path

    from cds_service.knowledge.loader import read_model
    from cds_service.knowledge.periods import MonitoringPeriodFile

    path = Path(__file__).resolve().parents[2] / "cards" / "monitoring-periods.yaml"
    return {p.drug: p for p in read_model(path, MonitoringPeriodFile, "monitoring-periods.yaml").periods}


PERIODS = _real_periods()


@dataclass(frozen=True)
class FakeKnowledge:
    drugs: dict[str, FakeDrug] = field(default_factory=lambda: dict(DRUGS))
    thresholds: FakeThresholds = field(default_factory=FakeThresholds)
    baseline_monitoring: tuple[FakeBaseline, ...] = BASELINE
    treatments: dict[str, FakeTreatment] = field(
        default_factory=lambda: {
            "dexamethasone": FakeTreatment("dexamethasone", "corticosteroid"),
            "diphenhydramine": FakeTreatment("diphenhydramine", "antihistamine"),
            "cetirizine": FakeTreatment("cetirizine", "antihistamine"),
            "methylprednisolone": FakeTreatment("methylprednisolone", "corticosteroid"),
        }
    )
    site: FakeSite = field(default_factory=FakeSite)
    version: str = "test"
    neuro: Any = NEURO
    dosing: Any = DOSING
    monitoring_periods: Any = field(default_factory=lambda: dict(PERIODS))


KB = FakeKnowledge()


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
