"""evaluate(): the CRS-status finding inside exposure windows, monitoring gaps, data gaps, output order."""

from __future__ import annotations

from rules_kit import CONFIG, KB, REPO, diagnosis, exposure, facts, gap, m, o2, pressor, treatment

from cds_service.clinical.rules import RuleConfig, evaluate
from cds_service.domain.facts import DataGap, Facts
from cds_service.domain.findings import Category, Finding, Severity
from cds_service.knowledge.loader import load_knowledge
from cds_service.settings import Settings

VITALS = (m("temperature", 37.0), m("systolic", 120))


def _findings(f: Facts, hook: str = "patient-view") -> dict[str, Finding]:
    return {x.rule_id: x for x in evaluate(f, KB, hook=hook, config=CONFIG)}


def test_fever_inside_the_window_is_active_crs_grade_one_with_a_warning() -> None:
    finding = _findings(facts(m("temperature", 38.4), m("systolic", 120)))["crs.active"]
    assert (finding.category, finding.severity, finding.template) == (
        Category.active_crs,
        Severity.warning,
        "active-crs",
    )
    assert (finding.astct_grade, finding.astct_grade_is_minimum) == (1, False)
    assert finding.params["status"] == "possible"
    assert finding.params["differential"] == ["infection"]
    assert finding.days_since_exposure == finding.params["days_since_exposure"] == 3
    assert finding.drug is not None and finding.drug.id == "axicabtagene-ciloleucel"


def test_grade_two_or_more_is_critical() -> None:
    finding = _findings(facts(m("temperature", 38.4), m("systolic", 120), o2("nasal-cannula", 3)))[
        "crs.active"
    ]
    assert (finding.astct_grade, finding.severity) == (2, Severity.critical)


def test_hypotension_without_fever_is_critical_without_a_grade() -> None:
    finding = _findings(facts(m("temperature", 37.1), m("systolic", 80)))["crs.active"]
    assert finding.astct_grade is None
    assert finding.severity is Severity.critical
    assert finding.params["hypotension"] is True


def test_quiet_window_is_an_info_monitoring_window_finding() -> None:
    finding = _findings(facts(*VITALS))["crs.monitoring-window"]
    assert finding.severity is Severity.info
    assert (finding.params["day_of_window"], finding.params["window_days"]) == (4, 28)
    assert "crs.active" not in _findings(facts(*VITALS))


def test_warning_signal_raises_the_monitoring_window_to_warning() -> None:
    finding = _findings(facts(*VITALS, m("ferritin", 15000)))["crs.monitoring-window"]
    assert finding.severity is Severity.warning
    assert finding.params["differential"] == ["iec-hs"]


def test_no_crs_finding_without_a_catalogue_exposure() -> None:
    findings = _findings(facts(m("temperature", 39.5), m("systolic", 80), exposures=()))
    assert not {"crs.active", "crs.monitoring-window"} & set(findings)


def test_no_crs_finding_outside_the_exposure_window() -> None:
    findings = _findings(facts(m("temperature", 39.5), exposures=(exposure(days_ago=29),)))
    assert not {"crs.active", "crs.monitoring-window"} & set(findings)
    inside = _findings(facts(m("temperature", 39.5), m("systolic", 120), exposures=(exposure(days_ago=27),)))
    assert "crs.active" in inside


def test_draft_exposures_do_not_open_a_window() -> None:
    findings = _findings(
        facts(m("temperature", 39.5), exposures=(exposure(is_draft=True, source="draft-order"),))
    )
    assert "crs.active" not in findings


def test_fever_before_the_infusion_is_not_crs() -> None:
    f = facts(m("temperature", 39.0, hours_ago=10), m("systolic", 120), exposures=(exposure(days_ago=0.2),))
    assert "crs.monitoring-window" in _findings(f)


def test_documented_crs_is_reported_as_documented_with_the_grade_recomputed() -> None:
    f = facts(m("temperature", 38.9), m("systolic", 84), diagnosis("crs", "D89.833", 3, 5))
    finding = _findings(f)["crs.active"]
    assert finding.params["status"] == "documented"
    assert finding.params["documented_grade"] == 3
    assert finding.astct_grade == 2


