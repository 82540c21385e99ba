"""The site extension file adds local codes and overrides, and refuses ids the catalogue does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
from knowledge_fixtures import CARDS, shipped_kb

from cds_service.domain.concepts import CodingRef, ConceptInput
from cds_service.domain.facts import O2Device
from cds_service.errors import KnowledgeError
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.loader import load_knowledge


@pytest.fixture
def kb() -> KnowledgeBase:
    return shipped_kb()


@pytest.fixture
def cards_dir() -> Path:
    return CARDS


LOCAL_MEDS = "urn:oid:1.2.3.4.5.6.7.8.9"
LOCAL_FLOWSHEET = "urn:oid:1.2.3.4.5.6.7.8.10"


@pytest.fixture(scope="module")
def site_kb() -> KnowledgeBase:
    return load_knowledge(CARDS, CARDS / "site-example.yaml")


def local(system: str, code: str) -> ConceptInput:
    return ConceptInput(codings=(CodingRef(system, code),))


def test_the_example_site_file_is_not_loaded_by_default(kb: KnowledgeBase) -> None:
    assert kb.site.version is None
    assert kb.identify_drug(local(LOCAL_MEDS, "ERX-88231")) is None


def test_a_local_medication_code_identifies_the_drug(site_kb: KnowledgeBase) -> None:
    match = site_kb.identify_drug(local(LOCAL_MEDS, "ERX-88231"))
    assert match is not None and match.drug.id == "tisagenlecleucel"


def test_local_codes_for_observations_vasopressors_treatments_and_devices_are_recognised(
    site_kb: KnowledgeBase,
) -> None:
    assert site_kb.observation_concept(LOCAL_FLOWSHEET, "FLO-3041") == "ice_score"
    vasopressor = site_kb.identify_vasopressor(local(LOCAL_MEDS, "ERX-12001"))
    assert vasopressor is not None and vasopressor.id == "norepinephrine"
    treatment = site_kb.identify_treatment(local(LOCAL_MEDS, "ERX-77310"))
    assert treatment is not None and treatment.id == "tocilizumab"
    assert (
        site_kb.o2_device("urn:oid:1.2.3.4.5.6.7.8.11", "O2DEV-07", None) is O2Device.high_flow_nasal_cannula
    )


def test_a_window_override_changes_the_drug_and_is_reported(
    site_kb: KnowledgeBase, kb: KnowledgeBase
) -> None:
    assert kb.drugs["tisagenlecleucel"].exposure_window_days == 28
    assert site_kb.drugs["tisagenlecleucel"].exposure_window_days == 35
    assert site_kb.drugs["tisagenlecleucel"].exposure_window_source == "site-configuration"
    assert site_kb.site.window_overrides == {"tisagenlecleucel": 35}
    assert site_kb.site.min_order_alert_tier == "high"


def test_an_unknown_drug_id_in_the_site_file_fails(tmp_path: Path, cards_dir: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("version: '1'\ndrugs:\n  - drug_id: unobtainium-cel\n    exposure_window_days: 30\n")
    with pytest.raises(KnowledgeError) as excinfo:
        load_knowledge(cards_dir, site)
    assert "site.yaml" in excinfo.value.message and "unobtainium-cel" in excinfo.value.message


def test_a_site_code_that_already_means_another_drug_fails(tmp_path: Path, cards_dir: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "version: '1'\ndrugs:\n  - drug_id: rituximab\n    codes: [{system: rxnorm, code: '1986438'}]\n"
    )
    with pytest.raises(KnowledgeError) as excinfo:
        load_knowledge(cards_dir, site)
    assert "already means 'tisagenlecleucel'" in excinfo.value.message


def test_an_unknown_field_in_the_site_file_fails(tmp_path: Path, cards_dir: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("version: '1'\nmin_order_alert_teir: high\n")
    with pytest.raises(KnowledgeError, match="min_order_alert_teir"):
        load_knowledge(cards_dir, site)
