"""Card wording added after the clinical-safety review: masked fever, unusable data, recorded vs computed grade."""

from __future__ import annotations

import rendering_cases as cases

from cds_service.rendering import CardRenderer


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
