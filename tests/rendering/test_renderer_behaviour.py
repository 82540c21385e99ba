"""CardRenderer: indicators, order, de-duplication, source, links, override reasons, finding extension."""

from __future__ import annotations

from dataclasses import replace

import rendering_cases as cases
from contract import assert_finding_contract
from rendering_fakes import FakeKnowledge

from cds_service.domain.findings import Severity
from cds_service.rendering.renderer import FINDING_EXTENSION, CardRenderer
from cds_service.rendering.templates import TemplateSet
from tests.rendering.conftest import make_renderer


def _finding_json(card: object) -> dict[str, object]:
    return card.model_dump(mode="json")["extension"][FINDING_EXTENSION]  # type: ignore[attr-defined,no-any-return]


def test_the_indicator_is_the_finding_severity(renderer: CardRenderer) -> None:
    cards = renderer.render(
        [
            cases.active_crs(1, severity=Severity.warning),
            cases.order_risk(cases.RITUXIMAB, boxed_warning=False),
        ],
        patient_id="p",
    )
    assert [c.indicator.value for c in cards] == ["warning", "info"]


def test_cards_are_ordered_critical_warning_info_and_stable_within_a_level(renderer: CardRenderer) -> None:
    findings = [
        cases.data_gap(),
        cases.pre_infusion_risk(),
        cases.monitoring_gap(),
        cases.active_crs(3),
        cases.order_risk(),
    ]
    cards = renderer.render(findings, patient_id="p")
    assert [(c.indicator.value, _finding_json(c)["ruleId"]) for c in cards] == [
        ("critical", "crs.active"),
        ("warning", "crs.monitoring-gap"),
        ("warning", "order.risk"),
        ("info", "data.unreadable"),
        ("info", "order.pre-infusion-risk"),
    ]


def test_only_the_most_severe_crs_status_card_is_kept(renderer: CardRenderer) -> None:
    cards = renderer.render(
        [cases.monitoring_window(), cases.active_crs(2), cases.active_crs(1)], patient_id="p"
    )
    assert [(_finding_json(c)["ruleId"], _finding_json(c)["astctGrade"]) for c in cards] == [
        ("crs.active", 2)
    ]


def test_one_card_per_rule_and_drug(renderer: CardRenderer) -> None:
    again = replace(cases.order_risk(), params={**cases.order_risk().params, "already_exposed_days": 3})
    rituximab = cases.order_risk(cases.RITUXIMAB, boxed_warning=False)
    cards = renderer.render([cases.order_risk(), again, rituximab], patient_id="p")
    assert [_finding_json(c)["drug"]["id"] for c in cards] == ["teclistamab", "rituximab"]  # type: ignore[index]


def test_uuids_come_from_the_factory_and_rendering_is_repeatable(templates: TemplateSet) -> None:
    first = make_renderer(templates, FakeKnowledge()).render([cases.active_crs(2)], patient_id="p")
    second = make_renderer(templates, FakeKnowledge()).render([cases.active_crs(2)], patient_id="p")
    assert first == second
    assert first[0].uuid == "00000000-0000-4000-8000-000000000001"


def test_the_source_names_the_service_links_the_guideline_and_codes_the_category(
    templates: TemplateSet,
) -> None:
    renderer = make_renderer(templates, FakeKnowledge(), source_label="St Elsewhere CRS advisor")
    crs, order = renderer.render([cases.active_crs(2), cases.order_risk()], patient_id="p")
    assert crs.source.label == "St Elsewhere CRS advisor"
    assert crs.source.url == "https://doi.org/10.1016/j.bbmt.2018.12.758"
    assert crs.source.topic is not None and crs.source.topic.code == "active-crs"
    assert crs.source.topic.system == "https://crs-cds.org/fhir/CodeSystem/card-topic"
    assert order.source.url == "https://labels.example.org/teclistamab"


def test_a_drug_without_a_label_url_falls_back_to_the_astct_source_and_has_no_label_link(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.monitoring_window()], patient_id="p")  # tisagenlecleucel: no label_url
    assert [link.url for link in card.links or []] == [
        "https://doi.org/10.1016/j.bbmt.2018.12.758",
        "https://apps.example.org/crs-monitor/launch",
    ]


def test_links_are_the_astct_consensus_the_drug_label_and_the_smart_app(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.active_crs(2)], patient_id="p")
    assert [(link.type, link.url) for link in card.links or []] == [
        ("absolute", "https://doi.org/10.1016/j.bbmt.2018.12.758"),
        ("absolute", "https://labels.example.org/axicabtagene-ciloleucel"),
        ("smart", "https://apps.example.org/crs-monitor/launch"),
    ]


def test_without_a_smart_app_url_there_is_no_smart_link(templates: TemplateSet) -> None:
    (card,) = make_renderer(templates, FakeKnowledge()).render([cases.active_crs(2)], patient_id="p")
    assert all(link.type == "absolute" for link in card.links or [])


def test_every_card_offers_the_four_override_reasons(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.data_gap()], patient_id="p")
    assert [r.display for r in card.overrideReasons or []] == [
        "already addressed",
        "monitored per protocol",
        "not clinically relevant",
        "will reassess",
    ]


def test_the_finding_extension_carries_grade_minimum_drug_days_and_evidence(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.active_crs(3, minimum=True)], patient_id="p")
    finding = _finding_json(card)
    assert finding["astctGrade"] == 3 and finding["astctGradeIsMinimum"] is True
    assert finding["drug"] == {
        "id": "axicabtagene-ciloleucel",
        "name": "axicabtagene ciloleucel",
        "class": "car-t",
        "riskTier": "high",
    }
    assert finding["daysSinceExposure"] == 3
    assert finding["evidence"][0] == {
        "reference": "Observation/temp-1",
        "code": "8310-5",
        "value": 38.9,  # type: ignore[index]
        "unit": "Cel",
        "effective": "2026-11-24T14:20:00Z",
    }


def test_the_finding_extension_keeps_a_null_grade_and_omits_absent_keys(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.data_gap()], patient_id="p")
    assert _finding_json(card) == {
        "ruleId": "data.unreadable",
        "category": "data-gap",
        "astctGrade": None,
        "astctGradeIsMinimum": False,
    }
    assert_finding_contract(card.model_dump(mode="json"))


def test_evidence_items_omit_absent_values(renderer: CardRenderer) -> None:
    bare = cases.Evidence("Vasopressor", "MedicationAdministration/9", None, None, None, None)
    (card,) = renderer.render([cases.active_crs(3, evidence=(bare,))], patient_id="p")
    assert _finding_json(card)["evidence"] == [{"reference": "MedicationAdministration/9"}]


def test_no_findings_give_no_cards(renderer: CardRenderer) -> None:
    assert renderer.render([], patient_id="p") == []
