"""Order-time findings: risk by tier and the minimum alert tier, premedication, baseline monitoring, EASIX."""

from __future__ import annotations

import pytest
from rules_kit import KB, LOINC, RXNORM, draft, exposure, facts, m

from cds_service.clinical.rules import RuleConfig, evaluate
from cds_service.domain.findings import Finding, Severity

TEC = draft("MedicationRequest/tec", drug_id="teclistamab", text="teclistamab 0.06 mg/kg sc")
DEX_ORDER = draft("MedicationRequest/dex", treatment_id="dexamethasone", text="dexamethasone 16 mg iv")
H1_ORDER = draft("MedicationRequest/h1", treatment_id="diphenhydramine", text="diphenhydramine 50 mg")
CRP_ORDER = draft(
    "ServiceRequest/crp", codes=(f"{LOINC}|1988-5",), text="crp", resource_type="ServiceRequest"
)
FERRITIN_ORDER = draft("ServiceRequest/fer", text="ferritin serum", resource_type="ServiceRequest")
ALL_SUPPORT = (DEX_ORDER, H1_ORDER, CRP_ORDER, FERRITIN_ORDER)


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


def test_only_high_tier_drugs_get_premedication_and_pre_infusion_findings() -> None:
    rules = set(
        _by_rule(_order(draft("MedicationRequest/r", drug_id="rituximab", text="rituximab"), tier="low"))
    )
    assert rules == {"order.risk"}


def test_present_premedication_and_baseline_give_no_premedication_finding() -> None:
    assert "order.premedication" not in _by_rule(_order(TEC, *ALL_SUPPORT))


def test_missing_premedication_is_suggested_as_orders() -> None:
    finding = _by_rule(_order(TEC, H1_ORDER, CRP_ORDER, FERRITIN_ORDER))["order.premedication"]
    assert finding.severity is Severity.warning
    assert finding.params["missing_premedication"] == ["Dexamethasone 16 mg"]
    assert finding.params["missing_baseline"] == []
    (suggestion,) = finding.suggestions
    assert suggestion.label == "Add premedication: dexamethasone"
    (order,) = suggestion.orders
    assert (order.resource_type, order.system, order.code) == ("MedicationRequest", RXNORM, "3264")


def test_premedication_is_recognised_by_code_or_text() -> None:
    by_code = draft("MedicationRequest/d1", codes=(f"{RXNORM}|3264",), text="dex")
    by_text = draft("MedicationRequest/d2", text="dexamethasone 16 mg iv once")
    for order in (by_code, by_text):
        assert "order.premedication" not in _by_rule(_order(TEC, order, H1_ORDER, CRP_ORDER, FERRITIN_ORDER))


def test_any_antihistamine_satisfies_an_antihistamine_premedication() -> None:
    cetirizine = draft("MedicationRequest/c", treatment_id="cetirizine", text="cetirizine 10 mg")
    assert "order.premedication" not in _by_rule(
        _order(TEC, DEX_ORDER, cetirizine, CRP_ORDER, FERRITIN_ORDER)
    )


def test_a_different_corticosteroid_does_not_replace_the_labelled_one() -> None:
    methylpred = draft(
        "MedicationRequest/mp", treatment_id="methylprednisolone", text="methylprednisolone 40 mg"
    )
    finding = _by_rule(_order(TEC, methylpred, H1_ORDER, CRP_ORDER, FERRITIN_ORDER))["order.premedication"]
    assert finding.params["missing_premedication"] == ["Dexamethasone 16 mg"]


def test_missing_baseline_monitoring_is_suggested_as_service_requests() -> None:
    finding = _by_rule(_order(TEC, DEX_ORDER, H1_ORDER, CRP_ORDER))["order.premedication"]
    assert finding.params["missing_premedication"] == []
    assert finding.params["missing_baseline"] == ["Ferritin"]
    (suggestion,) = finding.suggestions
    assert suggestion.label == "Add baseline monitoring: Ferritin"
    assert [(o.resource_type, o.code) for o in suggestion.orders] == [("ServiceRequest", "2276-4")]


def test_both_groups_missing_give_two_suggestions() -> None:
    finding = _by_rule(_order(TEC))["order.premedication"]
    assert [s.label.split(":")[0] for s in finding.suggestions] == [
        "Add premedication",
        "Add baseline monitoring",
    ]
    assert len(finding.suggestions[0].orders) == 2


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
