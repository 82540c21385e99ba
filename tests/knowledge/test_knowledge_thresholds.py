"""Thresholds: adult values with sources, and the PALS and paediatric SIRS age boundaries."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.knowledge.base import KnowledgeBase


@pytest.fixture
def kb() -> KnowledgeBase:
    return shipped_kb()


YEAR = 365


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        (0, 60),
        (28, 60),  # term neonate 0-28 days
        (29, 70),
        (364, 70),  # infant 1-12 months
        (YEAR, 72),
        (2 * YEAR, 74),
        (5 * YEAR + 200, 80),
        (10 * YEAR, 90),  # 70 + 2 x age in years
        (11 * YEAR, 90),
        (17 * YEAR, 90),  # above 10 years
        (None, 90),
        (40 * YEAR, 90),  # adult
    ],
)
def test_hypotension_follows_pals_at_each_boundary(
    kb: KnowledgeBase, age_days: int | None, expected: int
) -> None:
    assert kb.thresholds.hypotension_sbp(age_days).value == expected


def test_paediatric_and_adult_hypotension_cite_different_sources(kb: KnowledgeBase) -> None:
    assert kb.thresholds.hypotension_sbp(400).source == "pals-hypotension"
    assert kb.thresholds.hypotension_sbp(None).source == "lee-2019-astct"


@pytest.mark.parametrize(
    ("age_days", "heart_rate", "respiratory_rate"),
    [
        (0, 180, 60),
        (6, 180, 60),
        (7, 180, 50),
        (29, 180, 50),
        (30, 180, 35),
        (2 * YEAR - 1, 180, 35),
        (2 * YEAR, 140, 30),
        (6 * YEAR - 1, 140, 30),
        (6 * YEAR, 130, 20),
        (13 * YEAR, 110, 20),
        (None, 90, 20),
        (18 * YEAR, 90, 20),
    ],
)
def test_tachycardia_and_tachypnoea_are_age_specific(
    kb: KnowledgeBase, age_days: int | None, heart_rate: int, respiratory_rate: int
) -> None:
    assert kb.thresholds.tachycardia_hr(age_days).value == heart_rate
    assert kb.thresholds.tachypnoea_rr(age_days).value == respiratory_rate


def test_adult_tachycardia_cites_the_sirs_consensus(kb: KnowledgeBase) -> None:
    assert kb.thresholds.tachycardia_hr(None).source == "bone-1992"
    assert "Chest 1992;101:1644" in kb.citation("bone-1992")


def test_scalar_thresholds_carry_values_units_and_sources(kb: KnowledgeBase) -> None:
    t = kb.thresholds
    expected = {
        "fever_celsius": 38.0,
        "low_flow_max_l_min": 6,
        "spo2_assess_below": 92,
        "ferritin_hlh_ng_ml": 10000,
        "crp_rise_factor": 2.0,
        "crp_rise_window_hours": 48,
        "neutropenia_anc_10e9_l": 0.5,
        "easix_korell_2022": 4.67,
        "lab_max_age_days": 7,
    }
    for name, value in expected.items():
        threshold = getattr(t, name)
        assert threshold.value == value, name
        assert threshold.source in kb.sources, name
        assert threshold.unit, name


def test_design_choices_and_institutional_values_say_so(kb: KnowledgeBase) -> None:
    assert kb.thresholds.crp_rise_factor.source == "crs-cds-design"
    assert "not a published" in (kb.thresholds.crp_rise_factor.note or "")
    assert kb.thresholds.spo2_assess_below.source == "local-protocol"
