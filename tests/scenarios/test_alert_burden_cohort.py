"""The alert-burden cohort (cds_service/tooling/burden.py, the figure in docs/VALIDATION.md): on an unchanged
chart opened six times a day the memory leaves at most one interruption per rule and drug, and outpatients get no
monitoring-gap warning."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from cds_service.tooling.burden import burden_markdown, cohort, measure

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_memory_cuts_interruptions_and_outpatients_get_no_gap_warning() -> None:
    tally = asyncio.run(measure(DAY, count=40, seed=7))
    assert tally.patients == 40 and tally.outpatients > 0
    assert tally.outpatient_gap_warnings == 0
    assert tally.interruptive_without_memory >= 5 * tally.interruptive > 0  # six opens -> one interruption each
    assert "interruptive cards per exposed patient-day" in burden_markdown(tally, DAY)


def test_the_cohort_is_seeded() -> None:
    assert cohort(20, seed=3) == cohort(20, seed=3)
    assert cohort(20, seed=3) != cohort(20, seed=4)
