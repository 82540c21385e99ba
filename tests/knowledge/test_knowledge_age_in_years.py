"""PALS age in years is completed calendar years from the birth date, not age_days // 365."""

from __future__ import annotations

from datetime import date

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain.age import completed_years


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (date(2020, 1, 1), date(2027, 12, 30), 7),
        (date(2020, 1, 1), date(2027, 12, 31), 7),
        (date(2020, 1, 1), date(2028, 1, 1), 8),
        (date(2020, 2, 29), date(2021, 2, 28), 0),
        (date(2020, 2, 29), date(2021, 3, 1), 1),
        (date(2024, 6, 15), date(2024, 6, 15), 0),
    ],
)
def test_completed_years_count_birthdays(birth: date, on: date, expected: int) -> None:
    assert completed_years(birth, on) == expected


def test_a_child_seven_in_calendar_years_gets_the_age_seven_threshold() -> None:
    birth, on = date(2020, 1, 1), date(2027, 12, 30)
    age_days = (on - birth).days  # 2920 days = 8 x 365, yet the child is 7
    threshold = shipped_kb().thresholds.hypotension_sbp(age_days, age_years=completed_years(birth, on))
    assert threshold.value == 70 + 2 * 7


def test_the_band_changes_on_the_birthday_not_after_365_day_years() -> None:
    thresholds = shipped_kb().thresholds
    birth, on = date(2016, 3, 1), date(2026, 2, 27)  # 3650 days, still 9 completed years
    age_days = (on - birth).days
    assert thresholds.tachycardia_hr(age_days, age_years=completed_years(birth, on)).value == 130
    assert thresholds.hypotension_sbp(age_days, age_years=9).value == 88


@pytest.mark.parametrize(("age_days", "expected"), [(10, 60), (200, 70), (365, 70)])
def test_under_one_completed_year_the_neonate_and_infant_bands_use_days(age_days: int, expected: int) -> None:
    assert shipped_kb().thresholds.hypotension_sbp(age_days, age_years=0).value == expected


def test_callers_passing_only_age_days_keep_working() -> None:
    thresholds = shipped_kb().thresholds
    assert thresholds.hypotension_sbp(2 * 365).value == 74
    assert thresholds.tachypnoea_rr(None).value == 20
    assert thresholds.hypotension_sbp(None, age_years=None).value == 90
    assert thresholds.hypotension_sbp(20 * 365, age_years=20).source == "lee-2019-astct"
