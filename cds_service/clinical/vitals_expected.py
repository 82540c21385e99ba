"""Whether frequent vital signs are expected now: during an inpatient stay, or inside a drug's post-dose monitoring
period (cards/monitoring-periods.yaml). Only then is a missing temperature or blood pressure a monitoring gap;
elsewhere (a CAR-T patient at home on day 20, a maintenance teclistamab dose) the window card gives outpatient
guidance.

The doses are the administrations the chart records (MedicationAdministration, Procedure): an order alone does not
say which dose of a schedule it is. A period counts from the end of the administration (its last time), so it is
never shorter than the label's. Courses and cycles start after `course_gap_days` without a dose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.windows import WindowExposure, iso
from cds_service.domain.facts import Facts
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.periods import MonitoringPeriod

ADMINISTERED = frozenset({"MedicationAdministration", "Procedure"})


@dataclass(frozen=True, slots=True)
class VitalsExpected:
    """Why frequent vital signs are expected: an inpatient stay, or a drug's period (what, until when)."""

    kind: str  # "inpatient" | "period"
    drug_name: str | None = None
    what: str | None = None
    until: datetime | None = None

    def params(self) -> dict[str, Any]:
        return {"kind": self.kind, "drug_name": self.drug_name, "what": self.what, "until": iso(self.until)}


def vitals_expected(facts: Facts, kb: KnowledgeBase, windows: list[WindowExposure]) -> VitalsExpected | None:
    """The reason frequent vital signs are expected now, or None (outpatient guidance instead)."""
    if any(encounter.inpatient_at(facts.now) for encounter in facts.encounters):
        return VitalsExpected("inpatient")
    for window in windows:
        period = kb.monitoring_periods.get(window.drug.id)
        until = _period_end(facts, period, window.drug.id) if period is not None else None
        if period is not None and until is not None:
            return VitalsExpected("period", window.drug.generic_name, period.what, until)
    return None


def _period_end(facts: Facts, period: MonitoringPeriod, drug_id: str) -> datetime | None:
    """When the period that contains now ends, or None when now is outside every period of this drug."""
    doses = _doses(facts, drug_id)
    ends = _infusion_ends(doses, period.days) if period.days else _course_ends(doses, period)
    inside = [end for (start, _), end in zip(doses, ends, strict=True) if end is not None and start <= facts.now < end]
    return max(inside) if inside else None


def _doses(facts: Facts, drug_id: str) -> list[tuple[datetime, datetime]]:
    """(start, end) of each recorded administration of the drug, oldest first (ongoing: until now)."""
    doses = []
    for exposure in facts.exposures:
        if exposure.drug_id != drug_id or exposure.is_draft or exposure.source not in ADMINISTERED:
            continue
        start = exposure.start or exposure.last
        last = facts.now if exposure.ongoing else (exposure.last or exposure.start)
        if start is not None and last is not None and start <= facts.now:
            doses.append((start, max(start, last)))
    return sorted(doses)


def _infusion_ends(doses: list[tuple[datetime, datetime]], days: int) -> list[datetime | None]:
    return [last + timedelta(days=days) for _, last in doses]


def _course_ends(doses: list[tuple[datetime, datetime]], period: MonitoringPeriod) -> list[datetime | None]:
    """Per dose, the end of its period: by its place in the course (step-up doses) or its cycle (cycle days)."""
    gap = timedelta(days=period.course_gap_days)
    ends: list[datetime | None] = []
    index, cycle, cycle_start, previous = -1, -1, None, None
    for start, last in doses:
        new_course = previous is None or start - previous > gap
        index = 0 if new_course else index + 1
        if new_course:
            cycle, cycle_start = cycle + 1, start
        previous = last
        if period.doses:
            hours = period.doses[index] if index < len(period.doses) else 0
            ends.append(last + timedelta(hours=hours) if hours else None)
        else:
            days = period.cycles[cycle] if cycle < len(period.cycles) else 0
            ends.append(cycle_start + timedelta(days=days) if days and cycle_start else None)
    return ends
