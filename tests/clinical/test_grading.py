"""ASTCT grading details: age-appropriate hypotension, fever waived after treatment, honest minimum grades."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from rules_kit import KB, NOW, born_days_before, facts, gap, m, o2, pressor, treatment

from cds_service.clinical.grading import Grading, grade_crs
from cds_service.domain.age import completed_years
from cds_service.domain.facts import Facts

EXPOSED = NOW - timedelta(days=3)


def _grade(f: Facts, exposure_start: datetime = EXPOSED) -> Grading:
    return grade_crs(f, KB, window_start=NOW - timedelta(hours=24), exposure_start=exposure_start, hours=24)


@pytest.mark.parametrize(
    ("age_days", "systolic", "hypotensive"),
    [
        (10, 59, True),
        (10, 60, False),  # neonate: < 60
        (200, 69, True),
        (200, 70, False),  # infant: < 70
        (6 * 365 + 30, 80, True),
        (6 * 365 + 30, 82, False),  # 6 years: < 70 + 2 x 6 = 82
        (10 * 365 + 30, 89, True),
        (10 * 365 + 30, 90, False),  # 10 years: < 90
        (11 * 365 + 30, 89, True),
        (11 * 365 + 30, 90, False),  # 11 years: < 90
        (40 * 365, 89, True),
        (40 * 365, 95, False),  # adult: < 90
    ],
)
def test_hypotension_uses_the_age_appropriate_systolic_threshold(
    age_days: int, systolic: float, hypotensive: bool
) -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", systolic), birth=born_days_before(age_days)))
    assert graded.hypotension.part.present is hypotensive
    assert graded.grade == (2 if hypotensive else 1)


def test_six_year_old_threshold_is_stated_in_the_step() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 80), birth=born_days_before(6 * 365 + 30)))
    assert graded.hypotension.threshold == 82
    assert any("threshold of 82 mmHg (age 6 years)" in step for step in graded.steps)


def test_age_is_taken_at_the_time_of_each_measurement() -> None:
    # One year old now (threshold 72); the reading was taken the day before the first birthday (infant: 70).
    birth = born_days_before(365)
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 71, hours_ago=20), birth=birth))
    assert graded.hypotension.part.present is False


def test_unknown_birth_date_uses_the_adult_threshold_and_says_so() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 85), birth=None))
    assert graded.grade == 2
    assert any("(adult; age unknown)" in step for step in graded.steps)


@pytest.mark.parametrize(
    ("given", "waived"),
    [
        (treatment("tocilizumab", "anti-cytokine", 5), "tocilizumab"),
        (treatment("dexamethasone", "corticosteroid", 5), "corticosteroid"),
        (treatment("methylprednisolone", "corticosteroid", 30), "corticosteroid"),
    ],
)
def test_fever_is_not_required_after_tocilizumab_or_a_corticosteroid(given, waived: str) -> None:
    graded = _grade(facts(m("temperature", 37.0), m("systolic", 84), given))
    assert graded.grade == 2
    assert graded.fever_waived == waived


def test_fever_is_still_required_when_the_corticosteroid_was_given_before_the_exposure() -> None:
    premedication = treatment("dexamethasone", "corticosteroid", 3 * 24 + 1)
    graded = _grade(facts(m("temperature", 37.0), m("systolic", 84), premedication))
    assert graded.grade is None
    assert graded.fever_waived is None


def test_antipyretics_do_not_waive_fever() -> None:
    graded = _grade(
        facts(m("temperature", 37.0), m("systolic", 84), treatment("acetaminophen", "antipyretic", 5))
    )
    assert graded.grade is None


def test_hypotension_without_any_vasopressor_data_is_a_minimum_grade() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 84), gap("medicationAdministrations")))
    assert (graded.grade, graded.is_minimum) == (2, True)
    assert any("vasopressor" in item for item in graded.missing)
    assert "No vasopressor data (medication records could not be read): at least grade 2." in graded.steps


def test_a_recorded_vasopressor_with_a_medication_gap_is_at_least_grade_3_a_second_one_may_be_unseen() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 84), pressor(), gap("medicationRequests")))
    assert (graded.grade, graded.is_minimum) == (3, True)
    assert any("other vasopressors" in item for item in graded.missing)


def test_a_medication_named_by_reference_that_could_not_be_read_may_be_the_vasopressor() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 84), gap("medications")))
    assert (graded.grade, graded.is_minimum) == (2, True)  # at least 2: grade 3 if that medication is a vasopressor


def test_low_spo2_without_oxygen_support_data_makes_grade_one_a_minimum() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 120), m("spo2", 88)))
    assert (graded.grade, graded.is_minimum) == (1, True)
    assert graded.hypoxia.part.present is None
    assert any("no oxygen support recorded" in item for item in graded.missing)


def test_low_spo2_on_recorded_room_air_is_graded_as_no_hypoxia() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 120), m("spo2", 88), o2("room-air")))
    assert (graded.grade, graded.is_minimum) == (1, False)
    assert graded.hypoxia.part.present is False


@pytest.mark.parametrize(
    ("flow", "grade", "minimum"), [(None, 2, True), (4, 2, True), (6, 2, True), (7, 3, False)]
)
def test_oxygen_with_an_unknown_device_is_graded_by_flow(
    flow: float | None, grade: int, minimum: bool
) -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 120), o2("unknown", flow)))
    assert (graded.grade, graded.is_minimum) == (grade, minimum)


def test_nasal_cannula_without_flow_is_at_least_grade_two_with_the_flow_missing() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 120), o2("nasal-cannula")))
    assert (graded.grade, graded.is_minimum) == (2, True)
    assert "oxygen flow rate" in graded.missing
    assert any("flow not recorded" in step and "at least grade 2" in step for step in graded.steps)


def test_oxygen_with_no_device_and_no_flow_misses_both() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 120), o2("unknown")))
    assert {"oxygen delivery device", "oxygen flow rate"} <= set(graded.missing)


def test_no_temperature_in_the_window_gives_no_grade_and_says_it_is_missing() -> None:
    graded = _grade(facts(m("temperature", 39.0, hours_ago=25), m("systolic", 84)))
    assert graded.fever.present is None
    assert graded.grade is None
    assert "temperature in the last 24 h" in graded.missing


def test_no_blood_pressure_in_the_window_makes_the_grade_a_minimum() -> None:
    graded = _grade(facts(m("temperature", 38.5), o2("room-air")))
    assert (graded.grade, graded.is_minimum) == (1, True)
    assert graded.hypotension.part.present is None
    assert "blood pressure in the last 24 h" in graded.missing


def test_unreadable_vital_signs_make_the_grade_a_minimum() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 84), gap("vitalSigns")))
    assert (graded.grade, graded.is_minimum) == (2, True)


def test_grade_four_is_never_a_minimum() -> None:
    graded = _grade(
        facts(m("temperature", 38.5), o2("bipap"), gap("medicationAdministrations"), gap("vitalSigns"))
    )
    assert (graded.grade, graded.is_minimum) == (4, False)


def test_a_running_vasopressor_is_hypotension_even_without_a_low_systolic() -> None:
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 110), pressor("norepinephrine")))
    assert graded.grade == 3
    assert graded.hypotension.part.present is True
    assert any("A vasopressor is running" in step for step in graded.steps)


@pytest.mark.parametrize(("end_hours_ago", "counted"), [(None, True), (20, True), (30, False)])
def test_vasopressors_count_when_they_overlap_the_window(end_hours_ago: float | None, counted: bool) -> None:
    use = pressor("norepinephrine", hours_ago=40, end_hours_ago=end_hours_ago)
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 84), use))
    assert graded.grade == (3 if counted else 2)


def test_measurements_outside_the_window_are_ignored() -> None:
    graded = _grade(
        facts(
            m("temperature", 38.5),
            m("systolic", 80, hours_ago=26),
            o2("bipap", hours_ago=26),
            m("systolic", 120),
        )
    )
    assert graded.grade == 1


def test_the_highest_oxygen_support_in_the_window_sets_hypoxia() -> None:
    graded = _grade(
        facts(
            m("temperature", 38.5),
            m("systolic", 120),
            o2("face-mask", 8, hours_ago=10),
            o2("nasal-cannula", 2, hours_ago=1),
        )
    )
    assert graded.grade == 3
    assert graded.hypoxia.device == "face-mask"


def test_the_age_in_the_step_text_is_in_completed_calendar_years() -> None:
    birth = date(2017, 11, 24)  # 9th birthday today (NOW is 2026-11-24): 3287 days, 8.999 years of 365.25 days
    graded = _grade(facts(m("temperature", 38.5), m("systolic", 60), birth=birth))
    assert any("(age 9 years)" in step for step in graded.steps)


def test_completed_years_count_birthdays_not_days() -> None:
    assert completed_years(date(2020, 1, 1), date(2027, 12, 30)) == 7
    assert completed_years(date(2020, 1, 1), date(2028, 1, 1)) == 8
    assert completed_years(date(2020, 2, 29), date(2021, 2, 28)) == 0
