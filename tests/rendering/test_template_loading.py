"""load_templates: the wording files are validated at load, and every failure names the file and the field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rendering_fakes import FakeKnowledge

from cds_service.errors import KnowledgeError
from cds_service.rendering.registry import TEMPLATE_SPECS
from cds_service.rendering.templates import load_templates, placeholders
from tests.rendering.conftest import TEMPLATES_DIR, make_renderer


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, target)
    return target


def _edit(path: Path, change: Callable[[Any], object]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_repository_templates_load_and_cover_every_template_of_the_findings_contract() -> None:
    templates = load_templates(TEMPLATES_DIR)
    assert set(templates.cards) == set(TEMPLATE_SPECS)
    groups = templates.management.groups
    assert {"cellular", "t-cell-engager", "atg", "infusion-reaction", "checkpoint", "other"} <= set(groups)
    assert all(set(group.grades) == {1, 2, 3, 4} for group in groups.values())


def test_a_missing_template_file_is_refused_naming_the_file_and_rule(template_dir: Path) -> None:
    (template_dir / "monitoring-gap.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"monitoring-gap\.yaml.*crs\.monitoring-gap"):
        load_templates(template_dir)


def test_a_placeholder_the_rule_does_not_supply_is_refused_naming_file_and_field(template_dir: Path) -> None:
    _edit(
        template_dir / "active-crs.yaml",
        lambda d: d["summaries"].update(possible="CRS grade {grade} {bed_number}"),
    )
    with pytest.raises(
        KnowledgeError, match=r"active-crs\.yaml: field summaries\.possible: unknown placeholder.*bed_number"
    ):
        load_templates(template_dir)


def test_declaring_a_param_outside_the_rule_contract_is_refused(template_dir: Path) -> None:
    _edit(template_dir / "order-risk.yaml", lambda d: d["params"].append("patient_name"))
    with pytest.raises(KnowledgeError, match=r"order-risk\.yaml: field params: \['patient_name'\]"):
        load_templates(template_dir)


def test_an_unknown_field_is_refused_by_the_schema(template_dir: Path) -> None:
    _edit(template_dir / "management.yaml", lambda d: d["groups"]["cellular"]["grades"][2][0].update(colour="red"))
    with pytest.raises(KnowledgeError, match=r"management\.yaml: field groups\.cellular\.grades\.2\.0\.colour"):
        load_templates(template_dir)


def test_a_missing_summary_variant_is_refused(template_dir: Path) -> None:
    _edit(template_dir / "active-crs.yaml", lambda d: d["summaries"].pop("no-fever"))
    with pytest.raises(KnowledgeError, match=r"active-crs\.yaml: field summaries: missing \['no-fever'\]"):
        load_templates(template_dir)


def test_a_management_grade_missing_is_refused(template_dir: Path) -> None:
    _edit(template_dir / "management.yaml", lambda d: d["groups"]["atg"]["grades"].pop(4))
    with pytest.raises(KnowledgeError, match=r"management\.yaml: field groups\.atg\.grades: missing \['4'\]"):
        load_templates(template_dir)


def test_a_management_line_with_neither_sources_nor_local_is_refused(template_dir: Path) -> None:
    _edit(template_dir / "management.yaml", lambda d: d["groups"]["cellular"]["grades"][1][0].update(sources=[]))
    with pytest.raises(KnowledgeError, match=r"groups\.cellular\.grades\.1\[0\]: a line needs sources"):
        load_templates(template_dir)


@pytest.mark.parametrize(
    ("source", "refusal"),
    [
        ("nccn-2030", r"management\.yaml: sources not in cards/sources\.yaml.*nccn-2030"),
        ("drugs-com-tocilizumab", r"management\.yaml: sources not fit for the bedside.*drugs-com"),
    ],
    ids=["unknown source", "aggregator"],
)
def test_a_management_line_citing_an_unknown_or_unfit_source_stops_the_renderer(
    template_dir: Path, source: str, refusal: str
) -> None:
    _edit(
        template_dir / "management.yaml",
        lambda d: d["groups"]["cellular"]["grades"][1][0].update(sources=[source]),
    )
    with pytest.raises(KnowledgeError, match=refusal):
        make_renderer(load_templates(template_dir), FakeKnowledge())


def test_a_signal_wording_using_a_value_the_signal_lacks_is_refused(template_dir: Path) -> None:
    _edit(
        template_dir / "signals.yaml", lambda d: d["signals"]["tachycardia"].update(text="HR {value} {unit}")
    )
    with pytest.raises(KnowledgeError, match=r"signals\.yaml: field signals\.tachycardia\.text.*unit"):
        load_templates(template_dir)


def test_invalid_yaml_is_refused_naming_the_file(template_dir: Path) -> None:
    (template_dir / "links.yaml").write_text("labels: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"links\.yaml: not valid YAML"):
        load_templates(template_dir)


def test_a_per_drug_phrase_for_a_drug_the_knowledge_base_lacks_stops_the_renderer(template_dir: Path) -> None:
    _edit(template_dir / "order-risk.yaml", lambda d: d["by_drug"].update({"unobtainium": "x"}))
    with pytest.raises(KnowledgeError, match=r"order-risk\.yaml: field by_drug.*unobtainium"):
        make_renderer(load_templates(template_dir), FakeKnowledge())


@pytest.mark.parametrize("text", ["{a.b}", "{a[0]}", "{a!r}", "{a:>5}"])
def test_placeholders_must_be_bare_names(text: str) -> None:
    with pytest.raises(ValueError, match="bare name"):
        placeholders(text)
