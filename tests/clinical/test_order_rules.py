"""Order-time findings: one card per drug (risk, premedication, baseline monitoring), the minimum alert tier,
children's doses by body surface, EASIX; over the shipped knowledge base (teclistamab's label premedication:
dexamethasone, an H1 antihistamine and an antipyretic; cards/baseline-monitoring.yaml)."""

from __future__ import annotations

import pytest
from rules_kit import KB, LOINC, RXNORM, at, born_days_before, draft, exposure, facts, m

from cds_service.clinical.rules import RuleConfig, evaluate
from cds_service.domain.concepts import ConceptInput
from cds_service.domain.facts import Measurement
from cds_service.domain.findings import Finding, Severity

TEC = draft("MedicationRequest/tec", drug_id="teclistamab", text="teclistamab 0.06 mg/kg sc")
DEX_ORDER = draft("MedicationRequest/dex", treatment_id="dexamethasone", text="dexamethasone 16 mg iv")
H1_ORDER = draft("MedicationRequest/h1", treatment_id="h1-antihistamine", text="diphenhydramine 50 mg")
APAP_ORDER = draft("MedicationRequest/apap", treatment_id="acetaminophen", text="acetaminophen 650 mg po")
PREMEDICATION = (DEX_ORDER, H1_ORDER, APAP_ORDER)
CRP_ORDER = draft(
    "ServiceRequest/crp", codes=(f"{LOINC}|1988-5",), text="crp", resource_type="ServiceRequest"
)
FERRITIN_ORDER = draft("ServiceRequest/fer", text="ferritin serum", resource_type="ServiceRequest")
#: The uncoded baseline items, ordered by name (CBC, CMP, the vital-sign frequency).
OTHER_BASELINE = (
    draft("ServiceRequest/cbc", text="CBC with differential", resource_type="ServiceRequest"),
    draft("ServiceRequest/cmp", text="comprehensive metabolic panel", resource_type="ServiceRequest"),
    draft("ServiceRequest/vs", text="vital signs per local protocol", resource_type="ServiceRequest"),
)
ALL_SUPPORT = (*PREMEDICATION, CRP_ORDER, FERRITIN_ORDER, *OTHER_BASELINE)
TEC_PREMEDICATION = [
    "Dexamethasone 16 mg 1-3 h before each step-up dose",
    "H1 antihistamine 1-3 h before each step-up dose",
    "Antipyretic 1-3 h before each step-up dose",
]


def _order(*drafts, hook: str = "order-sign", tier: str = "moderate", extra=()) -> list[Finding]:
    return evaluate(
        facts(*drafts, *extra, exposures=()), KB, hook=hook, config=RuleConfig(min_order_alert_tier=tier)
    )


