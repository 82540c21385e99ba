"""Card wording added after the clinical-safety review: masked fever, unusable data, recorded vs computed grade."""

from __future__ import annotations

from dataclasses import replace

import rendering_cases as cases

from cds_service.rendering.renderer import CardRenderer


def _detail(renderer: CardRenderer, finding: cases.Finding) -> str:
    (card,) = renderer.render([finding], patient_id="p")
    return card.detail or ""


def test_a_treatment_given_in_the_window_is_said_to_mask_fever(renderer: CardRenderer) -> None:
    detail = _detail(renderer, cases.monitoring_window(treatment_given="corticosteroid"))
    assert "Treatment given after the exposure (corticosteroid) can mask fever" in detail


def test_no_masking_sentence_without_a_treatment(renderer: CardRenderer) -> None:
    assert "can mask fever" not in _detail(renderer, cases.monitoring_window(treatment_given=None))


def _card(renderer: CardRenderer, finding: cases.Finding) -> tuple[str, str]:
    (card,) = renderer.render([finding], patient_id="p")
    return card.summary, card.detail or ""


def test_a_recorded_grade_that_differs_from_the_computed_one_is_shown_beside_it(renderer: CardRenderer) -> None:
    summary, detail = _card(
        renderer, cases.active_crs(1, status="documented", documented_grade=3, severity=cases.Severity.warning)
    )
    assert "recorded as grade 3" in summary and "grade 1" in summary
    assert "Recorded grade 3 in the chart; the data now show ASTCT grade 1." in detail


def test_a_recorded_grade_with_no_computed_grade_is_still_shown(renderer: CardRenderer) -> None:
    summary, detail = _card(renderer, cases.active_crs(None, status="documented", documented_grade=2))
    assert "recorded as grade 2" in summary
    assert "Recorded grade 2 in the chart; the current data give no ASTCT grade." in detail


def test_a_recorded_grade_equal_to_the_computed_one_is_not_a_conflict(renderer: CardRenderer) -> None:
    summary, detail = _card(renderer, cases.active_crs(2, status="documented", documented_grade=2))
    assert summary.startswith("CRS documented, ASTCT grade 2")
    assert "in the chart;" not in detail


def test_the_monitoring_window_never_says_criteria_are_not_met_when_data_are_missing(
    renderer: CardRenderer,
) -> None:
    finding = replace(
        cases.monitoring_window(cannot_exclude=["fever"]),
        severity=cases.Severity.warning,
        missing=("a temperature at 14:20 could not be used: unit 'degrees F' is not known",),
    )
    summary, detail = _card(renderer, finding)
    assert "The recorded data do not meet" not in detail
    assert "The readable data do not meet ASTCT 2019 CRS criteria; some data are missing or could not be used" in detail
    assert "unit 'degrees F' is not known" in detail
    assert summary.endswith("fever not excluded: data unusable")


def test_a_complete_quiet_window_keeps_its_plain_intro(renderer: CardRenderer) -> None:
    _, detail = _card(renderer, cases.monitoring_window())
    assert "The recorded data do not meet ASTCT 2019 CRS criteria." in detail


def test_the_monitoring_gap_says_present_but_not_usable(renderer: CardRenderer) -> None:
    finding = cases.monitoring_gap(
        missing=["temperature"], last_seen={"temperature": None, "blood pressure": None}, unusable=["temperature"]
    )
    summary, detail = _card(renderer, finding)
    assert summary.startswith("No usable temperature for 8 h")
    assert "present but not usable" in detail
    assert "none in the window" in detail  # blood pressure: truly none


def test_the_data_gap_card_lists_unusable_values(renderer: CardRenderer) -> None:
    item = "a temperature at 14:20 could not be used: unit 'degrees F' is not known"
    _, detail = _card(renderer, cases.data_gap(items=[item], skipped_count=0))
    assert "unit 'degrees F' is not known" in detail
