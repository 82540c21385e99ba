"""Values present in the chart but not usable (Facts.unusable) are never read as normal or as absent."""

from __future__ import annotations

from rules_kit import CONFIG, KB, NOW, at, facts, m, o2

from cds_service.clinical.rules import evaluate
from cds_service.domain.facts import Facts, UnusableValue
from cds_service.domain.findings import Finding, Severity

DEGREES_F = "unit 'degrees F' is not known"


def _findings(f: Facts) -> dict[str, Finding]:
    return {x.rule_id: x for x in evaluate(f, KB, hook="patient-view", config=CONFIG)}


def _unusable(concept: str, hours_ago: float = 1, reason: str = DEGREES_F) -> UnusableValue:
    return UnusableValue(concept, at(hours_ago), reason, f"Observation/{concept}-unusable")


def test_an_unusable_temperature_means_fever_cannot_be_excluded_and_raises_the_window_to_warning() -> None:
    f = facts(m("temperature", 37.0, hours_ago=5), m("systolic", 120), unusable=(_unusable("temperature"),))
    finding = _findings(f)["crs.monitoring-window"]
    assert finding.severity is Severity.warning
    assert "a temperature at 11:00 UTC could not be used: unit 'degrees F' is not known" in finding.missing
    assert finding.params["cannot_exclude"] == ["fever"]


def test_an_unusable_temperature_outside_the_grading_window_does_not_raise_the_card() -> None:
    f = facts(m("temperature", 37.0), m("systolic", 120), unusable=(_unusable("temperature", hours_ago=30),))
    assert _findings(f)["crs.monitoring-window"].severity is Severity.info


def test_an_unusable_systolic_makes_a_grade_a_minimum() -> None:
    f = facts(
        m("temperature", 38.6), m("systolic", 118), unusable=(_unusable("systolic", 2, "value has a comparator"),)
    )
    finding = _findings(f)["crs.active"]
    assert (finding.astct_grade, finding.astct_grade_is_minimum) == (1, True)
    assert any("systolic blood pressure" in item and "comparator" in item for item in finding.missing)
    assert any("hypotension cannot be excluded" in step for step in finding.params["grading_steps"])


def test_an_unusable_fio2_means_hypoxia_cannot_be_excluded() -> None:
    f = facts(
        m("temperature", 38.6), m("systolic", 118), o2("room-air"), unusable=(_unusable("fio2", 2, "FiO2 below 21 %"),)
    )
    finding = _findings(f)["crs.active"]
    assert (finding.astct_grade, finding.astct_grade_is_minimum) == (1, True)
    assert finding.params["cannot_exclude"] == ["hypoxia"]


def test_an_unusable_temperature_does_not_matter_once_fever_is_found() -> None:
    f = facts(m("temperature", 38.6), m("systolic", 118), unusable=(_unusable("temperature"),))
    finding = _findings(f)["crs.active"]
    assert (finding.astct_grade, finding.astct_grade_is_minimum) == (1, False)
    assert finding.params["cannot_exclude"] == []


def test_an_unusable_lab_is_named_on_the_crs_card_and_raises_no_separate_data_gap_card() -> None:
    notes = ("the birth date is partial: age is counted from its first day",)
    f = facts(m("temperature", 37.0), m("systolic", 120), unusable=(_unusable("crp", 30),), quality_notes=notes)
    findings = _findings(f)
    assert "data.unreadable" not in findings
    status = findings.get("crs.monitoring-window") or findings["crs.active"]
    assert "a CRP at 23 Nov 06:00 UTC could not be used: unit 'degrees F' is not known" in status.missing


def test_quality_notes_alone_do_not_raise_a_data_gap_card() -> None:
    f = facts(m("temperature", 37.0), m("systolic", 120), quality_notes=("the birth date is partial",))
    assert "data.unreadable" not in _findings(f)


def test_the_monitoring_gap_says_present_but_not_usable_for_an_unusable_temperature() -> None:
    f = facts(m("systolic", 120), unusable=(_unusable("temperature", 2),))
    finding = _findings(f)["crs.monitoring-gap"]
    assert finding.params["missing"] == ["temperature"]
    assert finding.params["unusable"] == ["temperature"]
    assert finding.missing == ("usable temperature in the last 8 h",)


def test_a_temperature_stamped_beyond_the_skew_tolerance_is_present_but_not_usable_not_absent() -> None:
    from datetime import timedelta

    from cds_service.clinical.windows import unusable_in_window

    future = UnusableValue("temperature", NOW + timedelta(minutes=30), "recorded in the future", "Observation/t1")
    found = unusable_in_window(facts(unusable=(future,)), ("temperature",), NOW - timedelta(hours=8))
    assert found == [future]
