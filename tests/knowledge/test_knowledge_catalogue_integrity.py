"""The shipped catalogue: every drug of issue 4 present, every fact sourced, every code well-formed."""

from __future__ import annotations

import re

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain import concepts as c
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.codes import is_well_formed


@pytest.fixture
def kb() -> KnowledgeBase:
    return shipped_kb()


ISSUE_DRUGS = [
    "anti-thymocyte-globulin-rabbit",
    "anti-thymocyte-globulin-equine",
    "tgn1412",
    "dacetuzumab",
    "alemtuzumab",
    "blinatumomab",
    "brentuximab-vedotin",
    "lenalidomide",
    "nivolumab",
    "obinutuzumab",
    "oxaliplatin",
    "rituximab",
    "tisagenlecleucel",
    "axicabtagene-ciloleucel",
    "brexucabtagene-autoleucel",
    "lisocabtagene-maraleucel",
    "idecabtagene-vicleucel",
    "ciltacabtagene-autoleucel",
    "obecabtagene-autoleucel",
    "afamitresgene-autoleucel",
    "teclistamab",
    "elranatamab",
    "talquetamab",
    "linvoseltamab",
    "epcoritamab",
    "glofitamab",
    "mosunetuzumab",
    "tarlatamab",
    "tebentafusp",
    "pembrolizumab",
    "ipilimumab",
    "atezolizumab",
    "durvalumab",
    "avelumab",
    "cemiplimab",
    "dostarlimab",
    "tislelizumab",
    "retifanlimab",
    "tremelimumab",
    "car-t-unspecified",
]
# Values the reference marks [U] or [X] (conflicting sources): they must never be in the catalogue.
UNVERIFIED = {
    (c.RXNORM, "1094833"),
    (c.RXNORM, "1657797"),  # ipilimumab IN: sources conflict
    (c.RXNORM, "1919503"),
    (c.RXNORM, "1919505"),  # durvalumab IN: sources conflict
    (c.RXNORM, "1792776"),  # atezolizumab IN: weak single source
    (c.RXNORM, "1875534"),  # avelumab IN: unverified
    (c.HCPCS, "J2860"),  # siltuximab HCPCS: source drops the drug name
    (c.CPT, "0541T"),  # not part of the CAR-T family
    (c.ICD10PCS, "XW033L7"),  # lifileucel (TIL), not CAR-T
}


@pytest.mark.parametrize("drug_id", ISSUE_DRUGS)
def test_every_drug_named_in_issue_4_is_in_the_catalogue(kb: KnowledgeBase, drug_id: str) -> None:
    assert drug_id in kb.drugs


def test_every_fact_of_every_drug_names_a_source_in_the_bibliography(kb: KnowledgeBase) -> None:
    for drug in kb.drugs.values():
        assert drug.sources, drug.id
        assert set(drug.sources) <= set(kb.sources), drug.id
        assert all(fact.source for fact in drug.monitoring), drug.id


def test_every_drug_code_is_well_formed_for_its_system(kb: KnowledgeBase) -> None:
    for drug in kb.drugs.values():
        for code in drug.codes:
            assert is_well_formed(code.system, code.code), (drug.id, code.code)


def test_no_unverified_or_conflicted_code_is_in_the_catalogue(kb: KnowledgeBase) -> None:
    claimed = {(code.system, code.code) for drug in kb.drugs.values() for code in drug.codes}
    claimed |= {(code.system, code.code) for t in kb.treatments.values() for code in t.codes}
    assert not claimed & UNVERIFIED


def test_no_code_is_claimed_by_two_drugs(kb: KnowledgeBase) -> None:
    owners: dict[tuple[str, str], str] = {}
    for drug in kb.drugs.values():
        for code in drug.codes:
            assert owners.setdefault((code.system, code.code), drug.id) == drug.id, code.code


def test_high_tier_cell_products_carry_their_window_of_at_least_28_days(kb: KnowledgeBase) -> None:
    cell_products = [d for d in kb.drugs.values() if d.drug_class in {"car-t", "tcr-t"}]
    assert cell_products
    assert all(d.risk_tier == "high" and d.exposure_window_days >= 28 for d in cell_products)
    assert kb.drugs["ciltacabtagene-autoleucel"].exposure_window_days > 28
    assert kb.drugs["obecabtagene-autoleucel"].exposure_window_days > 28


def test_design_choice_windows_say_so_in_their_source(kb: KnowledgeBase) -> None:
    for drug in kb.drugs.values():
        assert drug.exposure_window_source == "crs-cds-design", drug.id
    assert "design" in kb.sources["crs-cds-design"].citation.lower()


def test_procedure_codes_live_on_cell_therapy_entries_only(kb: KnowledgeBase) -> None:
    for drug in kb.drugs.values():
        if any(code.level in {"cpt", "icd10pcs"} for code in drug.codes):
            assert drug.drug_class in {"car-t", "tcr-t"}, drug.id


def test_glofitamab_obinutuzumab_pretreatment_is_a_monitoring_fact_not_a_premedication(
    kb: KnowledgeBase,
) -> None:
    glofitamab = kb.drugs["glofitamab"]
    assert not glofitamab.premedication
    assert any("obinutuzumab" in fact.text.lower() for fact in glofitamab.monitoring)


def test_blinatumomab_premedication_is_dexamethasone_20_mg_one_hour_before(kb: KnowledgeBase) -> None:
    (premed,) = kb.drugs["blinatumomab"].premedication
    assert premed.treatment_id == "dexamethasone"
    assert "20 mg" in premed.dose_text
    assert premed.timing.startswith("1 hour before")


def test_teclistamab_premedication_names_steroid_antihistamine_and_antipyretic(kb: KnowledgeBase) -> None:
    kinds = {
        kb.treatments[p.treatment_id].kind for p in kb.drugs["teclistamab"].premedication if p.treatment_id
    }
    assert kinds == {"corticosteroid", "antihistamine", "antipyretic"}


def test_premedication_classes_carry_no_unverified_codes(kb: KnowledgeBase) -> None:
    assert not kb.treatments["h1-antihistamine"].codes
    assert not kb.treatments["acetaminophen"].codes


def test_institution_specific_monitoring_is_phrased_per_local_protocol(kb: KnowledgeBase) -> None:
    for drug in kb.drugs.values():
        for fact in drug.monitoring:
            if fact.source == "local-protocol":
                assert "local protocol" in fact.text.lower() or "trial protocol" in fact.text.lower(), drug.id


def test_abbreviations_are_not_common_english_words(kb: KnowledgeBase) -> None:
    common = {"car", "cell", "tab", "red", "bid", "tid", "atg-free", "ipi", "bv", "on", "is", "it"}
    for drug in kb.drugs.values():
        assert not {a.lower() for a in drug.abbreviations} & common, drug.id


def test_baseline_orders_code_only_what_the_reference_verifies(kb: KnowledgeBase) -> None:
    coded = {(item.system, item.code) for item in kb.baseline_monitoring if item.code}
    assert coded == {(c.LOINC, "1988-5"), (c.LOINC, "2276-4")}
    assert {item.id for item in kb.baseline_monitoring if not item.code} >= {
        "baseline-cbc-differential",
        "baseline-cmp",
        "vital-sign-frequency",
    }


def test_every_source_has_a_citation_and_a_plausible_url(kb: KnowledgeBase) -> None:
    for source in kb.sources.values():
        assert source.citation.strip(), source.id
        assert source.url is None or re.match(r"https?://", source.url), source.id
