"""This patient's differential beside CRS: what the chart shows that points elsewhere, with its values.

    blood-culture   a positive blood culture since the exposure (organism, time): infection, and the ASTCT grade
                    is provisional (fever "not attributable to another cause")
    lactate         the latest lactate of the lab window (value only: no cut-off is verified)
    neutrophils     the latest neutrophil count of the lab window (value; neutropenic fever is a signal)
    adrenal         corticosteroids for the long-term threshold or more (cards/thresholds.yaml, ESE/Endocrine
                    Society 2024), or a cortisol the laboratory flagged low: consider adrenal insufficiency

Each item is a dict of JSON values for the card (docs/FINDINGS.md "context").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.windows import iso, num, series, whole_days
from cds_service.domain.facts import Facts, TreatmentGiven
from cds_service.knowledge.base import KnowledgeBase

CORTICOSTEROID_LOOKBACK = timedelta(days=365)
LOW_FLAGS = frozenset({"L", "LL"})


def context_items(
    facts: Facts, kb: KnowledgeBase, *, since_exposure: datetime, lab_start: datetime
) -> list[dict[str, Any]]:
    """The differential items the chart supports, in a fixed order."""
    items = [
        _positive_culture(facts, since_exposure),
        _latest_value(facts, "lactate", lab_start),
        _latest_value(facts, "neutrophils", lab_start),
        _adrenal(facts, kb, lab_start),
    ]
    return [item for item in items if item is not None]


def _positive_culture(facts: Facts, since: datetime) -> dict[str, Any] | None:
    positive = [c for c in facts.cultures if c.positive and since <= c.effective <= facts.now]
    if not positive:
        return None
    latest = positive[-1]
    return {"id": "blood-culture", "organism": latest.organism, "effective": iso(latest.effective),
            "preliminary": latest.preliminary, "reference": latest.reference}


def _latest_value(facts: Facts, concept: str, start: datetime) -> dict[str, Any] | None:
    recent = [m for m in series(facts, concept) if start <= m.effective <= facts.now]
    if not recent:
        return None
    latest = recent[-1]
    return {"id": concept, "value": latest.value, "effective": iso(latest.effective), "flag": latest.flag}


def _adrenal(facts: Facts, kb: KnowledgeBase, lab_start: datetime) -> dict[str, Any] | None:
    """Long-term corticosteroids, or a cortisol flagged low: consider adrenal insufficiency."""
    steroid_days = _long_term_days(facts, kb)
    low = [m for m in series(facts, "cortisol") if lab_start <= m.effective <= facts.now and m.flag in LOW_FLAGS]
    if steroid_days is None and not low:
        return None
    item: dict[str, Any] = {"id": "adrenal", "steroid_days": steroid_days}
    if low:
        item.update(cortisol=low[-1].value, cortisol_effective=iso(low[-1].effective))
    return item


def _long_term_days(facts: Facts, kb: KnowledgeBase) -> int | None:
    """The days of corticosteroid when they reach the long-term threshold, else None."""
    days = corticosteroid_days(facts)
    if days >= num(kb.thresholds.long_term_corticosteroid_days):
        return days
    return None


def corticosteroid_days(facts: Facts) -> int:
    """Whole days of systemic corticosteroid in the last year: first to last record (to now while a statement
    is active). Topical and inhaled forms are not treatments given (reading/medications.py)."""
    given = _corticosteroids_since(facts, facts.now - CORTICOSTEROID_LOOKBACK)
    if not given:
        return 0
    first = min(time for _, time in given)
    return whole_days(_course_end(facts.now, given), first)


def _corticosteroids_since(facts: Facts, start: datetime) -> list[tuple[TreatmentGiven, datetime]]:
    """Each systemic corticosteroid given since `start`, with its time."""
    timed = [(t, t.time) for t in facts.treatments if t.kind == "corticosteroid" and t.time is not None]
    return [(t, time) for t, time in timed if time >= start]


def _course_end(now: datetime, given: list[tuple[TreatmentGiven, datetime]]) -> datetime:
    """Now while a corticosteroid is still taken, else the last record."""
    if any(t.ongoing for t, _ in given):
        return now
    return max(time for _, time in given)
