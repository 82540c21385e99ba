"""Findings for the renderer tests, shaped exactly as docs/FINDINGS.md says the rules emit them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cds_service.domain.concepts import LOINC, RXNORM
from cds_service.domain.findings import Category, DrugRef, Evidence, Finding, Severity, SuggestedOrder, Suggestion

T0 = datetime(2026, 11, 24, 14, 20, tzinfo=UTC)
AXICEL = DrugRef("axicabtagene-ciloleucel", "axicabtagene ciloleucel", "car-t", "high")
TISACEL = DrugRef("tisagenlecleucel", "tisagenlecleucel", "car-t", "high")
TECLISTAMAB = DrugRef("teclistamab", "teclistamab", "bispecific-t-cell-engager", "high")
RITUXIMAB = DrugRef("rituximab", "rituximab", "anti-cd20", "moderate")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def crs_params(**overrides: Any) -> dict[str, Any]:
    """crs.active params for a febrile, hypotensive patient on low-flow oxygen (ASTCT grade 2)."""
    params: dict[str, Any] = {
        "drug_name": "axicabtagene ciloleucel",
        "drug_id": "axicabtagene-ciloleucel",
        "drug_class": "car-t",
        "other_drugs": [],
        "weight_kg": 80.0,
        "bsa_m2": None,
        "birth_date_precision": None,
        "tocilizumab": {
            "status": "offer", "dose_mg": 640.0, "mg_per_kg": 8.0, "weight_kg": 80.0,
            "given_24h": 0, "given_total": 0, "next_at": None,
        },
        "infection_workup": True,
        "context": [],
        "days_since_exposure": 3,
        "status": "possible",
        "grade": 2,
        "grade_is_minimum": False,
        "fever": True,
        "max_temperature_c": 38.9,
        "fever_waived": None,
        "hypotension": True,
        "min_systolic": 84.0,
        "hypotension_threshold": 90.0,
        "vasopressor_count": 0,
        "vasopressin": False,
        "hypoxia": True,
        "o2_device": "nasal-cannula",
        "o2_flow_l_min": 2.0,
        "paediatric": False,
        "age_years": 61.0,
        "grading_steps": [
            "Fever: 38.9 °C at 2026-11-24 14:20 UTC (≥ 38.0 °C).",
            "Hypotension without vasopressors: grade 2.",
            "Hypoxia on nasal cannula 2 L/min (low flow): grade 2.",
            "The more severe of hypotension and hypoxia gives ASTCT grade 2.",
        ],
        "signals": [{"id": "tachycardia", "value": 128.0, "threshold": 100.0, "effective": _iso(T0)}],
        "differential": ["infection", "neutropenic-fever"],
    }
    params.update(overrides)
    return params


def crs_evidence() -> tuple[Evidence, ...]:
    return (
        Evidence("Temperature", "Observation/temp-1", "8310-5", 38.9, "Cel", T0),
        Evidence("Systolic blood pressure", "Observation/bp-1", "8480-6", 84.0, "mm[Hg]", T0),
        Evidence("Oxygen flow", "Observation/o2-1", "3151-8", 2.0, "L/min", T0),
    )


def active_crs(
    grade: int | None = 2,
    *,
    minimum: bool = False,
    severity: Severity = Severity.critical,
    evidence: tuple[Evidence, ...] | None = None,
    **params: Any,
) -> Finding:
    merged = crs_params(grade=grade, grade_is_minimum=minimum, **params)
    return Finding(
        rule_id="crs.active",
        category=Category.active_crs,
        severity=severity,
        template="active-crs",
        params=merged,
        drug=AXICEL,
        astct_grade=grade,
        astct_grade_is_minimum=minimum,
        days_since_exposure=merged["days_since_exposure"],
        evidence=crs_evidence() if evidence is None else evidence,
        missing=("No vasopressor administrations were available.",) if minimum else (),
    )


def monitoring_window(**params: Any) -> Finding:
    merged: dict[str, Any] = {
        "drug_name": "tisagenlecleucel",
        "other_drugs": [],
        "days_since_exposure": 3,
        "day_of_window": 4,
        "window_days": 28,
        "signals": [],
        "differential": [],
        "paediatric": False,
        "age_years": 45.0,
    }
    merged.update(params)
    warning = any(
        s["id"]
        in {"spo2-low-no-o2", "ferritin-hlh", "neutropenic-fever"}
        for s in merged["signals"]
    )
    return Finding(
        rule_id="crs.monitoring-window",
        category=Category.monitoring_window,
        severity=Severity.warning if warning else Severity.info,
        template="monitoring-window",
        params=merged,
        drug=TISACEL,
        days_since_exposure=merged["days_since_exposure"],
    )


def active_icans(grade: int | None = 2, *, minimum: bool = False, **params: Any) -> Finding:
    merged: dict[str, Any] = {
        "drug_name": "axicabtagene ciloleucel",
        "drug_class": "car-t",
        "grade": grade,
        "grade_is_minimum": minimum,
        "tool": "ICE",
        "domains": [{"name": "ice", "grade": grade or 0}],
        "grading_steps": ["ICE 5/10 at 10:05: grade 2.", "ICANS grade 2 from the ICE score (the worst domain sets "
                          "the grade)."],
        "seizure": False,
        "with_crs": False,
        "low_gcs": None,
        "low_gcs_at": None,
        "documented_grade": None,
        "documented": False,
        "next_assessment_due": "2026-11-24T22:05:00+00:00",
        "age_years": 58,
        "weight_kg": 80.0,
    }
    merged.update(params)
    return Finding(
        rule_id="icans.active",
        category=Category.active_icans,
        severity=Severity.critical if (grade or 0) >= 2 or merged["seizure"] else Severity.warning,
        template="active-icans",
        params=merged,
        drug=DrugRef("axicabtagene-ciloleucel", "axicabtagene ciloleucel", "car-t", "high"),
        days_since_exposure=5,
        evidence=(Evidence("ICE score", "Observation/ice-1", None, 5.0, "{score}", T0),),
        missing=("level of consciousness (with ICE 0-2, unarousable is grade 4)",) if minimum else (),
        icans_grade=grade,
        icans_grade_is_minimum=minimum,
    )


def monitoring_gap(**params: Any) -> Finding:
    merged: dict[str, Any] = {
        "drug_name": "axicabtagene ciloleucel",
        "hours": 8,
        "missing": ["temperature", "blood pressure"],
        "last_seen": {"temperature": _iso(T0), "blood pressure": None},
        "unusable": [],
        "gaps": [
            {"concept": "temperature", "last": _iso(T0), "hours": 8, "unusable": False},
            {"concept": "blood pressure", "last": None, "hours": None, "unusable": False},
        ],
        "reason": {
            "kind": "period", "drug_name": "axicabtagene ciloleucel",
            "what": "the first 7 days after the infusion (site default)", "until": "2026-11-26T09:00:00+00:00",
        },
    }
    merged.update(params)
    return Finding(
        rule_id="crs.monitoring-gap",
        category=Category.monitoring_gap,
        severity=Severity.warning,
        template="monitoring-gap",
        params=merged,
        drug=AXICEL,
        days_since_exposure=5,
    )


def data_gap(**params: Any) -> Finding:
    merged: dict[str, Any] = {
        "items": [
            "vital signs could not be read (the FHIR server refused access)",
            "labs: the EHR sent an OperationOutcome | code <timeout>",
            "MedicationAdministration/ma-9 was not used: its medicationCodeableConcept could not be read (not a "
            "CodeableConcept or Reference the service can read)",
        ],
    }
    merged.update(params)
    return Finding(
        rule_id="data.unreadable",
        category=Category.data_gap,
        severity=Severity.info,
        template="data-gap",
        params=merged,
    )


def order_risk(drug: DrugRef = TECLISTAMAB, **params: Any) -> Finding:
    merged: dict[str, Any] = {
        "drug_name": drug.name,
        "tier": drug.risk_tier,
        "boxed_warning": True,
        "boxed_neurotoxicity": False,
        "already_exposed_days": None,
        "missing_premedication": [],
        "missing_baseline": [],
        "baseline_results": [],
        "paediatric": False,
        "bsa_m2": None,
    }
    merged.update(params)
    severity = Severity.warning if merged["tier"] == "high" else Severity.info
    return Finding(
        rule_id="order.risk",
        category=Category.order_risk,
        severity=severity,
        template="order-risk",
        params=merged,
        drug=drug,
    )


def order_missing(**params: Any) -> Finding:
    """The order card of a teclistamab order that lacks premedication and baseline labs, with its suggestions."""
    merged: dict[str, Any] = {
        "drug_name": "teclistamab",
        "tier": "high",
        "boxed_warning": True,
        "boxed_neurotoxicity": True,
        "already_exposed_days": None,
        "premedication": [
            {"name": "Dexamethasone", "dose_text": "dexamethasone 16 mg orally or IV",
             "timing": "1 to 3 hours before each dose of the step-up schedule", "missing": True},
            {"name": "Acetaminophen", "dose_text": "acetaminophen orally or IV per label",
             "timing": "1 to 3 hours before each dose of the step-up schedule", "missing": True},
        ],
        "missing_premedication": ["Dexamethasone 16 mg 1-3 h before each step-up dose", "Acetaminophen 650-1000 mg"],
        "missing_baseline": ["CRP", "Ferritin"],
        "baseline_results": [],
        "paediatric": False,
        "bsa_m2": None,
    }
    merged.update(params)
    orders = (
        Suggestion(
            label="Dexamethasone 16 mg 1-3 h before each step-up dose",
            orders=(
                SuggestedOrder(
                    "MedicationRequest",
                    "Dexamethasone 16 mg 1-3 h before each step-up dose",
                    RXNORM,
                    "3264",
                    "dexamethasone",
                    text="16 mg PO or IV 1-3 h before each step-up dose",
                    source="tecvayli-label",
                ),
            ),
        ),
        Suggestion(
            label="Acetaminophen 650-1000 mg",
            orders=(
                SuggestedOrder(
                    "MedicationRequest",
                    "Acetaminophen 650-1000 mg",
                    None,
                    None,
                    "acetaminophen",
                    text="650-1000 mg PO 1-3 h before each step-up dose",
                ),
            ),
        ),
        Suggestion(
            label="Baseline: C reactive protein, Ferritin",
            orders=(
                SuggestedOrder("ServiceRequest", "CRP", LOINC, "1988-5", "C reactive protein"),
                SuggestedOrder(
                    "ServiceRequest", "Ferritin", LOINC, "2276-4", "Ferritin", text="before dose 1"
                ),
            ),
            is_recommended=False,
        ),
    )
    return Finding(
        rule_id="order.risk",
        category=Category.order_risk,
        severity=Severity.warning,
        template="order-risk",
        params=merged,
        drug=TECLISTAMAB,
        suggestions=orders,
    )


def pre_infusion_risk(**params: Any) -> Finding:
    merged: dict[str, Any] = {
        "drug_name": "axicabtagene ciloleucel",
        "easix": 6.12,
        "m_easix": 3.4,
        "reference_cutoff": 4.67,
        "labs": {
            "ldh": {"value": 612.0, "unit": "U/L", "effective": _iso(T0)},
            "creatinine": {"value": 1.2, "unit": "mg/dL", "effective": _iso(T0)},
            "platelets": {"value": 120.0, "unit": "10*9/L", "effective": _iso(T0)},
        },
        "missing_labs": [],
    }
    merged.update(params)
    return Finding(
        rule_id="order.pre-infusion-risk",
        category=Category.pre_infusion_risk,
        severity=Severity.info,
        template="pre-infusion-risk",
        params=merged,
        drug=AXICEL,
    )
