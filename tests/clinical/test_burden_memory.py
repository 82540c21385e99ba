"""The card memory's decisions (clinical/burden.py), pure: what is a repeat, and what the store must write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cds_service.clinical.burden import BurdenConfig, remember, state_of
from cds_service.domain.findings import Category, Finding, Severity
from cds_service.domain.memory import Shown

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CRS = Finding("crs.active", Category.active_crs, Severity.critical, "active-crs", {"drug_name": "axicabtagene"},
              astct_grade=2)


def shown(first_hours: float, last_hours: float) -> dict[tuple[str, str], Shown]:
    row = Shown("crs.active", "", NOW - timedelta(hours=first_hours), NOW - timedelta(hours=last_hours), "critical",
                state_of(CRS))
    return {row.key: row}


def test_a_repeat_shown_minutes_ago_is_info_and_writes_nothing() -> None:
    out = remember([CRS], shown(3, 0.25), {}, NOW, BurdenConfig())
    assert out.findings[0].severity is Severity.info and out.findings[0].params["repeat"] is True
    assert out.shown == []  # a chart opened again and again costs a read, not a write


def test_a_repeat_last_shown_over_an_hour_ago_moves_its_last_time_for_pruning() -> None:
    out = remember([CRS], shown(3, 2), {}, NOW, BurdenConfig())
    assert out.findings[0].severity is Severity.info
    (row,) = out.shown
    assert (row.first_shown_at, row.last_shown_at) == (NOW - timedelta(hours=3), NOW)


def test_a_worse_finding_interrupts_and_starts_a_new_episode() -> None:
    worse = Finding("crs.active", Category.active_crs, Severity.critical, "active-crs", {"drug_name": "axicabtagene"},
                    astct_grade=3)
    out = remember([worse], shown(3, 0.25), {}, NOW, BurdenConfig())
    assert out.findings[0].severity is Severity.critical
    (row,) = out.shown
    assert row.first_shown_at == NOW and row.state["grade"] == 3