def test_documented_crs_before_the_exposure_does_not_count() -> None:
    f = facts(m("temperature", 38.9), m("systolic", 120), diagnosis("crs", "D89.832", 2, 24 * 40))
    assert _findings(f)["crs.active"].params["status"] == "possible"


def test_one_crs_finding_names_the_most_recent_high_tier_drug_and_lists_the_others() -> None:
    exposures = (
        exposure("rituximab", days_ago=1),
        exposure("axicabtagene-ciloleucel", days_ago=10),
        exposure("teclistamab", days_ago=5),
    )
    findings = evaluate(
        facts(m("temperature", 38.4), m("systolic", 120), exposures=exposures),
        KB,
        hook="patient-view",
        config=CONFIG,
    )
    (status,) = [f for f in findings if f.rule_id.startswith("crs.") and f.rule_id != "crs.monitoring-gap"]
    assert status.drug is not None and status.drug.id == "teclistamab"
    assert status.params["other_drugs"] == ["axicabtagene ciloleucel", "rituximab"]


def test_waived_fever_after_tocilizumab_keeps_the_crs_active() -> None:
    f = facts(m("temperature", 37.0), m("systolic", 85), treatment("tocilizumab", "anti-cytokine", 10))
    finding = _findings(f)["crs.active"]
    assert (finding.astct_grade, finding.params["fever_waived"]) == (2, "tocilizumab")


def test_monitoring_gap_inside_a_high_tier_window() -> None:
    f = facts(m("temperature", 37.0, hours_ago=9), m("systolic", 120, hours_ago=2))
    finding = _findings(f)["crs.monitoring-gap"]
    assert finding.severity is Severity.warning
    assert finding.params["missing"] == ["temperature"]
    assert finding.params["hours"] == 8
    assert finding.params["last_seen"]["blood pressure"] is not None


def test_never_seen_vitals_are_a_monitoring_gap_with_null_times() -> None:
    finding = _findings(facts())["crs.monitoring-gap"]
    assert finding.params["missing"] == ["temperature", "blood pressure"]
    assert finding.params["last_seen"] == {"temperature": None, "blood pressure": None}


def test_no_monitoring_gap_for_moderate_tier_drugs_or_recent_vitals() -> None:
    assert "crs.monitoring-gap" not in _findings(facts(exposures=(exposure("rituximab", days_ago=1),)))
    assert "crs.monitoring-gap" not in _findings(facts(*VITALS))


def test_unreadable_vital_signs_are_a_data_gap_not_a_monitoring_gap() -> None:
    findings = _findings(facts(gap("vitalSigns")))
    assert "crs.monitoring-gap" not in findings
    assert findings["data.unreadable"].params["items"] == ["vitalSigns could not be read"]


def test_all_data_gaps_are_listed_in_one_finding() -> None:
    gaps = (gap("labs"), DataGap("observations", "2 observations were invalid", "invalid-resource"))
    finding = _findings(facts(*VITALS, *gaps))["data.unreadable"]
    assert (finding.category, finding.severity) == (Category.data_gap, Severity.info)
    assert finding.params == {"items": ["labs could not be read", "2 observations were invalid"], "signs": []}


def test_findings_are_sorted_by_severity_then_rule_then_drug() -> None:
    f = facts(m("temperature", 38.4), m("systolic", 80, hours_ago=9), pressor(hours_ago=9), gap("labs"))
    rules = [(x.severity, x.rule_id) for x in evaluate(f, KB, hook="patient-view", config=CONFIG)]
    assert rules == [
        (Severity.critical, "crs.active"),
        (Severity.warning, "crs.monitoring-gap"),
        (Severity.info, "data.unreadable"),
    ]


def test_rule_config_takes_the_site_tier_unless_the_setting_was_given() -> None:
    site_kb = load_knowledge(REPO / "cards", REPO / "cards" / "site-example.yaml")  # min_order_alert_tier: high
    assert RuleConfig.from_settings(Settings(), site_kb).min_order_alert_tier == "high"
    assert (
        RuleConfig.from_settings(Settings(min_order_alert_tier="low"), site_kb).min_order_alert_tier == "low"
    )
    assert RuleConfig.from_settings(Settings(grading_window_hours=12), KB) == RuleConfig(12, 8, "moderate")
