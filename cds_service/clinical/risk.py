"""Pre-infusion risk scores from the latest labs: EASIX and modified EASIX (m-EASIX).

    EASIX   = LDH (U/L) x creatinine (mg/dL) / platelets (10^9/L)          Pennisi 2021; Greenbaum 2021
    m-EASIX = LDH (U/L) x CRP (mg/dL) / platelets (10^9/L)                 Pennisi 2021 (CRP in mg/dL!)

Facts carry CRP in mg/L, so m-EASIX divides it by 10. The only published comparison reported is EASIX > 4.67
before lymphodepletion (Korell 2022); no m-EASIX cut-off is verified, so none is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cds_service.clinical.windows import in_window, iso, measurement_evidence, num, series
from cds_service.domain.facts import Facts, Measurement
from cds_service.domain.findings import Evidence
from cds_service.knowledge.base import KnowledgeBase

RISK_LABS = ("ldh", "creatinine", "platelets", "crp")
_LABELS = {"ldh": "LDH", "creatinine": "Creatinine", "platelets": "Platelets", "crp": "CRP"}


@dataclass(frozen=True, slots=True)
class PreInfusionRisk:
    easix: float | None
    m_easix: float | None
    labs: dict[str, dict[str, Any]]  # concept -> {value, unit, effective (ISO)}
    missing_labs: tuple[str, ...]  # concepts with no value recent enough
    evidence: tuple[Evidence, ...]


def easix(ldh_u_l: float, creatinine_mg_dl: float, platelets_10e9_l: float) -> float | None:
    """EASIX, rounded to 2 decimals; None when platelets are not positive."""
    if platelets_10e9_l <= 0:
        return None
    return round(ldh_u_l * creatinine_mg_dl / platelets_10e9_l, 2)


def m_easix(ldh_u_l: float, crp_mg_l: float, platelets_10e9_l: float) -> float | None:
    """Modified EASIX with CRP given in mg/L (converted to mg/dL), rounded to 2 decimals."""
    if platelets_10e9_l <= 0:
        return None
    return round(ldh_u_l * (crp_mg_l / 10) / platelets_10e9_l, 2)


def latest_labs(facts: Facts, max_age_days: float) -> dict[str, Measurement]:
    """The latest value of each risk lab measured at most `max_age_days` before now."""
    start = facts.now - timedelta(days=max_age_days)
    found: dict[str, Measurement] = {}
    for concept in RISK_LABS:
        recent = [m for m in series(facts, concept) if in_window(m.effective, start, facts.now)]
        if recent:
            found[concept] = recent[-1]
    return found


def _easix_of(value: dict[str, float]) -> float | None:
    """EASIX when LDH, creatinine and platelets are all recent."""
    if not {"ldh", "creatinine", "platelets"} <= value.keys():
        return None
    return easix(value["ldh"], value["creatinine"], value["platelets"])


def _m_easix_of(value: dict[str, float]) -> float | None:
    """m-EASIX when LDH, CRP and platelets are all recent."""
    if not {"ldh", "crp", "platelets"} <= value.keys():
        return None
    return m_easix(value["ldh"], value["crp"], value["platelets"])


def _lab_params(m: Measurement) -> dict[str, Any]:
    return {"value": m.value, "unit": m.unit, "effective": iso(m.effective)}


def pre_infusion_risk(facts: Facts, kb: KnowledgeBase) -> PreInfusionRisk:
    """EASIX and m-EASIX from labs at most `kb.thresholds.lab_max_age_days` old; missing labs listed."""
    labs = latest_labs(facts, num(kb.thresholds.lab_max_age_days))
    value = {concept: m.value for concept, m in labs.items()}
    return PreInfusionRisk(
        easix=_easix_of(value),
        m_easix=_m_easix_of(value),
        labs={c: _lab_params(m) for c, m in labs.items()},
        missing_labs=tuple(c for c in RISK_LABS if c not in labs),
        evidence=tuple(measurement_evidence(_LABELS[c], m) for c, m in labs.items()),
    )
