"""Medication recognition: codes at every level, names, brands, abbreviations, odd text, and look-alikes."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.domain import concepts as c
from cds_service.domain.concepts import CodingRef, ConceptInput
from cds_service.knowledge.base import KnowledgeBase


@pytest.fixture
def kb() -> KnowledgeBase:
    return shipped_kb()


RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"


def coded(system: str, code: str, display: str | None = None) -> ConceptInput:
    return ConceptInput(codings=(CodingRef(system, code, display),))


def text(*texts: str) -> ConceptInput:
    return ConceptInput(texts=texts)


CASES: list[tuple[str, ConceptInput, str | None]] = [
    # ---- RxNorm at each level
    ("rxnorm ingredient", coded(c.RXNORM, "1986438"), "tisagenlecleucel"),
    ("rxnorm scd", coded(c.RXNORM, "2044973"), "tisagenlecleucel"),
    ("rxnorm sbd", coded(c.RXNORM, "1986447"), "tisagenlecleucel"),
    ("rxnorm product rxcui from openFDA", coded(c.RXNORM, "1987402"), "axicabtagene-ciloleucel"),
    ("rxnorm pin with suffix", coded(c.RXNORM, "2619425"), "teclistamab"),
    ("rxnorm biosimilar pin", coded(c.RXNORM, "2105824"), "rituximab"),
    ("rxnorm multi-ingredient", coded(c.RXNORM, "1927884"), "rituximab"),
    ("rxnorm brand name", coded(c.RXNORM, "1594659"), "alemtuzumab"),
    ("rxnorm through OID system", coded(RXNORM_OID, "1597258"), "blinatumomab"),
    ("rxnorm with surrounding spaces", coded(c.RXNORM, " 1597876 "), "nivolumab"),
    ("rxnorm equine ATG pin", coded(c.RXNORM, "91601"), "anti-thymocyte-globulin-equine"),
    ("rxnorm ATG ingredient", coded(c.RXNORM, "1011"), "anti-thymocyte-globulin"),
    ("rxnorm oxaliplatin", coded(c.RXNORM, "32592"), "oxaliplatin"),
    ("rxnorm lenalidomide sbd", coded(c.RXNORM, "616116"), "lenalidomide"),
    # ---- ATC, HCPCS, NDC
    ("atc", coded(c.ATC, "L01XL03"), "axicabtagene-ciloleucel"),
    ("atc lower case", coded(c.ATC, "l01fx07"), "blinatumomab"),
    ("hcpcs canonical uri", coded(c.HCPCS, "Q2041"), "axicabtagene-ciloleucel"),
    ("hcpcs oid", coded("urn:oid:2.16.840.1.113883.6.285", "J9039"), "blinatumomab"),
    (
        "hcpcs http uri from THO",
        coded("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "J9312"),
        "rituximab",
    ),
    ("hcpcs biosimilar", coded(c.HCPCS, "Q5119"), "rituximab"),
    ("ndc package hyphenated", coded(c.NDC, "71287-119-01"), "axicabtagene-ciloleucel"),
    ("ndc 11-digit", coded(c.NDC, "00078084619"), "tisagenlecleucel"),
    ("ndc 4-4-2 package", coded(c.NDC, "0078-0846-19"), "tisagenlecleucel"),
    ("ndc through OID", coded("urn:oid:2.16.840.1.113883.6.69", "55513-0160-01"), "blinatumomab"),
    # ---- names
    ("generic name", text("blinatumomab"), "blinatumomab"),
    ("generic name upper case", text("NIVOLUMAB"), "nivolumab"),
    ("brand only", text("Kymriah"), "tisagenlecleucel"),
    ("brand in sentence", text("Give Tecvayli step-up dose 1"), "teclistamab"),
    ("two-word generic", text("axicabtagene ciloleucel"), "axicabtagene-ciloleucel"),
    ("two-word generic odd spacing", text("  Axicabtagene\tCILOLEUCEL  "), "axicabtagene-ciloleucel"),
    ("two-word brand", text("Rituxan Hycela 1400 mg/23,400 units"), "rituximab"),
    ("dose text", text("Kymriah 1.2x10^8 cells suspension"), "tisagenlecleucel"),
    ("dose text with units", text("blinatumomab 28 mcg/day continuous IV"), "blinatumomab"),
    ("biosimilar suffix", text("rituximab-abbs 500 mg"), "rituximab"),
    ("biosimilar suffix upper case", text("RITUXIMAB-PVVR"), "rituximab"),
    ("biosimilar suffix with slash", text("rituximab/arrx"), "rituximab"),
    ("pin suffix of a bispecific", text("teclistamab-cqyv 90 mg/mL"), "teclistamab"),
    ("biosimilar brand", text("Truxima"), "rituximab"),
    ("punctuation", text("Brentuximab vedotin (Adcetris)"), "brentuximab-vedotin"),
    ("accented text", text("Rituximàb"), "rituximab"),
    ("abbreviation axi-cel", text("axi-cel"), "axicabtagene-ciloleucel"),
    ("abbreviation without hyphen", text("tisa cel infusion"), "tisagenlecleucel"),
    ("abbreviation cilta-cel", text("Cilta-cel"), "ciltacabtagene-autoleucel"),
    ("abbreviation obe-cel", text("obe-cel split dose"), "obecabtagene-autoleucel"),
    ("abbreviation afami-cel", text("afami-cel"), "afamitresgene-autoleucel"),
    ("abbreviation blina", text("Blina cycle 2"), "blinatumomab"),
    ("TEC is a chemotherapy regimen, not teclistamab", text("TEC regimen cycle 2"), None),
    ("abbreviation axicel without hyphen", text("axicel infusion"), "axicabtagene-ciloleucel"),
    ("brentuximab without vedotin", text("brentuximab 1.8 mg/kg"), "brentuximab-vedotin"),
    ("investigational former name", text("theralizumab"), "tgn1412"),
    ("investigational code name", text("TGN1412"), "tgn1412"),
    ("investigational trial code", text("SGN-40"), "dacetuzumab"),
    ("ATG rabbit by words", text("Anti-thymocyte globulin (rabbit)"), "anti-thymocyte-globulin-rabbit"),
    ("ATG rabbit by brand", text("Thymoglobulin 1.5 mg/kg"), "anti-thymocyte-globulin-rabbit"),
    ("ATG equine reversed words", text("equine anti-thymocyte globulin"), "anti-thymocyte-globulin-equine"),
    ("ATG species not stated", text("ATG"), "anti-thymocyte-globulin"),
    ("CAR-T not named", text("CAR-T cells"), "car-t-unspecified"),
    ("named CAR-T beats generic words", text("CAR-T cell infusion: Breyanzi"), "lisocabtagene-maraleucel"),
    ("checkpoint brand", text("Keytruda 200 mg"), "pembrolizumab"),
    ("combination brand", text("Opdualag"), "nivolumab"),
    ("display of an unknown code", coded("urn:oid:1.2.3.4", "X1", "EPKINLY 48 MG/0.8 ML"), "epcoritamab"),
    # ---- contained-style Medication: product coding unknown, ingredient codings carry the drug
    (
        "contained medication with ingredient code",
        ConceptInput(codings=(CodingRef("urn:oid:1.2.3", "LOCAL-1"), CodingRef(c.RXNORM, "2479136"))),
        "lisocabtagene-maraleucel",
    ),
    (
        "contained medication with ingredient text",
        ConceptInput(
            codings=(CodingRef("urn:oid:1.2.3", "LOCAL-2", "Compounded bag"),),
            texts=("Compounded bag", "glofitamab"),
        ),
        "glofitamab",
    ),
    (
        "code wins over text",
        ConceptInput(codings=(CodingRef(c.RXNORM, "1597258"),), texts=("rituximab",)),
        "blinatumomab",
    ),
    # ---- negatives: look-alikes and unrelated medicines
    ("ritonavir", text("ritonavir 100 mg"), None),
    ("rivaroxaban", text("rivaroxaban 20 mg"), None),
    ("nivolumab-like", text("nivolumab-like antibody"), None),
    ("oxalate", text("escitalopram oxalate 10 mg"), None),
    ("blinding", text("blinding of study drug"), None),
    ("tecfidera", text("Tecfidera 240 mg"), None),
    ("tocilizumab is a treatment, not a CRS drug", text("tocilizumab 8 mg/kg"), None),
    ("word inside a word", text("supernivolumabs"), None),
    ("car alone", text("car park voucher"), None),
    ("unknown rxnorm code", coded(c.RXNORM, "161"), None),
    ("rxnorm code under another system", coded(c.ATC, "1986438"), None),
    ("empty concept", ConceptInput(), None),
    ("coding without code", ConceptInput(codings=(CodingRef(c.RXNORM, None),)), None),
]


@pytest.mark.parametrize(("label", "concept", "expected"), CASES, ids=[case[0] for case in CASES])
def test_medication_representations_map_to_the_expected_catalogue_drug(
    kb: KnowledgeBase, label: str, concept: ConceptInput, expected: str | None
) -> None:
    match = kb.identify_drug(concept)
    assert (match.drug.id if match else None) == expected, label


def test_the_recognition_table_covers_at_least_sixty_representations() -> None:
    assert len(CASES) >= 60


def test_a_code_match_says_which_system_and_code_matched(kb: KnowledgeBase) -> None:
    match = kb.identify_drug(coded(RXNORM_OID, "1597258"))
    assert match is not None
    assert match.matched_by == f"code:{c.RXNORM}|1597258"


def test_a_text_match_says_which_normalised_phrase_matched(kb: KnowledgeBase) -> None:
    match = kb.identify_drug(text("Rituximab-ABBS 500 mg"))
    assert match is not None
    assert match.matched_by == "text:rituximab abbs"
