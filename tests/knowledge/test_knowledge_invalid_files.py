"""An invalid knowledge file stops loading with a message naming the file, the entry and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from knowledge_fixtures import CARDS

from cds_service.errors import KnowledgeError
from cds_service.knowledge.loader import load_knowledge


@pytest.fixture
def cards_dir() -> Path:
    return CARDS


@pytest.fixture
def cards_copy(tmp_path: Path, cards_dir: Path) -> Path:
    target = tmp_path / "cards"
    shutil.copytree(cards_dir, target, ignore=shutil.ignore_patterns("templates"))
    return target


def replace(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    assert old in content, f"fixture text {old!r} not found in {path.name}"
    path.write_text(content.replace(old, new, 1))


def load_error(cards: Path) -> str:
    with pytest.raises(KnowledgeError) as excinfo:
        load_knowledge(cards)
    return excinfo.value.message


def test_the_unmodified_copy_loads(cards_copy: Path) -> None:
    assert load_knowledge(cards_copy).drugs


def test_an_unknown_risk_tier_names_file_entry_and_field(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/car-t.yaml", "risk_tier: high", "risk_tier: extreme")
    message = load_error(cards_copy)
    assert "drugs/car-t.yaml" in message
    assert "'tisagenlecleucel'" in message
    assert "'risk_tier'" in message


def test_a_misspelt_field_is_refused(cards_copy: Path) -> None:
    replace(
        cards_copy / "drugs/other.yaml",
        "typical_onset_source: shimabukuro-2018",
        "typical_onset_sauce: shimabukuro-2018",
    )
    message = load_error(cards_copy)
    assert "drugs/other.yaml" in message and "'lenalidomide'" in message and "typical_onset_sauce" in message


def test_a_malformed_atc_code_names_the_code_field(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/t-cell-engagers.yaml", "code: L01FX07", "code: L01FX7")
    message = load_error(cards_copy)
    assert "drugs/t-cell-engagers.yaml" in message and "'blinatumomab'" in message
    assert "codes[5].code" in message and "L01FX7" in message


def test_an_unknown_source_id_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/antibodies.yaml", "risk_source: shimabukuro-2018", "risk_source: rumour-mill")
    message = load_error(cards_copy)
    assert "'brentuximab-vedotin'" in message and "'risk_source'" in message and "rumour-mill" in message


def test_a_code_claimed_by_two_drugs_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/checkpoint-inhibitors.yaml", 'code: "1547545"', 'code: "1597876"')
    message = load_error(cards_copy)
    assert "'pembrolizumab'" in message and "also claimed by 'nivolumab'" in message


def test_a_duplicate_drug_id_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/other.yaml", "id: oxaliplatin", "id: lenalidomide")
    message = load_error(cards_copy)
    assert "duplicate drug id" in message and "'lenalidomide'" in message


def test_a_name_shared_by_two_drugs_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/antibodies.yaml", "brands: [Gazyva]", "brands: [Gazyva, Rituxan]")
    message = load_error(cards_copy)
    assert "'obinutuzumab'" in message and "rituximab" in message


def test_a_premedication_naming_an_unknown_treatment_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "drugs/t-cell-engagers.yaml", "treatment_id: acetaminophen", "treatment_id: aspirin")
    message = load_error(cards_copy)
    assert "'teclistamab'" in message and "treatment_id" in message and "aspirin" in message


def test_a_paediatric_band_gap_is_refused(cards_copy: Path) -> None:
    replace(
        cards_copy / "thresholds.yaml",
        "min_age_days: 29, max_age_days: 365",
        "min_age_days: 30, max_age_days: 365",
    )
    message = load_error(cards_copy)
    assert "thresholds.yaml" in message and "hypotension_sbp" in message


def test_broken_yaml_names_the_file_and_line(cards_copy: Path) -> None:
    (cards_copy / "vasopressors.yaml").write_text("version: '1'\nvasopressors: [unclosed\n")
    message = load_error(cards_copy)
    assert "vasopressors.yaml" in message and "line" in message


def test_a_missing_file_is_refused(cards_copy: Path) -> None:
    (cards_copy / "conditions.yaml").unlink()
    assert "conditions.yaml" in load_error(cards_copy)


@pytest.mark.parametrize(
    ("source", "kind"),
    [("drugs-com-tocilizumab", "aggregator"), ("healthtree-bispecifics", "advocacy"),
     ("mims-blincyto", "foreign-drug-database"), ("fda-rems-removal-2025", "news")],
)
def test_a_card_facing_fact_sourced_only_by_an_unfit_kind_is_refused(cards_copy: Path, source: str, kind: str) -> None:
    replace(
        cards_copy / "drugs/t-cell-engagers.yaml",
        """        source: tecvayli-pi-prescriberpoint
        label_anchored: true""",
        f"""        source: {source}
        label_anchored: true""",
    )
    message = load_error(cards_copy)
    assert "'teclistamab'" in message and "'monitoring[0]'" in message and f"{source} ({kind})" in message


def test_a_card_facing_source_without_a_short_label_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "sources.yaml", "    short: Tecvayli label\n", "")
    message = load_error(cards_copy)
    assert "tecvayli-pi-prescriberpoint" in message and "short" in message


def test_a_weight_band_dose_needs_its_rule_and_its_placeholder() -> None:
    import pydantic
    import pytest

    from cds_service.knowledge.schema import WeightBand

    WeightBand(below_kg=45, text="dexamethasone {dose}", mg_per_m2=5, max_mg=8, source="blincyto-hcp")
    with pytest.raises(pydantic.ValidationError, match="mg_per_m2"):
        WeightBand(below_kg=45, text="dexamethasone {dose}", source="blincyto-hcp")
    with pytest.raises(pydantic.ValidationError, match="mg_per_m2"):
        WeightBand(below_kg=45, text="dexamethasone 5 mg/m2", mg_per_m2=5, source="blincyto-hcp")


def test_the_tocilizumab_dose_sourced_only_by_an_aggregator_is_refused(cards_copy: Path) -> None:
    replace(cards_copy / "dosing.yaml", "  sources: [santomasso-2021, kymriah-pi-2018-mirror]",
            "  sources: [drugs-com-tocilizumab]")
    message = load_error(cards_copy)
    assert "dosing.yaml" in message and "drugs-com-tocilizumab (aggregator)" in message
