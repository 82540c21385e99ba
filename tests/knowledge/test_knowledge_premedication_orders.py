"""A premedication or rescue order whose text also names a CRS drug is that treatment, not the drug."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain import concepts as c
from cds_service.domain.concepts import CodingRef, ConceptInput


def text(*texts: str) -> ConceptInput:
    return ConceptInput(texts=texts)


@pytest.mark.parametrize(
    ("concept", "expected"),
    [
        (text("Dexamethasone 16 mg IV 1 h before teclistamab"), None),
        (text("Diphenhydramine 50 mg PO before Tecvayli"), None),
        (text("tocilizumab 8 mg/kg for CRS after axi-cel"), None),
        (text("Norepinephrine infusion for hypotension after Kymriah"), None),
        (text("Blincyto 28 mcg/day, give dexamethasone 20 mg before"), "blinatumomab"),
        (text("teclistamab 0.06 mg/kg SC step-up, premedicate with dexamethasone"), "teclistamab"),
        (text("Premedication order", "teclistamab step-up dose 1"), "teclistamab"),
        (text("Dexamethasone before", "teclistamab"), None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_when_both_names_are_only_in_text_the_first_named_wins(
    concept: ConceptInput, expected: str | None
) -> None:
    match = shipped_kb().identify_drug(concept)
    assert (match.drug.id if match else None) == expected


def test_a_medication_coded_as_a_treatment_is_never_the_drug_its_text_names() -> None:
    concept = ConceptInput(
        codings=(CodingRef(c.RXNORM, "3264", "dexamethasone"),),
        texts=("Teclistamab premedication: dexamethasone",),
    )
    assert shipped_kb().identify_drug(concept) is None


def test_a_medication_coded_as_a_vasopressor_is_never_the_drug_its_text_names() -> None:
    concept = ConceptInput(codings=(CodingRef(c.RXNORM, "7512"),), texts=("Yescarta CRS rescue: norepinephrine",))
    assert shipped_kb().identify_drug(concept) is None


def test_a_drug_matched_by_code_wins_over_a_treatment_named_first() -> None:
    concept = ConceptInput(
        codings=(CodingRef(c.RXNORM, "1597258"),), texts=("Dexamethasone premedication, then blinatumomab",)
    )
    match = shipped_kb().identify_drug(concept)
    assert match is not None and match.drug.id == "blinatumomab"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Dexamethasone 16 mg IV 1 h before teclistamab", "dexamethasone"),
        ("Diphenhydramine 50 mg PO before Tecvayli", "h1-antihistamine"),
        ("tocilizumab 8 mg/kg for CRS after axi-cel", "tocilizumab"),
    ],
)
def test_the_premedication_is_still_recognised_as_a_treatment(words: str, expected: str) -> None:
    found = shipped_kb().identify_treatment(text(words))
    assert found is not None and found.id == expected
