"""Boxed-warning and label claims are made only where the project reference marks them verified."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

# Reference BW-CRS column tagged [V] or [V1] (crs-clinical-facts.md, sections 1a/1b and the Tecelra note).
VERIFIED_BOXED_WARNING = {
    "tisagenlecleucel",
    "axicabtagene-ciloleucel",
    "brexucabtagene-autoleucel",
    "idecabtagene-vicleucel",
    "ciltacabtagene-autoleucel",
    "obecabtagene-autoleucel",
    "afamitresgene-autoleucel",
    "blinatumomab",
    "teclistamab",
    "talquetamab",
    "linvoseltamab",
    "epcoritamab",
    "glofitamab",
    "tarlatamab",
}
UNVERIFIED = ["elranatamab", "mosunetuzumab", "tebentafusp", "lisocabtagene-maraleucel", "car-t-unspecified"]


def test_only_drugs_with_a_verified_crs_boxed_warning_claim_one() -> None:
    claimed = {drug.id for drug in shipped_kb().drugs.values() if drug.boxed_warning_crs}
    assert claimed == VERIFIED_BOXED_WARNING


@pytest.mark.parametrize("drug_id", UNVERIFIED)
def test_an_unverified_boxed_warning_is_not_claimed_and_the_high_tier_says_why(drug_id: str) -> None:
    drug = shipped_kb().drugs[drug_id]
    assert drug.boxed_warning_crs is False
    assert "with a US boxed warning" not in drug.risk_reason
    assert "not verified" in drug.risk_reason or "none is claimed" in drug.risk_reason
    assert drug.risk_tier == "high"


@pytest.mark.parametrize("drug_id", ["tisagenlecleucel", "axicabtagene-ciloleucel", "brexucabtagene-autoleucel"])
def test_the_2025_proximity_fact_is_not_label_anchored_and_states_no_unsourced_distance(drug_id: str) -> None:
    facts = [f for f in shipped_kb().drugs[drug_id].monitoring if "2 weeks" in f.text]
    assert facts, drug_id
    for fact in facts:
        assert fact.label_anchored is False
        assert "stay within 2 hours" not in fact.text
