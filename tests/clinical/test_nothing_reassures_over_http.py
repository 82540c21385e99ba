"""A card never says "no criteria met" on data the service could not read or use (through the HTTP API): the
vital signs unreadable, or the latest ICE score present but not usable. The card says what is open instead."""

from __future__ import annotations

from typing import Any

from tests.chart_kit import SUBJECT, at, by_rule, car_t_given, cards_of, patient_view, searchset, systolic, temperature

UNREADABLE = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}


def ice(value: dict[str, Any], hours: float, oid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "category": [{"coding": [{"code": "survey"}]}],
        "code": {"text": "ICE score"}, "subject": SUBJECT, "effectiveDateTime": at(hours), **value,
    }


def window_card(client: Any, **keys: Any) -> dict[str, Any]:
    body = patient_view(medicationAdministrations=searchset(car_t_given(72)), **keys)
    return by_rule(cards_of(client, body))["crs.monitoring-window"]


def normal_vitals(*extra: dict[str, Any]) -> dict[str, Any]:
    return searchset(temperature(36.8, hours=2), systolic(118, hours=2), *extra)


def test_vital_signs_that_could_not_be_read_give_a_warning_that_crs_and_icans_were_not_assessed(client) -> None:
    card = window_card(client, vitalSigns=UNREADABLE)
    assert card["indicator"] == "warning"
    assert "not assessed" in card["summary"] and "criteria met" not in card["summary"]
    assert "CRS is not excluded" in card["detail"]


def test_an_ice_score_that_could_not_be_used_leaves_icans_open_on_the_card(client) -> None:
    card = window_card(client, vitalSigns=normal_vitals(ice({"valueString": "five out of ten"}, 1, "ice-1")))
    assert card["indicator"] == "warning"
    assert card["summary"].endswith("no CRS criteria met, ICANS not excluded")
    assert "an ICE score" in card["detail"]


def test_a_usable_ice_score_after_it_closes_the_question(client) -> None:
    scores = (ice({"valueString": "five out of ten"}, 3, "ice-1"), ice({"valueInteger": 10}, 1, "ice-2"))
    card = window_card(client, vitalSigns=normal_vitals(*scores))
    assert card["indicator"] == "info"
    assert card["summary"].endswith("no CRS or ICANS criteria met")


def test_with_every_value_readable_and_normal_the_window_card_stays_quiet(client) -> None:
    card = window_card(client, vitalSigns=normal_vitals(ice({"valueInteger": 10}, 1, "ice-2")))
    assert (card["indicator"], card["summary"].endswith("no CRS or ICANS criteria met")) == ("info", True)


def test_with_no_temperature_or_blood_pressure_recorded_the_card_says_crs_was_not_assessed(client) -> None:
    card = window_card(client, vitalSigns=searchset())
    assert card["summary"].endswith("no temperature or blood pressure recorded, CRS not assessed")
    assert "criteria met" not in card["summary"]


def test_fever_and_hypotension_with_unreadable_medications_is_a_warning_that_crs_cannot_be_excluded(client) -> None:
    body = patient_view(medicationAdministrations=UNREADABLE, vitalSigns=searchset(temperature(39.2), systolic(78)))
    card = by_rule(cards_of(client, body))["data.unreadable"]
    assert card["indicator"] == "warning"
    assert card["summary"] == ("Fever and hypotension recorded and medication data could not be read: "
                               "CRS cannot be excluded")


def test_unreadable_medications_with_normal_vital_signs_stay_an_info_card(client) -> None:
    body = patient_view(medicationAdministrations=UNREADABLE, vitalSigns=normal_vitals())
    assert by_rule(cards_of(client, body))["data.unreadable"]["indicator"] == "info"
