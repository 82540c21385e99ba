"""Procedures, vasopressors, treatments, observation codes, diagnoses and oxygen devices."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain import concepts as c
from cds_service.domain.concepts import CodingRef, ConceptInput
from cds_service.domain.facts import O2Device
from cds_service.knowledge.base import KnowledgeBase


@pytest.fixture
def kb() -> KnowledgeBase:
    return shipped_kb()


def coded(system: str, code: str) -> ConceptInput:
    return ConceptInput(codings=(CodingRef(system, code),))


@pytest.mark.parametrize(
    ("concept", "expected"),
    [
        (coded(c.CPT, "38228"), "car-t-unspecified"),
        (coded("urn:oid:2.16.840.1.113883.6.12", "0540T"), "car-t-unspecified"),
        (coded(c.ICD10PCS, "XW033C7"), "car-t-unspecified"),
        (coded(c.ICD10PCS, "XW033H7"), "axicabtagene-ciloleucel"),
        (coded("urn:oid:2.16.840.1.113883.6.4", "XW043J7"), "tisagenlecleucel"),
        (coded(c.HCPCS, "Q2056"), "ciltacabtagene-autoleucel"),
        (ConceptInput(texts=("CAR-T cell infusion",)), "car-t-unspecified"),
        (
            ConceptInput(codings=(CodingRef(c.CPT, "38228"),), texts=("Yescarta infusion",)),
            "axicabtagene-ciloleucel",
        ),
        (ConceptInput(texts=("Infusion of chimeric antigen receptor T cells",)), "car-t-unspecified"),
        (coded(c.CPT, "38225"), None),  # harvesting is not an infusion
        (ConceptInput(texts=("Rituximab infusion",)), None),  # not a cell therapy
        (ConceptInput(texts=("Carpal tunnel release",)), None),
    ],
)
def test_car_t_procedures_are_identified(
    kb: KnowledgeBase, concept: ConceptInput, expected: str | None
) -> None:
    match = kb.identify_procedure(concept)
    assert (match.drug.id if match else None) == expected


@pytest.mark.parametrize(
    ("concept", "expected", "is_vasopressin"),
    [
        (coded(c.RXNORM, "7512"), "norepinephrine", False),
        (ConceptInput(texts=("Noradrenaline 8 mg in 50 mL",)), "norepinephrine", False),
        (ConceptInput(texts=("nor-epinephrine infusion",)), "norepinephrine", False),
        (ConceptInput(texts=("EPINEPHrine 0.05 mcg/kg/min",)), "epinephrine", False),
        (coded(c.ATC, "C01CA24"), "epinephrine", False),
        (coded(c.RXNORM, "8163"), "phenylephrine", False),
        (coded(c.RXNORM, "3628"), "dopamine", False),
        (coded(c.RXNORM, "11149"), "vasopressin", True),
        (ConceptInput(texts=("Vasostrict 20 units",)), "vasopressin", True),
        (ConceptInput(texts=("dobutamine",)), None, False),
        (ConceptInput(texts=("desmopressin",)), None, False),
    ],
)
def test_vasopressors_are_identified_with_the_vasopressin_flag(
    kb: KnowledgeBase, concept: ConceptInput, expected: str | None, is_vasopressin: bool
) -> None:
    found = kb.identify_vasopressor(concept)
    assert (found.id if found else None) == expected
    if found:
        assert found.is_vasopressin is is_vasopressin


def test_the_astct_vasopressor_rule_text_is_available(kb: KnowledgeBase) -> None:
    assert "one vasopressor with or without vasopressin" in kb.vasopressor_rule.grade_3
    assert "multiple vasopressors (excluding vasopressin)" in kb.vasopressor_rule.grade_4


@pytest.mark.parametrize(
    ("concept", "expected", "kind"),
    [
        (coded(c.RXNORM, "612865"), "tocilizumab", "anti-cytokine"),
        (ConceptInput(texts=("tocilizumab-aazg 400 mg",)), "tocilizumab", "anti-cytokine"),
        (ConceptInput(texts=("Actemra",)), "tocilizumab", "anti-cytokine"),
        (coded(c.RXNORM, "1535218"), "siltuximab", "anti-cytokine"),
        (ConceptInput(texts=("anakinra 100 mg SC",)), "anakinra", "anti-cytokine"),
        (coded(c.RXNORM, "3264"), "dexamethasone", "corticosteroid"),
        (coded(c.HCPCS, "J2930"), "methylprednisolone", "corticosteroid"),
        (ConceptInput(texts=("diphenhydramine 50 mg IV",)), "h1-antihistamine", "antihistamine"),
        (ConceptInput(texts=("Paracetamol 1 g",)), "acetaminophen", "antipyretic"),
        (ConceptInput(texts=("prednisolone",)), "prednisolone", "corticosteroid"),
        (ConceptInput(texts=("ondansetron 8 mg",)), None, None),
    ],
)
def test_treatments_are_identified_with_their_kind(
    kb: KnowledgeBase, concept: ConceptInput, expected: str | None, kind: str | None
) -> None:
    found = kb.identify_treatment(concept)
    assert (found.id if found else None) == expected
    assert (found.kind if found else None) == kind


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (c.LOINC, "8310-5", "temperature"),
        (c.LOINC, "8867-4", "heart_rate"),
        (c.LOINC, "9279-1", "respiratory_rate"),
        (c.LOINC, "85354-9", "bp_panel"),
        (c.LOINC, "8480-6", "systolic"),
        (c.LOINC, "8462-4", "diastolic"),
        (c.LOINC, "8478-0", "map"),
        (c.LOINC, "2708-6", "spo2"),
        (c.LOINC, "59408-5", "spo2"),
        (c.LOINC, "3151-8", "o2_flow"),
        (c.LOINC, "3150-0", "fio2"),
        (c.LOINC, "107117-4", "o2_device"),
        (c.LOINC, "1988-5", "crp"),
        (c.LOINC, "30522-7", "hs_crp"),
        (c.LOINC, "2276-4", "ferritin"),
        (c.LOINC, "26881-3", "il6"),
        (c.LOINC, "2532-0", "ldh"),
        (c.LOINC, "14804-9", "ldh"),
        (c.LOINC, "2160-0", "creatinine"),
        (c.LOINC, "777-3", "platelets"),
        (c.LOINC, "3255-7", "fibrinogen"),
        (c.LOINC, "48065-7", "d_dimer"),
        (c.LOINC, "48066-5", "d_dimer"),
        (c.LOINC, "751-8", "neutrophils"),
        (c.LOINC, "9269-2", "gcs"),
        ("urn:oid:2.16.840.1.113883.6.1", "8310-5", "temperature"),
        (c.SNOMED, "8310-5", None),
        (c.LOINC, "33959-8", None),
        (None, "8310-5", None),
        (c.LOINC, None, None),
    ],
)
def test_observation_codes_map_to_concepts(
    kb: KnowledgeBase, system: str | None, code: str | None, expected: str | None
) -> None:
    assert kb.observation_concept(system, code) == expected


def test_oxygen_flow_and_fio2_codes_are_not_swapped(kb: KnowledgeBase) -> None:
    assert kb.observation_concept(c.LOINC, "3151-8") == "o2_flow"
    assert kb.observation_concept(c.LOINC, "3150-0") == "fio2"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("D89.831", ("crs", 1)),
        ("D89.834", ("crs", 4)),
        ("D89.839", ("crs", None)),
        ("D89832", ("crs", 2)),
        ("G92.00", ("icans", None)),
        ("G92.03", ("icans", 3)),
        ("G92.8", None),
        ("D89.83", None),
    ],
)
def test_diagnosis_codes_give_concept_and_grade(kb: KnowledgeBase, code: str, expected: object) -> None:
    assert kb.condition_concept(c.ICD10CM, code) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Room air", O2Device.room_air),
        ("RA", O2Device.room_air),
        ("2 L NC", O2Device.nasal_cannula),
        ("nasal cannula", O2Device.nasal_cannula),
        ("High-flow nasal cannula 40 L/min", O2Device.high_flow_nasal_cannula),
        ("HFNC", O2Device.high_flow_nasal_cannula),
        ("simple mask", O2Device.face_mask),
        ("Face mask", O2Device.face_mask),
        ("non-rebreather", O2Device.non_rebreather),
        ("NRB", O2Device.non_rebreather),
        ("Venturi 35%", O2Device.venturi),
        ("CPAP", O2Device.cpap),
        ("BiPAP", O2Device.bipap),
        ("NIV", O2Device.bipap),
        ("intubated", O2Device.mechanical_ventilation),
        ("ventilator", O2Device.mechanical_ventilation),
        ("mechanical ventilation", O2Device.mechanical_ventilation),
        ("blow-by", O2Device.blow_by),
        ("Cannula for IV access", None),
        ("", None),
    ],
)
def test_oxygen_device_text_maps_to_the_device(
    kb: KnowledgeBase, text: str, expected: O2Device | None
) -> None:
    assert kb.o2_device(None, None, text) is expected
