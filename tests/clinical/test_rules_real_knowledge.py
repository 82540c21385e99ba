"""The rules over the shipped knowledge base (cards/): PALS boundaries, label premedication, ASTCT sample."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from contract import assert_finding_contract
from rules_kit import (
    CONFIG,
    NOW,
    born_days_before,
    diagnosis,
    draft,
    exposure,
    facts,
    gap,
    m,
    o2,
    pressor,
    treatment,
)

from cds_service.clinical.grading import grade_crs
from cds_service.clinical.rules import RuleConfig, evaluate
from cds_service.domain.findings import Finding, Severity
from cds_service.knowledge.loader import load_knowledge
from cds_service.rendering.renderer import CardRenderer
from cds_service.rendering.templates import load_templates
from cds_service.settings import Settings

CARDS = Path(__file__).resolve().parents[2] / "cards"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(CARDS)


@pytest.mark.parametrize(
    ("age_days", "systolic", "hypotensive"),
    [
        (10, 59, True),
        (10, 60, False),
        (200, 69, True),
        (200, 70, False),
        (6 * 365 + 30, 80, True),
        (6 * 365 + 30, 82, False),
        (10 * 365 + 30, 89, True),
        (10 * 365 + 30, 90, False),
        (11 * 365 + 30, 89, True),
        (11 * 365 + 30, 90, False),
        (40 * 365, 95, False),
    ],
)
def test_pals_thresholds_from_the_knowledge_base(
    kb, age_days: int, systolic: float, hypotensive: bool
) -> None:
    f = facts(m("temperature", 38.5), m("systolic", systolic), birth=born_days_before(age_days))
    graded = grade_crs(
        f, kb, window_start=NOW - timedelta(hours=24), exposure_start=NOW - timedelta(days=3), hours=24
    )
    assert graded.hypotension.part.present is hypotensive


def test_axi_cel_day_three_grade_three_is_critical(kb) -> None:
    f = facts(m("temperature", 38.6), m("systolic", 84), pressor(), o2("nasal-cannula", 4))
    (finding,) = [x for x in evaluate(f, kb, hook="patient-view", config=CONFIG) if x.rule_id == "crs.active"]
    assert (finding.astct_grade, finding.severity) == (3, Severity.critical)
    assert finding.drug is not None and finding.drug.risk_tier == "high"


def _by_rule(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


def test_teclistamab_order_without_premedication_suggests_the_label_premedication(kb) -> None:
    order = draft("MedicationRequest/tec", drug_id="teclistamab", text="teclistamab")
    findings = _by_rule(evaluate(facts(order, exposures=()), kb, hook="order-sign", config=CONFIG))
    card = findings["order.risk"]
    assert len(card.params["missing_premedication"]) == 3
    assert card.suggestions[0].label.startswith("Dexamethasone 16 mg")
    assert all(len(s.label) <= 60 for s in card.suggestions)
    assert card.severity is Severity.warning


def test_teclistamab_premedication_recognised_by_treatment_id(kb) -> None:
    orders = (
        draft("MedicationRequest/tec", drug_id="teclistamab", text="teclistamab"),
        draft("MedicationRequest/dex", treatment_id="dexamethasone", text="dexamethasone 16 mg"),
        draft("MedicationRequest/h1", treatment_id="h1-antihistamine", text="diphenhydramine 50 mg"),
        draft("MedicationRequest/apap", treatment_id="acetaminophen", text="acetaminophen 650 mg"),
    )
    findings = _by_rule(evaluate(facts(*orders, exposures=()), kb, hook="order-sign", config=CONFIG))
    assert findings["order.risk"].params["missing_premedication"] == []


def test_every_catalogue_drug_opens_a_window_of_its_own_length(kb) -> None:
    for drug in kb.drugs.values():
        inside = facts(
            m("temperature", 38.3),  # a sign: every tier gets a CRS card inside its window
            m("systolic", 120),
            exposures=(exposure(drug.id, drug.exposure_window_days - 0.5),),
        )
        outside = facts(exposures=(exposure(drug.id, drug.exposure_window_days + 0.5),))
        assert any(f.rule_id == "crs.active" for f in evaluate(inside, kb, hook="patient-view", config=CONFIG))
        assert not any(
            f.rule_id.startswith("crs.") for f in evaluate(outside, kb, hook="patient-view", config=CONFIG)
        )


SCENARIOS = {
    "grade-3-with-signals": (
        "patient-view",
        facts(
            m("temperature", 38.6),
            m("systolic", 84),
            pressor(),
            o2("nasal-cannula", 4),
            m("neutrophils", 0.2),
            m("ferritin", 12000),
            m("crp", 10, 30),
            m("crp", 50, 2),
        ),
    ),
    "minimum-grade-and-gaps": (
        "patient-view",
        facts(m("temperature", 38.6), m("spo2", 88), gap("medicationAdministrations")),
    ),
    "documented-without-fever": (
        "patient-view",
        facts(m("temperature", 37), m("systolic", 80), diagnosis("crs", "D89.832", 2, 3)),
    ),
    "waived-and-crp-suppressed": (
        "patient-view",
        facts(m("temperature", 37), treatment("tocilizumab", "anti-cytokine", 4), m("crp", 40)),
    ),
    "monitoring-gap": ("patient-view", facts()),
    "neuro-warning-signs": (
        "patient-view",
        facts(
            m("temperature", 37),
            m("systolic", 120),
            m("ice_score", 6),
            diagnosis("seizure", "R56.9", None, 2),
        ),
    ),
    "order-sign": (
        "order-sign",
        facts(
            draft("MedicationRequest/tec", drug_id="teclistamab", text="teclistamab"),
            draft("MedicationRequest/r", drug_id="rituximab", text="rituximab"),
            m("ldh", 300, 20),
            m("creatinine", 1.2, 20),
            m("platelets", 100, 20),
            exposures=(),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_finding_renders_to_a_card_that_honours_the_finding_contract(kb, name: str) -> None:
    hook, f = SCENARIOS[name]
    findings = evaluate(f, kb, hook=hook, config=CONFIG)
    settings = Settings(environment="development", auth_mode="disabled")
    renderer = CardRenderer(
        load_templates(CARDS / "templates"),
        settings,
        kb,
        uuid_factory=lambda: "00000000-0000-4000-8000-000000000001",
        clock=lambda: NOW,
    )
    cards = renderer.render(findings, patient_id="p1")
    assert len(cards) == len(findings)
    for card in cards:
        assert_finding_contract(card.model_dump(mode="json", exclude_none=True))


def test_a_quiet_window_earns_an_info_card_only_from_the_configured_tier(kb) -> None:
    quiet = {tier: facts(m("temperature", 37), m("systolic", 120), exposures=(exposure(drug, 1),))
             for tier, drug in (("high", "axicabtagene-ciloleucel"), ("moderate", "rituximab"),
                                ("low", "pembrolizumab"))}
    def window_card(tier: str, minimum: str) -> bool:
        config = RuleConfig(min_window_card_tier=minimum)
        return any(f.rule_id == "crs.monitoring-window" for f in evaluate(quiet[tier], kb, hook="patient-view",
                                                                           config=config))
    assert window_card("high", "moderate") and window_card("moderate", "moderate")
    assert not window_card("low", "moderate")
    assert window_card("low", "low")
    assert not window_card("moderate", "high")
