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
from cds_service.domain.facts import Exposure, Facts
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
        expected = _in_period(facts, kb, window)
        if expected is not None:
            return expected
    return None


def _in_period(facts: Facts, kb: KnowledgeBase, window: WindowExposure) -> VitalsExpected | None:
    """The drug's post-dose monitoring period that contains now, if the drug has one."""
    period = kb.monitoring_periods.get(window.drug.id)
    if period is None:
        return None
    until = _period_end(facts, period, window.drug.id)
    if until is None:
        return None
    return VitalsExpected("period", window.drug.generic_name, period.what, until)


def _period_end(facts: Facts, period: MonitoringPeriod, drug_id: str) -> datetime | None:
    """When the period that contains now ends, or None when now is outside every period of this drug."""
    doses = _doses(facts, drug_id)
    ends = _period_ends(doses, period)
    inside = [end for (start, _), end in zip(doses, ends, strict=True) if end is not None and start <= facts.now < end]
    return max(inside, default=None)


def _period_ends(doses: list[tuple[datetime, datetime]], period: MonitoringPeriod) -> list[datetime | None]:
    """Per dose, the end of its period (None: that dose opens none)."""
    if period.days:
        return _infusion_ends(doses, period.days)
    return _course_ends(doses, period)


def _doses(facts: Facts, drug_id: str) -> list[tuple[datetime, datetime]]:
    """(start, end) of each recorded administration of the drug, oldest first (ongoing: until now)."""
    doses = []
    for exposure in facts.exposures:
        if not _administered(exposure, drug_id):
            continue
        start = exposure.start or exposure.last
        last = _dose_end(exposure, facts.now)
        if start is not None and last is not None and start <= facts.now:
            doses.append((start, max(start, last)))
    return sorted(doses)


def _administered(exposure: Exposure, drug_id: str) -> bool:
    """A recorded administration of the drug (MedicationAdministration, Procedure), not a draft."""
    if exposure.drug_id != drug_id or exposure.is_draft:
        return False
    return exposure.source in ADMINISTERED


def _dose_end(exposure: Exposure, now: datetime) -> datetime | None:
    """Now while ongoing, else its last (or only) time."""
    if exposure.ongoing:
        return now
    return exposure.last or exposure.start


def _infusion_ends(doses: list[tuple[datetime, datetime]], days: int) -> list[datetime | None]:
    return [last + timedelta(days=days) for _, last in doses]


def _course_ends(doses: list[tuple[datetime, datetime]], period: MonitoringPeriod) -> list[datetime | None]:
    """Per dose, the end of its period: by its place in the course (step-up doses) or its cycle (cycle days)."""
    places = _places(doses, timedelta(days=period.course_gap_days))
    if period.doses:
        return [_step_up_end(period.doses, index, last) for (_, last), (index, _, _) in zip(doses, places, strict=True)]
    return [_cycle_end(period.cycles, cycle, cycle_start) for _, cycle, cycle_start in places]


def _places(doses: list[tuple[datetime, datetime]], gap: timedelta) -> list[tuple[int, int, datetime | None]]:
    """Per dose: its place in its course (0: the first), its cycle (0: the first) and when that cycle started.

    A course (and a cycle) starts at the first dose, and at each dose more than `gap` after the previous one.
    """
    places: list[tuple[int, int, datetime | None]] = []
    index, cycle, cycle_start, previous = -1, -1, None, None
    for start, last in doses:
        if previous is None or start - previous > gap:
            index, cycle, cycle_start = 0, cycle + 1, start
        else:
            index += 1
        places.append((index, cycle, cycle_start))
        previous = last
    return places


def _step_up_end(hours: tuple[int, ...], index: int, last: datetime) -> datetime | None:
    """The end of a step-up dose's period: `hours` after it, by its place in the course (later doses: none)."""
    if index >= len(hours) or not hours[index]:
        return None
    return last + timedelta(hours=hours[index])


def _cycle_end(days: tuple[int, ...], cycle: int, cycle_start: datetime | None) -> datetime | None:
    """The end of a cycle's period: `days` from the cycle start, by the cycle's place (later cycles: none)."""
    if cycle >= len(days) or not days[cycle] or not cycle_start:
        return None
    return cycle_start + timedelta(days=days[cycle])
