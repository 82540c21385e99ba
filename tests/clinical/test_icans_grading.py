"""ICANS grading (ASTCT 2019): each domain as the consensus table says, the worst domain, stated minimums."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cds_service.clinical.icans import capd_domain, grade_icans, ice_domain
from cds_service.domain.facts import DiagnosisFact, Facts, NeuroSign
from tests.clinical.rules_kit import NEURO, NOW, m

SPEC = NEURO.grading
START = NOW - timedelta(hours=24)
SINCE = NOW - timedelta(days=6)


def facts(*items: object, birth: date | None = date(1970, 5, 1)) -> Facts:
    measurements = tuple(i for i in items if not isinstance(i, NeuroSign | DiagnosisFact))
    return Facts(
        now=NOW,
        patient_id="p1",
        birth_date=birth,
        measurements=measurements,  # type: ignore[arg-type]
        neuro=tuple(i for i in items if isinstance(i, NeuroSign)),
        diagnoses=tuple(i for i in items if isinstance(i, DiagnosisFact)),
    )


def sign(domain: str, grade: int, hours_ago: float = 2, label: str = "x") -> NeuroSign:
    return NeuroSign(domain, grade, label, NOW - timedelta(hours=hours_ago), f"Condition/{domain}", label)


def grade(f: Facts):
    return grade_icans(f, SPEC, window_start=START, since_exposure=SINCE, hours=24)


@pytest.mark.parametrize(
    ("score", "expected"), [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (1, 3), (0, 3)]
)
def test_the_ice_domain_follows_the_astct_table(score: int, expected: int) -> None:
    assert ice_domain(m("ice_score", score), SPEC, NOW).grade == expected


@pytest.mark.parametrize(("score", "expected"), [(0, 0), (8, 0), (9, 3), (20, 3)])
def test_capd_9_or_more_is_grade_3_and_below_9_gives_no_grade_of_its_own(score: int, expected: int) -> None:
    assert capd_domain(m("capd", score), SPEC, NOW).grade == expected


def test_the_worst_domain_sets_the_grade() -> None:
    result = grade(facts(m("ice_score", 8), sign("consciousness", 2, label="awakens to voice")))
    assert result.grade == 2
    assert [d.name for d in result.domains] == ["ice", "consciousness"]


def test_an_ice_of_0_to_2_without_a_level_of_consciousness_is_a_stated_minimum() -> None:
    result = grade(facts(m("ice_score", 1)))
    assert (result.grade, result.is_minimum) == (3, True)
    assert result.missing == ("level of consciousness (with ICE 0-2, unarousable is grade 4)",)


def test_unarousable_makes_an_ice_of_0_grade_4_and_not_a_minimum() -> None:
    result = grade(facts(m("ice_score", 0), sign("consciousness", 4, label="unarousable")))
    assert (result.grade, result.is_minimum) == (4, False)


def test_a_seizure_without_an_ice_score_is_at_least_grade_3() -> None:
    result = grade(facts(sign("seizure", 3, label="seizure")))
    assert (result.grade, result.is_minimum, result.seizure) == (3, True, True)
    assert result.missing == ("ICE score in the last 24 h",)


def test_motor_weakness_is_grade_4_whatever_the_ice() -> None:
    assert grade(facts(m("ice_score", 9), sign("motor", 4, label="deep focal motor weakness"))).grade == 4


def test_an_event_before_the_look_back_does_not_count() -> None:
    assert grade(facts(sign("seizure", 3, hours_ago=24 * 5))).grade is None


def test_an_ice_score_older_than_the_grading_window_does_not_grade() -> None:
    result = grade(facts(m("ice_score", 4, hours_ago=30)))
    assert result.grade is None
    assert result.last_assessment == NOW - timedelta(hours=30)


def test_a_child_under_12_is_assessed_with_capd_and_an_ice_score_is_not_graded() -> None:
    child = date(NOW.year - 8, 1, 1)
    result = grade(facts(m("ice_score", 2), birth=child))
    assert (result.tool, result.grade) == ("CAPD", None)
    assert result.missing == ("CAPD score in the last 24 h",)


def test_at_12_the_ice_score_is_used() -> None:
    twelve = date(NOW.year - 12, NOW.month, NOW.day)
    assert grade(facts(m("ice_score", 5), birth=twelve)).tool == "ICE"


def test_gcs_never_grades_but_a_gcs_below_15_asks_for_an_assessment() -> None:
    result = grade(facts(m("gcs", 11)))
    assert result.grade is None
    assert result.low_gcs is not None and result.low_gcs.value == 11
    assert result.found


def test_a_full_gcs_and_a_full_ice_find_nothing() -> None:
    assert not grade(facts(m("gcs", 15), m("ice_score", 10))).found


def test_without_a_birth_date_the_ice_is_used_and_the_card_says_the_age_is_unknown() -> None:
    result = grade(facts(m("ice_score", 5), birth=None))
    assert result.tool == "ICE" and "age (no birth date: ICE used, as for an adult)" in result.missing


def test_a_documented_icans_diagnosis_since_the_exposure_is_found() -> None:
    documented = DiagnosisFact("icans", "G92.02", 2, NOW - timedelta(hours=3), "Condition/g92")
    result = grade(facts(documented))
    assert result.documented == documented and result.found and result.grade is None
