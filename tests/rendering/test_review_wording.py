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
