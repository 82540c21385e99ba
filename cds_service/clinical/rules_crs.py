"""The CRS-status finding (one per patient) and the monitoring-gap finding, inside exposure windows.

`crs.active` when there is fever, hypotension or hypoxia, or a documented CRS diagnosis since the exposure
(after tocilizumab or a corticosteroid, hypotension or hypoxia is graded without fever); otherwise
`crs.monitoring-window`, which names such a treatment (it can mask fever). The finding
names the primary window exposure (most recent high-tier one) and lists the other drugs in their windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.crs_actions import (
    TocilizumabPlan,
    infection_suggestions,
    infection_workup_due,
    tocilizumab_plan,
    tocilizumab_suggestion,
)
from cds_service.clinical.differential import context_items
from cds_service.clinical.dosing import bsa_m2, latest_weight_kg
from cds_service.clinical.grading import Grading, grade_crs
from cds_service.clinical.signals import Signals, detect_signals
from cds_service.clinical.vitals_expected import VitalsExpected
from cds_service.clinical.windows import (
    WindowExposure,
    age_years_now,
    drug_ref,
    is_child,
    iso,
    num,
    onset_since,
    tier_at_least,
    unusable_in_window,
    unusable_text,
)
from cds_service.domain.facts import DiagnosisFact, Facts
from cds_service.domain.findings import Category, Evidence, Finding, Severity, Suggestion
from cds_service.knowledge.base import KnowledgeBase

BLOOD_PRESSURE = ("systolic", "diastolic", "map")
#: Concepts whose unusable values count as "present but not usable" for each monitoring-gap concept.
GAP_CONCEPTS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperature",),
    "blood pressure": (*BLOOD_PRESSURE, "bp_panel"),
}


def crs_status_finding(
    facts: Facts,
    kb: KnowledgeBase,
    windows: list[WindowExposure],
    *,
    hours: int,
    quiet_min_tier: str = "low",
    expected: VitalsExpected | None = None,
) -> Finding | None:
    """`crs.active` or `crs.monitoring-window` for the primary window exposure; None outside every window.

    A window with no sign at all earns its info card only when some drug in it reaches `quiet_min_tier`:
    a permanent card on every chart of every patient on a low-tier drug would teach clinicians to ignore cards.
    Any sign (ASTCT criterion or warning signal) always gives a card, whatever the tier.
    """
    if not windows:
        return None
    primary = windows[0]
    since = min(w.first for w in windows)
    window_start = max(facts.now - timedelta(hours=hours), since)
    grading = grade_crs(facts, kb, window_start=window_start, exposure_start=since, hours=hours)
    signals = detect_signals(
        facts, kb, window_start=window_start, since_exposure=since, fever=grading.fever.present, hours=hours
    )
    documented = documented_crs(facts, since)
    common = _common_params(facts, kb, windows, signals)
    common["context"] = context_items(facts, kb, since_exposure=since, lab_start=facts.now - timedelta(days=2))
    missing = (*_with_other_unusable(facts, grading.missing, since), *_age_missing(facts))
    if _crs_sign(grading, documented):
        return _active(facts, kb, primary, grading, signals, documented, common, missing, since)
    unread = vital_signs_unread(facts)
    if not unread and not _alarming(grading, signals) and not _window_card_tier(windows, quiet_min_tier):
        return None
    common["setting"] = _setting(expected)
    common["vital_signs_unread"] = unread
    return _monitoring(primary, grading, signals, common, missing)


def _crs_sign(grading: Grading, documented: DiagnosisFact | None) -> bool:
    """Fever, hypotension, hypoxia or a documented CRS: the card is `crs.active`.

    The fever waiver (tocilizumab, corticosteroid) only matters once a sign is present: a treatment alone,
    such as an antiemetic dexamethasone, is no sign of CRS.
    """
    if grading.fever.present or grading.organ_signs:
        return True
    return documented is not None


def _alarming(grading: Grading, signals: Signals) -> bool:
    """A warning signal, or a vital sign present but not usable (fever, hypotension or hypoxia left open)."""
    return signals.warning or bool(grading.cannot_exclude)


def _window_card_tier(windows: list[WindowExposure], quiet_min_tier: str) -> bool:
    """Whether some drug in its window reaches the tier that earns a card without any sign."""
    return any(tier_at_least(w.drug.risk_tier, quiet_min_tier) for w in windows)


def _setting(expected: VitalsExpected | None) -> str:
    """"inpatient" while frequent vital signs are expected, else "outpatient"."""
    if expected is None:
        return "outpatient"
    return "inpatient"


def _age_missing(facts: Facts) -> tuple[str, ...]:
    """The birth date, when the thresholds could not be chosen by age (adult ones were used): said on the card."""
    if facts.birth_date is not None:
        return ()
    if facts.birth_date_precision is not None:
        return ("a birth date that cannot be right (in the future): adult thresholds were used",)
    return ("birth date: adult thresholds were used",)


def _with_other_unusable(facts: Facts, missing: tuple[str, ...], since: datetime) -> tuple[str, ...]:
    """The grading's missing items, then every other value since the exposure present but not usable (a lab,
    a heart rate...): the CRS card names what it could not use, once each."""
    others = [unusable_text(u, facts.now) for u in facts.unusable if u.effective is None or u.effective >= since]
    return tuple(dict.fromkeys([*missing, *others]))


def documented_crs(facts: Facts, since: datetime) -> DiagnosisFact | None:
    """The latest CRS diagnosis with an onset since the exposure (or none recorded: an active condition)."""
    found = [d for d in facts.diagnoses if d.concept == "crs" and onset_since(d.onset, since, facts.now)]
    return max(found, key=lambda d: _diagnosis_order(d, facts.now), default=None)


def _diagnosis_order(d: DiagnosisFact, now: datetime) -> tuple[datetime, int, str, str]:
    """Latest onset (none recorded: now), then highest grade, code and reference: a total order."""
    return (d.onset or now, d.grade or 0, d.code, d.reference or "")


def _common_params(facts: Facts, kb: KnowledgeBase, windows: list[WindowExposure], signals: Signals) -> dict[str, Any]:
    return {
        "drug_name": windows[0].drug.generic_name,
        "drug_id": windows[0].drug.id,
        "drug_class": windows[0].drug.drug_class,
        "other_drugs": [w.drug.generic_name for w in windows[1:]],
        "weight_kg": latest_weight_kg(facts),
        "bsa_m2": bsa_m2(facts),
        "birth_date_precision": facts.birth_date_precision,
        "days_since_exposure": windows[0].days_since,
        "signals": [dict(s) for s in signals.items],
        "differential": list(signals.differential),
        "paediatric": is_child(facts, kb),
        "age_years": age_years_now(facts),
    }


def _active(
    facts: Facts,
    kb: KnowledgeBase,
    primary: WindowExposure,
    grading: Grading,
    signals: Signals,
    documented: DiagnosisFact | None,
    common: dict[str, Any],
    missing: tuple[str, ...],
    since: datetime,
) -> Finding:
    critical = _critical(grading)
    confirm = critical and _borderline_only(grading, signals, documented)
    params = {**common, "status": _status(documented), **grading.params(), "confirm_hypotension": confirm}
    plan = tocilizumab_plan(facts, kb.dosing.tocilizumab, grade=grading.grade, drug_class=primary.drug.drug_class,
                            since=since)
    workup = _workup_due(grading, signals)
    params.update(tocilizumab=plan.params(), infection_workup=workup)
    evidence = [*grading.evidence, *signals.evidence]
    if documented is not None:
        params["documented_grade"] = documented.grade
        evidence.append(_diagnosis_evidence(documented))
    return Finding(
        rule_id="crs.active",
        category=Category.active_crs,
        severity=_active_severity(critical, confirm),
        template="active-crs",
        params=params,
        drug=drug_ref(primary.drug),
        astct_grade=grading.grade,
        astct_grade_is_minimum=grading.is_minimum,
        days_since_exposure=primary.days_since,
        evidence=tuple(evidence),
        missing=missing,
        suggestions=_active_suggestions(plan, kb, workup),
    )


def _critical(grading: Grading) -> bool:
    """ASTCT grade 2 or more, or hypotension or hypoxia present (with or without a grade)."""
    return (grading.grade or 0) >= 2 or grading.organ_signs


def _borderline_only(grading: Grading, signals: Signals, documented: DiagnosisFact | None) -> bool:
    """One borderline systolic in an adult and nothing else: confirm it with a repeat measurement before the card
    is critical (cards/thresholds.yaml borderline_sbp_margin).

    Anything else present makes it CRS as it stands: fever, a fever waiver (after tocilizumab or a
    corticosteroid, hypotension alone is CRS), hypoxia, a warning signal or a documented CRS.
    """
    if not grading.hypotension.borderline:
        return False
    if grading.fever.present is True or grading.fever_waived is not None:
        return False
    if grading.hypoxia.part.present is True or signals.warning:
        return False
    return documented is None


def _status(documented: DiagnosisFact | None) -> str:
    """"documented" with a CRS diagnosis on the chart, else "possible"."""
    if documented:
        return "documented"
    return "possible"


def _workup_due(grading: Grading, signals: Signals) -> bool:
    """Blood cultures and empiric antibiotics are due (crs_actions.infection_workup_due)."""
    neutropenic = "neutropenic-fever" in signals.differential
    return infection_workup_due(fever=bool(grading.fever.present), grade=grading.grade, neutropenic=neutropenic)


def _active_suggestions(plan: TocilizumabPlan, kb: KnowledgeBase, workup: bool) -> tuple[Suggestion, ...]:
    """Tocilizumab when the plan offers it, then the infection work-up when it is due."""
    suggestions: list[Suggestion] = []
    offered = tocilizumab_suggestion(plan, kb.dosing.tocilizumab)
    if offered is not None:
        suggestions.append(offered)
    if workup:
        suggestions.extend(infection_suggestions())
    return tuple(suggestions)


def _diagnosis_evidence(documented: DiagnosisFact) -> Evidence:
    return Evidence("CRS diagnosis", documented.reference, documented.code, documented.grade, None, documented.onset)


def _active_severity(critical: bool, confirm: bool) -> Severity:
    """Critical, unless a borderline systolic is to be confirmed first (then warning, as for grade 1)."""
    if critical and not confirm:
        return Severity.critical
    return Severity.warning


def _monitoring(
    primary: WindowExposure, grading: Grading, signals: Signals, common: dict[str, Any], missing: tuple[str, ...]
) -> Finding:
    params = {
        **common,
        "day_of_window": primary.days_since + 1,
        "window_days": primary.window_days,
        "treatment_given": grading.fever_waived,
        "cannot_exclude": list(grading.cannot_exclude),
        # no temperature and no blood pressure in the grading window: nothing was assessed, nothing is "met"
        "unmeasured": grading.fever.present is None and grading.hypotension.part.present is None,
    }
    return Finding(
        rule_id="crs.monitoring-window",
        category=Category.monitoring_window,
        severity=_monitoring_severity(grading, signals, unread=bool(common.get("vital_signs_unread"))),
        template="monitoring-window",
        params=params,
        drug=drug_ref(primary.drug),
        days_since_exposure=primary.days_since,
        evidence=(*grading.evidence, *signals.evidence),
        missing=missing,
    )


def _monitoring_severity(grading: Grading, signals: Signals, *, unread: bool) -> Severity:
    """Warning when alarming (a vital sign present but not usable is not a quiet card) or when the vital signs
    could not be read at all (CRS is not assessed: never a reassuring card), else info."""
    if unread or _alarming(grading, signals):
        return Severity.warning
    return Severity.info


def monitoring_gap_finding(
    facts: Facts, windows: list[WindowExposure], *, hours: int, expected: VitalsExpected | None
) -> Finding | None:
    """`crs.monitoring-gap` in a high-tier window when temperature or blood pressure is older than `hours`, only
    while frequent vital signs are expected (`expected`: an inpatient stay or the drug's post-dose period).

    `unusable` names the missing concepts with a value present in that time but not usable (unknown unit...).

    Not raised when vital signs could not be read (that is a data gap, not a monitoring gap).
    """
    high = [w for w in windows if w.drug.risk_tier == "high"]
    if expected is None or not high or vital_signs_unread(facts):
        return None
    last_seen = _last_seen(facts)
    gaps = _gaps(facts, last_seen, facts.now - timedelta(hours=hours))
    if not gaps:
        return None
    return Finding(
        rule_id="crs.monitoring-gap",
        category=Category.monitoring_gap,
        severity=Severity.warning,
        template="monitoring-gap",
        params=_gap_params(facts.now, high[0], hours, last_seen, gaps, expected),
        drug=drug_ref(high[0].drug),
        days_since_exposure=high[0].days_since,
        missing=tuple(_gap_text(gap, hours) for gap in gaps),
    )


@dataclass(frozen=True, slots=True)
class _Gap:
    """A monitoring-gap concept not measured in time: when it last was, and whether an unusable value is present."""

    name: str  # "temperature" | "blood pressure"
    last: datetime | None
    unusable: bool


def _gaps(facts: Facts, last_seen: dict[str, datetime | None], since: datetime) -> list[_Gap]:
    """The concepts not measured since `since`, in GAP_CONCEPTS order."""
    missing = [name for name, seen in last_seen.items() if _stale(seen, since)]
    return [_Gap(name, last_seen[name], _unusable_since(facts, name, last_seen[name], since)) for name in missing]


def _gap_params(
    now: datetime,
    primary: WindowExposure,
    hours: int,
    last_seen: dict[str, datetime | None],
    gaps: list[_Gap],
    expected: VitalsExpected,
) -> dict[str, Any]:
    """The `crs.monitoring-gap` params (docs/FINDINGS.md)."""
    return {
        "drug_name": primary.drug.generic_name,
        "hours": int(num(hours)),
        "missing": [gap.name for gap in gaps],
        "last_seen": {name: iso(seen) for name, seen in last_seen.items()},
        "unusable": [gap.name for gap in gaps if gap.unusable],
        "gaps": [_gap_item(now, gap) for gap in gaps],
        "reason": expected.params(),
    }


def vital_signs_unread(facts: Facts) -> bool:
    """The vital signs could not be read (a data gap, not a monitoring gap)."""
    return any(gap.key == "vitalSigns" for gap in facts.data_gaps)


def _last_seen(facts: Facts) -> dict[str, datetime | None]:
    """When each monitoring-gap concept (temperature, blood pressure) was last measured."""
    return {
        "temperature": _last_time(facts, ("temperature",)),
        "blood pressure": _last_time(facts, BLOOD_PRESSURE),
    }


def _stale(seen: datetime | None, since: datetime) -> bool:
    """Never measured, or last measured before `since`."""
    return seen is None or seen < since


def _unusable_since(facts: Facts, name: str, seen: datetime | None, since: datetime) -> bool:
    """Whether a value of the concept is present but not usable since its last usable one (or since `since`)."""
    return bool(unusable_in_window(facts, GAP_CONCEPTS[name], max(since, seen or since)))


def _gap_item(now: datetime, gap: _Gap) -> dict[str, Any]:
    return {"concept": gap.name, "last": iso(gap.last), "hours": _hours_since(now, gap.last), "unusable": gap.unusable}


def _gap_text(gap: _Gap, hours: int) -> str:
    """ "temperature in the last 8 h", or "usable temperature ..." when an unusable one is present."""
    if gap.unusable:
        return f"usable {gap.name} in the last {hours} h"
    return f"{gap.name} in the last {hours} h"


def _hours_since(now: datetime, moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int((now - moment).total_seconds() // 3600)


def _last_time(facts: Facts, concepts: tuple[str, ...]) -> datetime | None:
    times = [m.effective for m in facts.measurements if m.concept in concepts and m.effective <= facts.now]
    return max(times, default=None)
