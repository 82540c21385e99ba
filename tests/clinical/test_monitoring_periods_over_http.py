"""The monitoring-gap card only where frequent vital signs are expected (cards/monitoring-periods.yaml, or an
inpatient Encounter), through the HTTP API; elsewhere the window card gives outpatient guidance.
"""

from __future__ import annotations

from typing import Any

from tests.chart_kit import SUBJECT, at, by_rule, cards_of, patient, patient_view, searchset, systolic, temperature


def given(drug: str, hours: float, oid: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration", "id": oid, "status": "completed", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": drug}, "effectiveDateTime": at(hours),
    }


def encounter(klass: str, status: str, start_hours: float, end_hours: float | None = None) -> dict[str, Any]:
    period: dict[str, str] = {"start": at(start_hours)}
    if end_hours is not None:
        period["end"] = at(end_hours)
    return {
        "resourceType": "Encounter", "id": f"enc-{klass}", "status": status, "subject": SUBJECT,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass}, "period": period,
    }


def chart(*administrations: dict[str, Any], encounters: tuple[dict[str, Any], ...] = (),
          vitals_hours: float = 10) -> dict[str, Any]:
    """Normal vital signs last charted `vitals_hours` ago."""
    return patient_view(
        patient("1966-02-11"),
        medicationAdministrations=searchset(*administrations),
        vitalSigns=searchset(temperature(36.8, hours=vitals_hours), systolic(122, hours=vitals_hours)),
        encounters=searchset(*encounters),
    )


def rules(client: Any, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return by_rule(cards_of(client, body))


def test_car_t_day_20_at_home_gets_outpatient_guidance_and_no_gap_warning(client):
    found = rules(client, chart(given("axicabtagene ciloleucel", 20 * 24, "axicel"), vitals_hours=30))
    assert "crs.monitoring-gap" not in found
    window = found["crs.monitoring-window"]
    assert "Temperature at home twice a day" in window["detail"]


def test_car_t_day_2_inpatient_with_no_vitals_for_10_hours_gets_the_gap_warning(client):
    body = chart(given("axicabtagene ciloleucel", 48, "axicel"), encounters=(encounter("IMP", "in-progress", 60),))
    gap = rules(client, body)["crs.monitoring-gap"]
    assert gap["indicator"] == "warning"
    assert gap["summary"].startswith("No temperature or blood pressure for 10 h")
    assert "Frequent vital signs are expected: the patient is an inpatient." in gap["detail"]


def test_car_t_day_2_without_an_encounter_is_inside_the_drugs_period(client):
    gap = rules(client, chart(given("axicabtagene ciloleucel", 48, "axicel")))["crs.monitoring-gap"]
    assert "the first 7 days after the infusion (site default) of axicabtagene ciloleucel" in gap["detail"]


def test_a_finished_inpatient_stay_no_longer_expects_frequent_vitals(client):
    body = chart(given("axicabtagene ciloleucel", 12 * 24, "axicel"),
                 encounters=(encounter("IMP", "finished", 13 * 24, 9 * 24),))
    assert "crs.monitoring-gap" not in rules(client, body)


def test_after_a_maintenance_teclistamab_dose_no_gap_warning(client):
    # step-up 1, 2 and the first treatment dose weeks ago, then weekly maintenance; the latest dose 20 h ago
    doses = [given("teclistamab", h, f"tec-{h}") for h in (30 * 24, 27 * 24, 24 * 24, 17 * 24, 10 * 24, 20)]
    assert "crs.monitoring-gap" not in rules(client, chart(*doses))


def test_after_step_up_dose_2_of_teclistamab_the_gap_warning_says_until_when(client):
    doses = [given("teclistamab", 72 + 20, "tec-1"), given("teclistamab", 20, "tec-2")]
    gap = rules(client, chart(*doses))["crs.monitoring-gap"]
    assert "48 h after each dose of the step-up schedule of teclistamab (until" in gap["detail"]


def test_an_outpatient_clinic_encounter_is_not_an_inpatient_stay(client):
    step_up = [given("teclistamab", h, f"tec-{h}") for h in (30 * 24, 27 * 24, 24 * 24)]
    body = chart(*step_up, given("teclistamab", 20, "tec-m"), encounters=(encounter("AMB", "in-progress", 2),))
    assert "crs.monitoring-gap" not in rules(client, body)
