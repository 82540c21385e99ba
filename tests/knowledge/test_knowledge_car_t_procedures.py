"""A Procedure is a CAR-T exposure only by an administration code, a named product, or infusion wording."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain import concepts as c
from cds_service.domain.concepts import CodingRef, ConceptInput


def text(*texts: str) -> ConceptInput:
    return ConceptInput(texts=texts)


@pytest.mark.parametrize(
    "words",
    [
        "CAR-T consult",
        "CAR-T cell collection (leukapheresis)",
        "Lymphodepleting chemotherapy prior to CAR-T",
        "Lymphodepleting chemotherapy prior to CAR-T infusion",
        "CAR-T",
        "Referral for CAR T cells",
        "Yescarta leukapheresis",
    ],
)
def test_a_procedure_around_the_infusion_is_not_a_car_t_exposure(words: str) -> None:
    assert shipped_kb().identify_procedure(text(words)) is None


@pytest.mark.parametrize(
    ("concept", "expected"),
    [
        (text("CAR-T cell infusion"), "car-t-unspecified"),
        (text("CAR-T cell therapy infusion"), "car-t-unspecified"),
        (text("Administration of CAR T cells"), "car-t-unspecified"),
        (text("Kymriah"), "tisagenlecleucel"),
        (text("axi-cel day 0"), "axicabtagene-ciloleucel"),
        (ConceptInput(codings=(CodingRef(c.CPT, "38228", "CAR-T consult"),)), "car-t-unspecified"),
        (ConceptInput(codings=(CodingRef(c.CPT, "0540T"),)), "car-t-unspecified"),
        (ConceptInput(codings=(CodingRef(c.ICD10PCS, "XW033C7"),)), "car-t-unspecified"),
    ],
)
def test_an_administration_code_a_named_product_or_infusion_wording_is_an_exposure(
    concept: ConceptInput, expected: str
) -> None:
    match = shipped_kb().identify_procedure(concept)
    assert match is not None and match.drug.id == expected


@pytest.mark.parametrize("words", ["CAR-T cells", "Yescarta leukapheresis", "CAR-T consult"])
def test_medication_recognition_of_car_t_names_is_unchanged(words: str) -> None:
    assert shipped_kb().identify_drug(text(words)) is not None