def _by_rule(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


@pytest.mark.parametrize(
    ("drug_id", "tier", "expected"),
    [
        ("teclistamab", "low", Severity.warning),
        ("teclistamab", "moderate", Severity.warning),
        ("teclistamab", "high", Severity.warning),
        ("rituximab", "low", Severity.info),
        ("rituximab", "moderate", Severity.info),
        ("rituximab", "high", None),
        ("nivolumab", "low", Severity.info),
        ("nivolumab", "moderate", None),
        ("nivolumab", "high", None),
    ],
)
def test_order_risk_is_emitted_from_the_minimum_alert_tier(
    drug_id: str, tier: str, expected: Severity | None
) -> None:
    findings = _by_rule(
        _order(draft("MedicationRequest/x", drug_id=drug_id, text=drug_id), *ALL_SUPPORT, tier=tier)
    )
    risk = findings.get("order.risk")
    assert (risk.severity if risk else None) == expected
    if risk:
        assert risk.drug is not None and risk.drug.id == drug_id
        assert risk.params["tier"] == KB.drugs[drug_id].risk_tier


def test_a_moderate_tier_drug_gets_one_card_and_no_baseline_or_pre_infusion_finding() -> None:
    findings = _order(draft("MedicationRequest/r", drug_id="rituximab", text="rituximab"), tier="low")
    assert [f.rule_id for f in findings] == ["order.risk"]
    assert findings[0].params["missing_baseline"] == []


def test_one_order_card_per_drug_carries_premedication_and_baseline() -> None:
    findings = _order(TEC)
    (card,) = [f for f in findings if f.rule_id == "order.risk"]
    assert card.params["missing_premedication"] == TEC_PREMEDICATION
    assert card.params["missing_baseline"] == [
        "C reactive protein",
        "Ferritin",
        "CBC with differential",
        "Comprehensive metabolic panel",
        "Vital signs per local protocol",
    ]
    assert [s.label for s in card.suggestions] == [*TEC_PREMEDICATION, "Baseline monitoring (5 orders)"]
    assert all(len(s.label) <= 60 for s in card.suggestions)


def test_present_premedication_and_baseline_leave_nothing_to_suggest() -> None:
    card = _by_rule(_order(TEC, *ALL_SUPPORT))["order.risk"]
    assert (card.params["missing_premedication"], card.params["missing_baseline"], card.suggestions) == ([], [], ())
    assert card.severity is Severity.warning  # a high-tier drug's card is a warning even when nothing is missing


def test_missing_premedication_is_suggested_as_a_coded_order() -> None:
    card = _by_rule(_order(TEC, H1_ORDER, APAP_ORDER, CRP_ORDER, FERRITIN_ORDER, *OTHER_BASELINE))["order.risk"]
    assert card.params["missing_premedication"] == [TEC_PREMEDICATION[0]]
    assert card.params["missing_baseline"] == []
    (suggestion,) = card.suggestions
    (order,) = suggestion.orders
    assert (order.resource_type, order.system, order.code) == ("MedicationRequest", RXNORM, "3264")


def test_premedication_is_recognised_by_code_or_text() -> None:
    by_code = draft("MedicationRequest/d1", codes=(f"{RXNORM}|3264",), text="dex")
    by_text = draft("MedicationRequest/d2", text="dexamethasone 16 mg iv once")
    for order in (by_code, by_text):
        card = _by_rule(_order(TEC, order, H1_ORDER, APAP_ORDER, CRP_ORDER, FERRITIN_ORDER))["order.risk"]
        assert card.params["missing_premedication"] == []


def test_any_antihistamine_satisfies_an_antihistamine_premedication() -> None:
    found = KB.identify_treatment(ConceptInput(texts=("cetirizine 10 mg",)))
    assert found is not None  # the label says "H1 antihistamine", with diphenhydramine only as an example
    cetirizine = draft("MedicationRequest/c", treatment_id=found.id, text="cetirizine 10 mg")
    card = _by_rule(_order(TEC, DEX_ORDER, cetirizine, APAP_ORDER, CRP_ORDER, FERRITIN_ORDER))["order.risk"]
    assert card.params["missing_premedication"] == []


def test_a_different_corticosteroid_does_not_replace_the_labelled_one() -> None:
    methylpred = draft(
        "MedicationRequest/mp", treatment_id="methylprednisolone", text="methylprednisolone 40 mg"
    )
    card = _by_rule(_order(TEC, methylpred, H1_ORDER, APAP_ORDER, CRP_ORDER, FERRITIN_ORDER))["order.risk"]
    assert card.params["missing_premedication"] == [TEC_PREMEDICATION[0]]


def test_missing_baseline_monitoring_is_suggested_as_service_requests() -> None:
    card = _by_rule(_order(TEC, *PREMEDICATION, CRP_ORDER, *OTHER_BASELINE))["order.risk"]
    assert card.params["missing_baseline"] == ["Ferritin"]
    (suggestion,) = card.suggestions
    assert [(o.resource_type, o.code) for o in suggestion.orders] == [("ServiceRequest", "2276-4")]


def test_a_baseline_lab_resulted_within_72_hours_is_shown_not_suggested_again() -> None:
    crp = Measurement("crp", 12.0, "mg/L", at(12), "Observation/crp", "1988-5")
    old_ferritin = Measurement("ferritin", 400.0, "ng/mL", at(80), "Observation/fer", "2276-4")
    card = _by_rule(_order(TEC, *PREMEDICATION, *OTHER_BASELINE, extra=(crp, old_ferritin)))["order.risk"]
    assert card.params["missing_baseline"] == ["Ferritin"]
    assert [(r["label"], r["value"]) for r in card.params["baseline_results"]] == [("C reactive protein", 12.0)]


def test_the_time_a_baseline_result_counts_is_the_operators_setting() -> None:
    from cds_service.settings import Settings

    crp = Measurement("crp", 12.0, "mg/L", at(12), "Observation/crp", "1988-5")
    config = RuleConfig.from_settings(Settings(environment="development", baseline_result_hours=6), KB)
    card = _by_rule(evaluate(facts(TEC, *PREMEDICATION, *OTHER_BASELINE, crp, exposures=()), KB, hook="order-sign",
                             config=config))["order.risk"]
    assert "C reactive protein" in card.params["missing_baseline"] and card.params["baseline_results"] == []


def test_a_baseline_lab_charted_under_another_code_counts_by_the_concept_of_the_baseline_code() -> None:
    local_crp = Measurement("crp", 12.0, "mg/L", at(12), "Observation/crp-local", "LAB-CRP-7")
    card = _by_rule(_order(TEC, *PREMEDICATION, FERRITIN_ORDER, *OTHER_BASELINE, extra=(local_crp,)))["order.risk"]
    assert card.params["missing_baseline"] == []
    assert [(r["label"], r["value"]) for r in card.params["baseline_results"]] == [("C reactive protein", 12.0)]


def test_a_child_gets_the_premedication_dose_by_body_surface_and_never_the_adult_flat_dose() -> None:
    blin = draft("MedicationRequest/blin", drug_id="blinatumomab", text="blinatumomab")
    six_years = born_days_before(6 * 365 + 30)
    weighed = facts(
        blin, m("body_weight", 20, 24), m("body_height", 115, 24), birth=six_years, exposures=()
    )
    card = _by_rule(evaluate(weighed, KB, hook="order-sign", config=RuleConfig()))["order.risk"]
    (label,) = card.params["missing_premedication"]
    assert label == "Dexamethasone 4 mg before blinatumomab"  # 5 mg/m2 x 0.8 m2 (Mosteller), not 20 mg
    (order,) = card.suggestions[0].orders
    assert "5 mg/m2, maximum 20 mg, 0.8 m2" in (order.text or "")
    unweighed = facts(blin, birth=six_years, exposures=())
    card = _by_rule(evaluate(unweighed, KB, hook="order-sign", config=RuleConfig()))["order.risk"]
    assert card.params["missing_premedication"] == ["Dexamethasone 5 mg/m2 (max 20 mg) before the dose"]
    assert "20 mg IV" not in card.suggestions[0].label


def test_order_select_looks_only_at_the_selected_drafts() -> None:
    selected = draft("MedicationRequest/r", drug_id="rituximab", text="rituximab", selected=True)
    findings = _order(TEC, selected, hook="order-select", tier="low")
    assert {f.drug.id for f in findings if f.drug} == {"rituximab"}
    assert {f.drug.id for f in _order(TEC, selected, hook="order-sign", tier="low") if f.drug} == {
        "teclistamab",
        "rituximab",
    }


def test_pre_infusion_risk_reports_easix_and_m_easix_with_the_korell_reference() -> None:
    labs = (m("ldh", 300, 20), m("creatinine", 1.2, 20), m("platelets", 100, 20), m("crp", 20, 20))
    finding = _by_rule(_order(TEC, *ALL_SUPPORT, extra=labs))["order.pre-infusion-risk"]
    assert finding.severity is Severity.info
    assert (finding.params["easix"], finding.params["m_easix"]) == (3.6, 6.0)
    assert finding.params["reference_cutoff"] == 4.67
    assert finding.params["missing_labs"] == []
    assert len(finding.evidence) == 4


def test_no_pre_infusion_card_when_no_risk_score_can_be_computed() -> None:
    # No labs at all: the baseline-monitoring suggestions ask for them; a "not computable" card would be noise.
    assert "order.pre-infusion-risk" not in _by_rule(_order(TEC, *ALL_SUPPORT))


def test_a_patient_already_exposed_gets_the_days_and_the_crs_status_too() -> None:
    f = facts(TEC, *ALL_SUPPORT, exposures=(exposure("teclistamab", days_ago=2),))
    findings = _by_rule(evaluate(f, KB, hook="order-sign", config=RuleConfig()))
    assert findings["order.risk"].params["already_exposed_days"] == 2
    assert "crs.monitoring-window" in findings
    assert "crs.monitoring-gap" not in findings
