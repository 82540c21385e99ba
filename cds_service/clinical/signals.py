"""Warning and context signals beside the ASTCT grade (docs/FINDINGS.md "Signals"), and the differential.

Vital-sign signals look at the grading window; lab signals at the latest value of the recent lab window
(at least 48 h). CRP trends are not used after tocilizumab (`crp-suppressed` says so instead). Neurological
signs are not signals here: they are graded as ICANS, on a card of their own (clinical/icans.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cds_service.clinical.grading_hypoxia import lowest_spo2_below
from cds_service.clinical.windows import (
    in_window,
    in_window_series,
    iso,
    measurement_evidence,
    measurement_order,
    num,
    series,
)
from cds_service.domain.age import age_days_at, years_at
from cds_service.domain.facts import Facts, Measurement, O2Device, TreatmentGiven
from cds_service.domain.findings import Evidence
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.thresholds import Threshold

#: Signals that raise a monitoring-window finding to warning (docs/FINDINGS.md).
WARNING_SIGNALS = frozenset({"spo2-low-no-o2", "ferritin-hlh", "neutropenic-fever"})
DIFFERENTIAL_ORDER = ("neutropenic-fever", "infection", "iec-hs")
#: Signals that suggest a diagnosis of the differential (fever alone suggests infection).
SUGGESTS: dict[str, str] = {"neutropenic-fever": "neutropenic-fever", "ferritin-hlh": "iec-hs"}
MIN_LAB_WINDOW_HOURS = 48
ANC_RECENT_HOURS = 48

Signal = dict[str, Any]
Found = tuple[Signal, tuple[Evidence, ...]]


class AgeThreshold(Protocol):
    """An age-dependent threshold of the knowledge base (`Thresholds.tachycardia_hr`...)."""

    def __call__(self, age_days: int | None, *, age_years: int | None = None) -> Threshold: ...


@dataclass(frozen=True, slots=True)
class Signals:
    items: tuple[Signal, ...]
    differential: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def warning(self) -> bool:
        """Whether any signal is a warning sign."""
        return any(item["id"] in WARNING_SIGNALS for item in self.items)


def detect_signals(
    facts: Facts, kb: KnowledgeBase, *, window_start: datetime, since_exposure: datetime, fever: bool | None, hours: int
) -> Signals:
    """Every signal inside the window, in a fixed order, with the differential they suggest."""
    lab_start = facts.now - timedelta(hours=max(hours, MIN_LAB_WINDOW_HOURS))
    candidates: list[Found | None] = [
        _above(facts, "heart_rate", "tachycardia", "Heart rate", kb.thresholds.tachycardia_hr, window_start),
        _above(
            facts,
            "respiratory_rate",
            "tachypnoea",
            "Respiratory rate",
            kb.thresholds.tachypnoea_rr,
            window_start,
        ),
        _spo2_low_no_o2(facts, kb, window_start),
        _crp(facts, kb, lab_start, since_exposure),
        _rising(facts, kb, "ferritin", "ferritin-rising", lab_start),
        _ferritin_hlh(facts, kb, lab_start),
        _neutropenic_fever(facts, kb, window_start, fever),
    ]
    found = [c for c in candidates if c is not None]
    items = tuple(signal for signal, _ in found)
    return Signals(
        items=items,
        differential=suggested_differential(fever, [signal["id"] for signal in items]),
        evidence=tuple(e for _, evidence in found for e in evidence),
    )


def suggested_differential(fever: bool | None, signal_ids: list[str]) -> tuple[str, ...]:
    """What the signals suggest beside CRS, in DIFFERENTIAL_ORDER: fever suggests infection; neutropenic fever
    and an HLH-like ferritin (IEC-HS) their own."""
    suggested = {SUGGESTS[i] for i in signal_ids if i in SUGGESTS}
    if fever:
        suggested.add("infection")
    return tuple(d for d in DIFFERENTIAL_ORDER if d in suggested)


def _recent(facts: Facts, concept: str, start: datetime) -> list[Measurement]:
    return in_window_series(facts, concept, start)


def _point(signal_id: str, label: str, m: Measurement, **values: Any) -> Found:
    """A signal about one measurement: its value (or `values`), time and evidence."""
    signal = {"id": signal_id, **(values or {"value": m.value}), "effective": iso(m.effective)}
    return signal, (measurement_evidence(label, m),)


def _limit(facts: Facts, threshold: AgeThreshold, m: Measurement) -> float:
    """The age-specific threshold at the time of the measurement (age in days and completed years)."""
    return num(threshold(age_days_at(facts.birth_date, m.effective), age_years=years_at(facts.birth_date, m.effective)))


def _above(
    facts: Facts,
    concept: str,
    signal_id: str,
    label: str,
    threshold: AgeThreshold,
    start: datetime,
) -> Found | None:
    """The reading furthest above its age-specific threshold, if any is above."""
    with_limits = [(m, _limit(facts, threshold, m)) for m in _recent(facts, concept, start)]
    over = [(m, limit) for m, limit in with_limits if m.value > limit]
    if not over:
        return None
    m, limit = max(over, key=_furthest_above)
    return _point(signal_id, label, m, value=m.value, threshold=limit)


def _furthest_above(pair: tuple[Measurement, float]) -> tuple[float, tuple[datetime, float, str, str]]:
    """Furthest above its threshold first; ties: the latest."""
    m, limit = pair
    return (m.value - limit, measurement_order(m))


def _spo2_low_no_o2(facts: Facts, kb: KnowledgeBase, start: datetime) -> Found | None:
    """SpO2 below 92 % while no supplemental oxygen is recorded in the window (room air at most)."""
    spo2 = lowest_spo2_below(facts, kb, start)
    if spo2 is None or _supplemental_oxygen(facts, start):
        return None
    limit = num(kb.thresholds.spo2_assess_below)
    return _point("spo2-low-no-o2", "SpO2", spo2, value=spo2.value, threshold=limit)


def _supplemental_oxygen(facts: Facts, start: datetime) -> bool:
    """Whether oxygen support other than room air is recorded in the window."""
    window = [s for s in facts.o2_support if in_window(s.effective, start, facts.now)]
    return any(s.device is not O2Device.room_air for s in window)


def tocilizumab_given(facts: Facts, since: datetime) -> bool:
    """Whether tocilizumab was given between `since` and now."""
    return any(_tocilizumab_between(t, since, facts.now) for t in facts.treatments)


def _tocilizumab_between(t: TreatmentGiven, since: datetime, now: datetime) -> bool:
    if t.treatment_id != "tocilizumab" or t.time is None:
        return False
    return since <= t.time <= now


def _crp(facts: Facts, kb: KnowledgeBase, lab_start: datetime, since_exposure: datetime) -> Found | None:
    """CRP rising, or `crp-suppressed` when tocilizumab was given (CRP then falls whatever happens)."""
    if tocilizumab_given(facts, since_exposure):
        if not _recent(facts, "crp", lab_start):
            return None
        return {"id": "crp-suppressed", "treatment": "tocilizumab"}, ()
    return _rising(facts, kb, "crp", "crp-rising", lab_start)


def _rising(facts: Facts, kb: KnowledgeBase, concept: str, signal_id: str, lab_start: datetime) -> Found | None:
    """The latest value at least `crp_rise_factor` times an earlier one within `crp_rise_window_hours`."""
    recent = _recent(facts, concept, lab_start)
    if not recent:
        return None
    latest = recent[-1]
    base = _rise_base(facts, kb, concept, latest)
    if base is None:
        return None
    hours = _hours(latest.effective - base.effective)
    signal = {"id": signal_id, "from": base.value, "to": latest.value, "hours": hours}
    label = _lab_label(concept)
    return signal, (measurement_evidence(label, base), measurement_evidence(label, latest))


def _rise_base(facts: Facts, kb: KnowledgeBase, concept: str, latest: Measurement) -> Measurement | None:
    """The lowest earlier value within the rise window that the latest is at least `crp_rise_factor` times."""
    since = latest.effective - timedelta(hours=num(kb.thresholds.crp_rise_window_hours))
    earlier = [m for m in series(facts, concept) if since <= m.effective < latest.effective]
    factor = num(kb.thresholds.crp_rise_factor)
    risen_from = [m for m in earlier if m.value > 0 and latest.value >= factor * m.value]
    return min(risen_from, key=_lowest, default=None)


def _lowest(m: Measurement) -> tuple[float, tuple[datetime, float, str, str]]:
    """Lowest value first; ties: the earliest."""
    return (m.value, measurement_order(m))


def _lab_label(concept: str) -> str:
    """ "CRP", "Ferritin"."""
    if concept == "crp":
        return concept.upper()
    return concept.capitalize()


def _hours(delta: timedelta) -> float | int:
    """Hours to one decimal, a whole number without its ".0"."""
    hours = round(delta.total_seconds() / 3600, 1)
    if hours.is_integer():
        return int(hours)
    return hours


def _ferritin_hlh(facts: Facts, kb: KnowledgeBase, lab_start: datetime) -> Found | None:
    """The latest ferritin at or above the HLH-like threshold (10,000 ng/mL)."""
    recent = _recent(facts, "ferritin", lab_start)
    limit = num(kb.thresholds.ferritin_hlh_ng_ml)
    if not recent or recent[-1].value < limit:
        return None
    return _point("ferritin-hlh", "Ferritin", recent[-1], value=recent[-1].value, threshold=limit)


def _neutropenic_fever(facts: Facts, kb: KnowledgeBase, start: datetime, fever: bool | None) -> Found | None:
    """With fever: neutrophils below 0.5 x 10^9/L in the window, or as the latest count of the last 48 h."""
    if not fever:
        return None
    limit = num(kb.thresholds.neutropenia_anc_10e9_l)
    m = _lowest_anc(facts, start, limit) or _latest_low_anc(facts, limit)
    if m is None:
        return None
    return _point("neutropenic-fever", "Neutrophils", m, anc=m.value, threshold=limit)


def _lowest_anc(facts: Facts, start: datetime, limit: float) -> Measurement | None:
    """The lowest neutrophil count below the limit in the window."""
    low = [m for m in _recent(facts, "neutrophils", start) if m.value < limit]
    return min(low, key=_lowest, default=None)


def _latest_low_anc(facts: Facts, limit: float) -> Measurement | None:
    """The latest neutrophil count of the last ANC_RECENT_HOURS, when it is below the limit."""
    recent = _recent(facts, "neutrophils", facts.now - timedelta(hours=ANC_RECENT_HOURS))
    if recent and recent[-1].value < limit:
        return recent[-1]
    return None
