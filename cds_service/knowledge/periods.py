"""When frequent vital signs are expected after a dose (cards/monitoring-periods.yaml), for the monitoring-gap rule.

A period is one of:

    doses: [48, 48, 48]     hours after the 1st, 2nd, 3rd... administration of a course (step-up doses); later
                            doses (maintenance) open none
    cycles: [9, 2]          days from the start of the 1st, 2nd... cycle of a continuous infusion (blinatumomab)
    days: 7                 days after the infusion of a cell therapy (each infusion)

A course (or cycle) starts at an administration after `course_gap_days` without one. Every period has a source; a
period that is a site default rather than label text says so (`anchor: design`). A site file may replace the
periods of a drug (cards/site.example.yaml).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cds_service.knowledge.schema import Strict


class MonitoringPeriod(Strict):
    drug: str
    doses: tuple[int, ...] = ()  # hours after each administration of a course, in order
    cycles: tuple[int, ...] = ()  # days from each cycle start, in order
    days: int | None = Field(default=None, ge=1, le=60)  # days after each infusion
    course_gap_days: int = Field(default=28, ge=1, le=365)
    what: str = Field(min_length=1)  # the card's reason: "48 h after each step-up dose"
    anchor: Literal["label", "design"]
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> MonitoringPeriod:
        kinds = sum(1 for kind in (self.doses, self.cycles, self.days) if kind)
        if kinds != 1:
            raise ValueError("a period is exactly one of doses, cycles or days")
        return self


class MonitoringPeriodFile(Strict):
    version: str
    periods: tuple[MonitoringPeriod, ...]

    def source_ids(self) -> list[tuple[str, str]]:
        return [(p.drug, p.source) for p in self.periods]
