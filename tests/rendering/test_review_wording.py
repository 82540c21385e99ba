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
    assert "Corticosteroid given: it can mask fever; grade hypotension or hypoxia without waiting for fever." in detail


def test_no_masking_sentence_without_a_treatment(renderer: CardRenderer) -> None:
    assert "can mask fever" not in _detail(renderer, cases.monitoring_window(treatment_given=None))


def _card(renderer: CardRenderer, finding: cases.Finding) -> tuple[str, str]:
    (card,) = renderer.render([finding], patient_id="p")
    return card.summary, card.detail or ""


def test_a_recorded_grade_that_differs_from_the_computed_one_is_shown_beside_it(renderer: CardRenderer) -> None:
    summary, detail = _card(
        renderer, cases.active_crs(1, status="documented", documented_grade=3, severity=cases.Severity.warning)
    )
    assert summary.startswith("CRS charted grade 3, data show grade 1,")
    assert "Charted as grade 3: review the charted grade and the data." in detail


def test_a_recorded_grade_with_no_computed_grade_is_still_shown(renderer: CardRenderer) -> None:
    summary, detail = _card(renderer, cases.active_crs(None, status="documented", documented_grade=2))
    assert summary.startswith("CRS charted grade 2, no ASTCT grade from the data,")
    assert "Charted as grade 2: review the charted grade and the data." in detail


def test_a_recorded_grade_equal_to_the_computed_one_is_not_a_conflict(renderer: CardRenderer) -> None:
    summary, detail = _card(renderer, cases.active_crs(2, status="documented", documented_grade=2))
    assert summary.startswith("CRS documented, ASTCT grade 2")
    assert "Charted as grade" not in detail


def test_the_monitoring_window_never_says_criteria_are_not_met_when_data_are_missing(
    renderer: CardRenderer,
) -> None:
    finding = replace(
        cases.monitoring_window(cannot_exclude=["fever"]),
        severity=cases.Severity.warning,
        missing=("a temperature at 14:20 UTC could not be used: unit 'degrees F' is not known",),
    )
    summary, detail = _card(renderer, finding)
    assert "meet no ASTCT 2019 criterion" not in detail
    assert "CRS is not excluded: some data are missing or not usable." in detail
    assert "**Not recorded or not usable:** a temperature at 14:20 UTC could not be used: unit 'degrees F'" in detail
    assert summary.endswith("fever not excluded")


def test_a_complete_quiet_window_keeps_its_plain_intro(renderer: CardRenderer) -> None:
    _, detail = _card(renderer, cases.monitoring_window())
    assert "Inside the 28-day CRS window; the recorded data meet no ASTCT 2019 criterion." in detail
    assert "Not recorded" not in detail


def test_the_monitoring_gap_says_present_but_not_usable(renderer: CardRenderer) -> None:
    finding = cases.monitoring_gap(
        gaps=[
            {"concept": "temperature", "last": None, "hours": None, "unusable": True},
            {"concept": "blood pressure", "last": None, "hours": None, "unusable": False},
        ]
    )
    summary, detail = _card(renderer, finding)
    assert summary == (
        "Temperature present but not usable; no blood pressure recorded in the window: record vital signs now"
    )
    assert "present but not usable" in detail


def test_the_monitoring_gap_states_the_real_gap_and_merges_concepts_of_the_same_time(renderer: CardRenderer) -> None:
    last = "2026-11-23T10:10:00+00:00"
    finding = cases.monitoring_gap(
        gaps=[
            {"concept": "temperature", "last": last, "hours": 30, "unusable": False},
            {"concept": "blood pressure", "last": last, "hours": 30, "unusable": False},
        ]
    )
    summary, detail = _card(renderer, finding)
    assert summary == "No temperature or blood pressure for 30 h (since 23 Nov 10:10 UTC): record vital signs now"
    assert "for 8 h" not in summary + detail


def test_the_data_gap_card_lists_unusable_values(renderer: CardRenderer) -> None:
    item = "a temperature at 14:20 could not be used: unit 'degrees F' is not known"
    _, detail = _card(renderer, cases.data_gap(items=[item], skipped_count=0))
    assert "unit 'degrees F' is not known" in detail
