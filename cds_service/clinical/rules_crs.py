"""The CRS-status finding (one per patient) and the monitoring-gap finding, inside exposure windows.

`crs.active` when there is fever, hypotension or hypoxia, or a documented CRS diagnosis since the exposure
(after tocilizumab or a corticosteroid, hypotension or hypoxia is graded without fever); otherwise
`crs.monitoring-window`, which names such a treatment (it can mask fever). The finding
names the primary window exposure (most recent high-tier one) and lists the other drugs in their windows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.crs_actions import (
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
    drug_ref,
    iso,
    num,
    tier_at_least,
    unusable_in_window,
    unusable_text,
)
from cds_service.domain.age import age_days_at, completed_years
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
    missing = _with_other_unusable(facts, grading.missing, since)
    # The fever waiver (tocilizumab, corticosteroid) only matters once a sign is present: a treatment alone,
    # such as an antiemetic dexamethasone, is no sign of CRS.
    if grading.fever.present or grading.organ_signs or documented is not None:
        return _active(facts, kb, primary, grading, signals, documented, common, missing, since)
    alarming = signals.warning or bool(grading.cannot_exclude)
    if not alarming and not any(tier_at_least(w.drug.risk_tier, quiet_min_tier) for w in windows):
        return None
    common["setting"] = "inpatient" if expected is not None else "outpatient"
    return _monitoring(primary, grading, signals, common, missing)


def _with_other_unusable(facts: Facts, missing: tuple[str, ...], since: datetime) -> tuple[str, ...]:
    """The grading's missing items, then every other value since the exposure present but not usable (a lab,
    a heart rate...): the CRS card names what it could not use, once each."""
    others = [unusable_text(u, facts.now) for u in facts.unusable if u.effective is None or u.effective >= since]
    return tuple(dict.fromkeys([*missing, *others]))


def documented_crs(facts: Facts, since: datetime) -> DiagnosisFact | None:
    """The latest CRS diagnosis with an onset since the exposure (or none recorded: an active condition)."""
    found = [d for d in facts.diagnoses if d.concept == "crs" and (d.onset is None or since <= d.onset <= facts.now)]
    return max(found, key=lambda d: (d.onset or facts.now, d.grade or 0, d.code, d.reference or "")) if found else None


def _common_params(facts: Facts, kb: KnowledgeBase, windows: list[WindowExposure], signals: Signals) -> dict[str, Any]:
    age_days = age_days_at(facts.birth_date, facts.now)
    adult_from = kb.thresholds.adult_from_age_days
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
        "paediatric": age_days is not None and age_days < adult_from,
        "age_years": None if facts.birth_date is None else completed_years(facts.birth_date, facts.now.date()),
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
    critical = (grading.grade or 0) >= 2 or grading.organ_signs
    # One borderline systolic in an adult, nothing else (no fever, hypoxia, vasopressor, warning sign): confirm it
    # with a repeat measurement before the card is critical (cards/thresholds.yaml borderline_sbp_margin).
    confirm = (
        critical
        and grading.hypotension.borderline
        and grading.fever.present is not True
        and grading.fever_waived is None  # after tocilizumab or a corticosteroid, hypotension alone is CRS
        and grading.hypoxia.part.present is not True
        and not signals.warning
        and documented is None
    )
    params = {**common, "status": "documented" if documented else "possible", **grading.params(),
              "confirm_hypotension": confirm}
    plan = tocilizumab_plan(facts, kb.dosing.tocilizumab, grade=grading.grade, drug_class=primary.drug.drug_class,
                            since=since)
    neutropenic = "neutropenic-fever" in signals.differential
    workup = infection_workup_due(fever=bool(grading.fever.present), grade=grading.grade, neutropenic=neutropenic)
    params.update(tocilizumab=plan.params(), infection_workup=workup)
    offered = tocilizumab_suggestion(plan, kb.dosing.tocilizumab)
    suggestions: list[Suggestion] = []
    if offered is not None:
        suggestions.append(offered)
    if workup:
        suggestions.extend(infection_suggestions())
    evidence = [*grading.evidence, *signals.evidence]
    if documented is not None:
        params["documented_grade"] = documented.grade
        evidence.append(
            Evidence(
                "CRS diagnosis",
                documented.reference,
                documented.code,
                documented.grade,
                None,
                documented.onset,
            )
        )
    return Finding(
        rule_id="crs.active",
        category=Category.active_crs,
        severity=Severity.critical if critical and not confirm else Severity.warning,
        template="active-crs",
        params=params,
        drug=drug_ref(primary.drug),
        astct_grade=grading.grade,
        astct_grade_is_minimum=grading.is_minimum,
        days_since_exposure=primary.days_since,
        evidence=tuple(evidence),
        missing=missing,
        suggestions=tuple(suggestions),
    )


def _monitoring(
    primary: WindowExposure, grading: Grading, signals: Signals, common: dict[str, Any], missing: tuple[str, ...]
) -> Finding:
    params = {
        **common,
        "day_of_window": primary.days_since + 1,
        "window_days": primary.window_days,
        "treatment_given": grading.fever_waived,
        "cannot_exclude": list(grading.cannot_exclude),
    }
    # A vital sign present but not usable leaves fever, hypotension or hypoxia open: not a quiet card.
    alarming = signals.warning or bool(grading.cannot_exclude)
    return Finding(
        rule_id="crs.monitoring-window",
        category=Category.monitoring_window,
        severity=Severity.warning if alarming else Severity.info,
        template="monitoring-window",
        params=params,
        drug=drug_ref(primary.drug),
        days_since_exposure=primary.days_since,
        evidence=(*grading.evidence, *signals.evidence),
        missing=missing,
    )


def monitoring_gap_finding(
    facts: Facts, windows: list[WindowExposure], *, hours: int, expected: VitalsExpected | None
) -> Finding | None:
    """`crs.monitoring-gap` in a high-tier window when temperature or blood pressure is older than `hours`, only
    while frequent vital signs are expected (`expected`: an inpatient stay or the drug's post-dose period).

    `unusable` names the missing concepts with a value present in that time but not usable (unknown unit...).

    Not raised when vital signs could not be read (that is a data gap, not a monitoring gap).
    """
    high = [w for w in windows if w.drug.risk_tier == "high"]
    if expected is None or not high or any(gap.key == "vitalSigns" for gap in facts.data_gaps):
        return None
    last_seen = {
        "temperature": _last_time(facts, ("temperature",)),
        "blood pressure": _last_time(facts, BLOOD_PRESSURE),
    }
    since = facts.now - timedelta(hours=hours)
    missing = [name for name, seen in last_seen.items() if seen is None or seen < since]
    if not missing:
        return None
    unusable = [
        name for name in missing if unusable_in_window(facts, GAP_CONCEPTS[name], max(since, last_seen[name] or since))
    ]
    return Finding(
        rule_id="crs.monitoring-gap",
        category=Category.monitoring_gap,
        severity=Severity.warning,
        template="monitoring-gap",
        params={
            "drug_name": high[0].drug.generic_name,
            "hours": int(num(hours)),
            "missing": missing,
            "last_seen": {name: iso(seen) for name, seen in last_seen.items()},
            "unusable": unusable,
            "gaps": [
                {
                    "concept": name,
                    "last": iso(last_seen[name]),
                    "hours": _hours_since(facts.now, last_seen[name]),
                    "unusable": name in unusable,
                }
                for name in missing
            ],
            "reason": expected.params(),
        },
        drug=drug_ref(high[0].drug),
        days_since_exposure=high[0].days_since,
        missing=tuple(
            f"{'usable ' if name in unusable else ''}{name} in the last {hours} h" for name in missing
        ),
    )


def _hours_since(now: datetime, moment: datetime | None) -> int | None:
    return None if moment is None else int((now - moment).total_seconds() // 3600)


def _last_time(facts: Facts, concepts: tuple[str, ...]) -> datetime | None:
    times = [m.effective for m in facts.measurements if m.concept in concepts and m.effective <= facts.now]
    return max(times) if times else None
