"""The ASTCT fever waiver inside exposure windows: where it is anchored and when it matters."""

from __future__ import annotations

from rules_kit import CONFIG, KB, exposure, facts, m, treatment

from cds_service.clinical.rules import evaluate
from cds_service.domain.facts import Facts
from cds_service.domain.findings import Finding


def _findings(f: Facts) -> dict[str, Finding]:
    return {x.rule_id: x for x in evaluate(f, KB, hook="patient-view", config=CONFIG)}


def test_the_fever_waiver_counts_from_the_first_dose_of_the_window_not_the_latest() -> None:
    doses = (exposure("teclistamab", days_ago=3), exposure("teclistamab", days_ago=0.25))
    f = facts(
        m("temperature", 37.0), m("systolic", 86), treatment("tocilizumab", "anti-cytokine", 12), exposures=doses
    )
    finding = _findings(f)["crs.active"]
    assert (finding.astct_grade, finding.params["fever_waived"]) == (2, "tocilizumab")


def test_a_corticosteroid_without_any_sign_is_the_monitoring_window_not_active_crs() -> None:
    f = facts(m("temperature", 37.0), m("systolic", 118), treatment("dexamethasone", "corticosteroid", 20))
    findings = _findings(f)
    assert "crs.active" not in findings
    assert findings["crs.monitoring-window"].params["treatment_given"] == "corticosteroid"


def test_the_waiver_still_grades_a_sign_present_after_the_treatment() -> None:
    f = facts(m("temperature", 37.0), m("systolic", 118), treatment("dexamethasone", "corticosteroid", 20))
    quiet = _findings(f)["crs.monitoring-window"]
    assert quiet.astct_grade is None
    low = facts(m("temperature", 37.0), m("systolic", 80), treatment("dexamethasone", "corticosteroid", 20))
    assert _findings(low)["crs.active"].astct_grade == 2
