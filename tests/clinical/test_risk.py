"""EASIX and m-EASIX arithmetic, CRP unit conversion, lab age limit."""

from __future__ import annotations

import pytest
from rules_kit import KB, facts, m

from cds_service.clinical.risk import easix, m_easix, pre_infusion_risk


def test_easix_is_ldh_times_creatinine_over_platelets() -> None:
    assert easix(300, 1.2, 100) == 3.6
    assert easix(250, 0.9, 45) == 5.0


def test_m_easix_converts_crp_from_mg_per_litre_to_mg_per_decilitre() -> None:
    # CRP 20 mg/L = 2 mg/dL: 300 x 2 / 100 = 6.
    assert m_easix(300, 20, 100) == 6.0


@pytest.mark.parametrize("platelets", [0, -1])
def test_scores_are_not_computed_without_positive_platelets(platelets: float) -> None:
    assert easix(300, 1.2, platelets) is None
    assert m_easix(300, 20, platelets) is None


def test_pre_infusion_risk_uses_the_latest_labs_and_lists_the_missing_ones() -> None:
    risk = pre_infusion_risk(
        facts(
            m("ldh", 500, hours_ago=100),
            m("ldh", 300, hours_ago=20),
            m("creatinine", 1.2, hours_ago=20),
            m("platelets", 100, hours_ago=20),
        ),
        KB,
    )
    assert risk.easix == 3.6
    assert risk.m_easix is None
    assert risk.missing_labs == ("crp",)
    assert risk.labs["ldh"]["value"] == 300


def test_labs_older_than_seven_days_are_not_used() -> None:
    risk = pre_infusion_risk(
        facts(m("ldh", 300, hours_ago=7 * 24 + 1), m("creatinine", 1.2), m("platelets", 100), m("crp", 20)),
        KB,
    )
    assert risk.easix is None
    assert risk.m_easix is None
    assert risk.missing_labs == ("ldh",)
