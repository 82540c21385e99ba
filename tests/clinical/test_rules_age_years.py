"""Paediatric thresholds use the age in completed calendar years, as the card's text does (PALS: 70 + 2 x years)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rules_kit import NOW, exposure, facts, m

from cds_service.clinical.rules import RuleConfig, evaluate
from cds_service.knowledge.loader import load_knowledge

KB = load_knowledge(Path(__file__).resolve().parents[2] / "cards")


def _grade(birth: date, systolic: float) -> int | None:
    record = facts(m("temperature", 38.6), m("systolic", systolic), birth=birth,
                   exposures=(exposure("tisagenlecleucel", 2),))
    status = [f for f in evaluate(record, KB, hook="patient-view", config=RuleConfig()) if f.rule_id == "crs.active"]
    return status[0].astct_grade


def test_the_day_before_the_eighth_birthday_the_threshold_is_that_of_a_seven_year_old():
    day_before = date(NOW.year - 8, NOW.month, NOW.day + 1)  # turns 8 tomorrow: 7 completed years, threshold 84
    assert _grade(day_before, 85) == 1  # 85 is not below 84 (365-day years made it 86: hypotensive)
    assert _grade(day_before, 83) == 2
    on_birthday = date(NOW.year - 8, NOW.month, NOW.day)  # 8 today: threshold 86
    assert _grade(on_birthday, 85) == 2
