"""Warning and context signals inside the window, and the differential they suggest."""

from __future__ import annotations

from datetime import timedelta

from rules_kit import KB, NOW, born_days_before, diagnosis, facts, m, o2, treatment

from cds_service.clinical.signals import Signals, detect_signals
from cds_service.domain.facts import Facts

EXPOSED = NOW - timedelta(days=3)


def _signals(f: Facts, fever: bool | None = False) -> Signals:
    return detect_signals(
        f, KB, window_start=NOW - timedelta(hours=24), since_exposure=EXPOSED, fever=fever, hours=24
    )


def _ids(signals: Signals) -> list[str]:
    return [s["id"] for s in signals.items]


def _one(signals: Signals, signal_id: str) -> dict:
    (found,) = [s for s in signals.items if s["id"] == signal_id]
    return found


def test_tachycardia_and_tachypnoea_use_age_specific_thresholds() -> None:
    adult = _signals(facts(m("heart_rate", 120), m("respiratory_rate", 24)))
    assert _ids(adult) == ["tachycardia", "tachypnoea"]
    assert _one(adult, "tachycardia") | {} == {
        "id": "tachycardia",
        "value": 120,
        "threshold": 90,  # SIRS: above 90/min
        "effective": (NOW - timedelta(hours=1)).isoformat(),
    }
    child = _signals(facts(m("heart_rate", 120), m("respiratory_rate", 24), birth=born_days_before(5 * 365)))
    assert _ids(child) == []


def test_low_spo2_without_supplemental_oxygen_is_a_warning_signal() -> None:
    signals = _signals(facts(m("spo2", 89), m("spo2", 95, hours_ago=3)))
    assert _one(signals, "spo2-low-no-o2")["value"] == 89
    assert signals.warning


def test_low_spo2_on_supplemental_oxygen_is_not_the_no_oxygen_signal() -> None:
    assert "spo2-low-no-o2" not in _ids(_signals(facts(m("spo2", 89), o2("nasal-cannula", 2))))
    assert "spo2-low-no-o2" in _ids(_signals(facts(m("spo2", 89), o2("room-air"))))


def test_crp_doubling_within_48_hours_is_a_rising_signal() -> None:
    signals = _signals(facts(m("crp", 20, hours_ago=40), m("crp", 45, hours_ago=2)))
    assert _one(signals, "crp-rising") == {"id": "crp-rising", "from": 20, "to": 45, "hours": 38}
    assert not signals.warning


def test_crp_rise_below_the_factor_or_outside_48_hours_is_not_a_signal() -> None:
    assert _ids(_signals(facts(m("crp", 30, hours_ago=20), m("crp", 45, hours_ago=2)))) == []
    assert _ids(_signals(facts(m("crp", 10, hours_ago=60), m("crp", 45, hours_ago=2)))) == []


def test_crp_is_suppressed_after_tocilizumab() -> None:
    signals = _signals(
        facts(
            m("crp", 20, hours_ago=40),
            m("crp", 45, hours_ago=2),
            treatment("tocilizumab", "anti-cytokine", 30),
        )
    )
    assert _ids(signals) == ["crp-suppressed"]
    assert _one(signals, "crp-suppressed")["treatment"] == "tocilizumab"


def test_ferritin_rising_and_above_ten_thousand() -> None:
    signals = _signals(facts(m("ferritin", 4000, hours_ago=30), m("ferritin", 12000, hours_ago=2)))
    assert _ids(signals) == ["ferritin-rising", "ferritin-hlh"]
    assert _one(signals, "ferritin-hlh")["threshold"] == 10000
    assert signals.differential == ("iec-hs",)
    assert signals.warning


def test_ferritin_below_ten_thousand_is_not_hlh() -> None:
    assert _ids(_signals(facts(m("ferritin", 9999)))) == []


def test_neutropenic_fever_adds_the_differential() -> None:
    signals = _signals(facts(m("neutrophils", 0.3, hours_ago=30), m("temperature", 38.5)), fever=True)
    assert _one(signals, "neutropenic-fever")["anc"] == 0.3
    assert signals.differential == ("neutropenic-fever", "infection")


def test_neutropenia_without_fever_is_not_neutropenic_fever() -> None:
    assert _ids(_signals(facts(m("neutrophils", 0.3)), fever=False)) == []


def test_a_recovered_neutrophil_count_is_not_neutropenic_fever() -> None:
    signals = _signals(
        facts(m("neutrophils", 0.3, hours_ago=40), m("neutrophils", 1.2, hours_ago=30)), fever=True
    )
    assert _ids(signals) == []
    assert signals.differential == ("infection",)


def test_neurological_signs_are_not_crs_signals_they_are_graded_as_icans() -> None:
    signals = _signals(facts(m("ice_score", 7), m("gcs", 14), diagnosis("seizure", "R56.9", None, 5)))
    assert _ids(signals) == []
    assert not signals.warning


def test_a_seizure_before_the_exposure_is_not_a_signal() -> None:
    assert _ids(_signals(facts(diagnosis("seizure", "R56.9", None, 24 * 10)))) == []
