"""Common systemic corticosteroids, by generic or brand name, are CRS treatments of kind corticosteroid."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain.concepts import ConceptInput


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Decadron 10 mg IV", "dexamethasone"),
        ("hydrocortisone 100 mg IV q8h", "hydrocortisone"),
        ("Solu-Cortef 100 mg", "hydrocortisone"),
        ("prednisone 60 mg PO daily", "prednisone"),
        ("prednisoLONE 1 mg/kg", "prednisolone"),
        ("Solu-Medrol 1 g IV", "methylprednisolone"),
        ("Solumedrol 2 mg/kg", "methylprednisolone"),
        ("SOLU MEDROL 125 mg", "methylprednisolone"),
    ],
)
def test_a_systemic_corticosteroid_name_is_a_corticosteroid_treatment(words: str, expected: str) -> None:
    found = shipped_kb().identify_treatment(ConceptInput(texts=(words,)))
    assert found is not None and (found.id, found.kind) == (expected, "corticosteroid")


@pytest.mark.parametrize("treatment_id", ["hydrocortisone", "prednisone", "prednisolone"])
def test_each_added_corticosteroid_cites_a_source_and_carries_no_unverified_code(treatment_id: str) -> None:
    kb = shipped_kb()
    treatment = kb.treatments[treatment_id]
    assert treatment.source in kb.sources and treatment.codes == ()


def test_brand_names_of_corticosteroids_cite_where_they_were_checked() -> None:
    kb = shipped_kb()
    for treatment_id in ("dexamethasone", "methylprednisolone", "hydrocortisone"):
        assert kb.treatments[treatment_id].synonyms_source in kb.sources
