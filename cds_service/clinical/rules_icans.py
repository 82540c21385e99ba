"""The ICANS finding (`icans.active`, one per patient) inside the window of an immune effector cell therapy or a
T-cell engager, and the next neurological assessment it suggests.

Raised when a domain shows ICANS (clinical/icans.py), when an ICANS diagnosis (G92.0x) is documented since the
exposure, or when a GCS below 15 asks for an assessment. Critical for grade 2 or more and for any seizure;
warning otherwise. An unexposed patient never gets one, whatever the neurological signs: ICANS is a diagnosis
of the exposure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.dosing import latest_weight_kg
from cds_service.clinical.icans import IcansGrading, grade_icans
from cds_service.clinical.windows import WindowExposure, age_years_now, drug_ref, iso
from cds_service.domain.facts import Facts
from cds_service.domain.findings import Category, Finding, Severity, SuggestedOrder, Suggestion
from cds_service.knowledge.base import KnowledgeBase

#: Drug classes whose window makes a neurological sign a possible ICANS (immune effector cells, T-cell engagers).
ICANS_CLASSES = frozenset({"car-t", "tcr-t", "bispecific-t-cell-engager"})
ASSESSMENT_DISPLAY = {
    "ICE": "ICE assessment (Immune Effector Cell-associated Encephalopathy score)",
    "CAPD": "CAPD assessment (Cornell Assessment of Pediatric Delirium)",
}


def icans_windows(windows: list[WindowExposure]) -> list[WindowExposure]:
    """The window exposures of drugs that cause ICANS, most recent first (their order is kept)."""
    return [w for w in windows if w.drug.drug_class in ICANS_CLASSES]


def icans_grading(facts: Facts, kb: KnowledgeBase, windows: list[WindowExposure], *, hours: int) -> IcansGrading | None:
    """The ICANS grading inside the ICANS-drug windows, or None outside every such window."""
    relevant = icans_windows(windows)
    if not relevant:
        return None
    since = min(w.first for w in relevant)
    window_start = max(facts.now - timedelta(hours=hours), since)
    return grade_icans(facts, kb.neuro.grading, window_start=window_start, since_exposure=since, hours=hours)


def icans_finding(
    facts: Facts,
    kb: KnowledgeBase,
    windows: list[WindowExposure],
    grading: IcansGrading | None,
    *,
    with_crs: bool,
) -> Finding | None:
    """`icans.active` when the grading found something (see the module docstring), else None."""
    relevant = icans_windows(windows)
    if grading is None or not grading.found or not relevant:
        return None
    primary = relevant[0]
    due = next_assessment_due(grading, facts.now, kb.neuro.assessment_interval_hours)
    params: dict[str, Any] = {
        "drug_name": primary.drug.generic_name,
        "drug_class": primary.drug.drug_class,
        "grade": grading.grade,
        "grade_is_minimum": grading.is_minimum,
        "tool": grading.tool,
        "domains": [{"name": d.name, "grade": d.grade} for d in grading.domains],
        "grading_steps": list(grading.steps),
        "seizure": grading.seizure,
        "with_crs": with_crs,
        **_gcs_params(grading),
        **_documented_params(grading),
        "next_assessment_due": iso(due),
        "age_years": age_years_now(facts),
        "weight_kg": latest_weight_kg(facts),
    }
    return Finding(
        rule_id="icans.active",
        category=Category.active_icans,
        severity=_severity(grading),
        template="active-icans",
        params=params,
        drug=drug_ref(primary.drug),
        days_since_exposure=primary.days_since,
        evidence=grading.evidence,
        missing=grading.missing,
        suggestions=(assessment_suggestion(grading.tool, due, facts.now),),
        icans_grade=grading.grade,
        icans_grade_is_minimum=grading.is_minimum,
    )


def _severity(grading: IcansGrading) -> Severity:
    """Critical from grade 2 (graded or documented) and for any seizure; warning otherwise."""
    if (grading.grade or 0) >= 2 or grading.seizure:
        return Severity.critical
    if _documented_grade(grading) >= 2:
        return Severity.critical
    return Severity.warning


def _documented_grade(grading: IcansGrading) -> int:
    """The grade of the documented ICANS diagnosis (0: none documented, or no grade recorded)."""
    if grading.documented is None:
        return 0
    return grading.documented.grade or 0


def _gcs_params(grading: IcansGrading) -> dict[str, Any]:
    """The low GCS and its time (None without one)."""
    if grading.low_gcs is None:
        return {"low_gcs": None, "low_gcs_at": None}
    return {"low_gcs": grading.low_gcs.value, "low_gcs_at": iso(grading.low_gcs.effective)}


def _documented_params(grading: IcansGrading) -> dict[str, Any]:
    """Whether an ICANS diagnosis is documented, and its grade."""
    if grading.documented is None:
        return {"documented_grade": None, "documented": False}
    return {"documented_grade": grading.documented.grade, "documented": True}


def next_assessment_due(grading: IcansGrading, now: datetime, interval_hours: int) -> datetime:
    """When the next ICE or CAPD is due: the interval after the last one (ASCO: at least twice daily), or now."""
    if grading.last_assessment is None:
        return now
    return max(now, grading.last_assessment + timedelta(hours=interval_hours))


def _when(due: datetime, now: datetime) -> str:
    """ "now" when already due, else "by 14:20" (in now's zone)."""
    if due <= now:
        return "now"
    return f"by {due.astimezone(now.tzinfo):%H:%M}"


def assessment_suggestion(tool: str, due: datetime, now: datetime) -> Suggestion:
    """The one-click order for the next neurological assessment (text only: no verified code exists)."""
    when = _when(due, now)
    order = SuggestedOrder(
        resource_type="ServiceRequest",
        label=f"{tool} assessment {when}",
        system=None,
        code=None,
        display=ASSESSMENT_DISPLAY[tool],
        text=f"{tool} assessment {when}, then at least twice a day (ASCO 2021)",
        source="santomasso-2021",
    )
    return Suggestion(label=order.label, orders=(order,))
