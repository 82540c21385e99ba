"""The FHIR intake through the HTTP API: each real-world shape the issue names, and what the clinician sees.

Liberal in what is accepted (drafts without intent, a category object, dosage.timing on administrations, an
empty given name), exact in what is read (impossible values and unit conflicts are never evidence and are named
on the card), and honest about what the fallback fetch could not read (oversized answers, the page cap,
medications on another server).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.chart_kit import (
    BASE,
    PATIENT,
    RXNORM,
    SUBJECT,
    at,
    by_rule,
    car_t_given,
    cards_of,
    evidence_values,
    patient,
    patient_view,
    searchset,
    systolic,
    temperature,
    vital,
)
from tests.conftest import make_client

# ---------------------------------------------------------------- liberal in what is accepted


def test_the_sandbox_draft_order_without_intent_and_with_a_category_object_gets_its_order_card(client):
    draft = {
        "resourceType": "MedicationRequest",
        "id": "sandbox-draft-1",
        "status": "draft",
        "category": {"coding": [{"code": "inpatient"}]},  # an object, not a list, as the sandbox sends it
        "subject": SUBJECT,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2619432"}], "text": "Teclistamab"},
    }
    body = patient_view()
    body.update(hook="order-sign")
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}
    rules = by_rule(cards_of(client, body, "crs-order-sign"))
    assert "order.risk" in rules
    assert rules["order.risk"]["extension"]["org.crs-cds.finding"]["drug"]["id"] == "teclistamab"
    assert "data.unreadable" not in rules


def test_administrations_written_with_dosage_timing_and_dose_and_rate_still_count(client):
    norepinephrine = {
        "resourceType": "MedicationAdministration",
        "id": "norepi-1",
        "status": "in-progress",
        "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "norepinephrine 4 mg in 250 mL"},
        "effectivePeriod": {"start": at(2)},
        "dosage": {  # dosage.timing and dosage.doseAndRate are not R4 MedicationAdministration elements
            "timing": {"repeat": {"frequency": 1}},
            "doseAndRate": [{"rateQuantity": {"value": 0.1, "unit": "mcg/kg/min"}}],
            "route": {"text": "intravenous"},
        },
    }
    car_t = car_t_given(72, dosage={"timing": {"code": {"text": "once"}}, "doseAndRate": [{"doseQuantity": 1}]})
    body = patient_view(
        medicationAdministrations=searchset(car_t, norepinephrine),
        vitalSigns=searchset(temperature(39.1), systolic(84)),
    )
    status = by_rule(cards_of(client, body))["crs.active"]
    finding = status["extension"]["org.crs-cds.finding"]
    assert (finding["drug"]["id"], finding["astctGrade"], status["indicator"]) == ("axicabtagene-ciloleucel", 3,
                                                                                   "critical")


def test_a_patient_with_an_empty_given_name_keeps_the_birth_date_and_the_childrens_threshold(client):
    child = patient("2020-06-01", name=[{"given": [""], "family": ""}])  # 6 years old on NOW
    body = patient_view(
        child,
        medicationAdministrations=searchset(car_t_given(48)),
        vitalSigns=searchset(temperature(38.6), systolic(80)),  # 80 < 70 + 2 x 6 = 82: hypotension at 6
    )
    status = by_rule(cards_of(client, body))["crs.active"]
    assert status["extension"]["org.crs-cds.finding"]["astctGrade"] == 2
    assert "82 mmHg" in status["detail"]


# ---------------------------------------------------------------- exact in what is read


def _window_card(client: Any, *vitals: dict[str, Any]) -> dict[str, Any]:
    body = patient_view(medicationAdministrations=searchset(car_t_given(48)), vitalSigns=searchset(*vitals))
    rules = by_rule(cards_of(client, body))
    return rules.get("crs.active") or rules["crs.monitoring-window"]


def test_a_temperature_of_1000_celsius_is_never_evidence_and_the_card_says_why(client):
    card = _window_card(client, temperature(1000), systolic(118))
    finding = card["extension"]["org.crs-cds.finding"]
    assert finding["ruleId"] == "crs.monitoring-window" and finding["astctGrade"] is None
    assert 1000 not in evidence_values(card)
    assert "a temperature of 1000 °C at 11:00 UTC could not be used: outside 25–45 °C" in card["detail"]
    assert card["indicator"] == "warning"  # fever not excluded


def test_a_temperature_of_1e308_is_never_evidence(client):
    card = _window_card(client, temperature(1e308), systolic(118))
    assert card["extension"]["org.crs-cds.finding"]["astctGrade"] is None
    assert "could not be used: outside 25–45 °C" in card["detail"]


def test_38_9_recorded_as_fahrenheit_is_not_shown_as_a_reassuring_3_8_celsius(client):
    card = _window_card(client, temperature(38.9, "[degF]", "[degF]"), systolic(118))
    assert "3.8" not in card["summary"] and "3.83" not in card["detail"]
    text = card["detail"].replace("\\", "")  # the Markdown escapes the brackets of [degF]
    assert "a temperature of 38.9 [degF] (3.8 °C) at 11:00 UTC could not be used: outside 25–45 °C" in text
    assert card["indicator"] == "warning"


def test_a_celsius_code_with_a_fahrenheit_unit_text_is_a_conflict_never_a_fever_of_102_celsius(client):
    card = _window_card(client, temperature(102.2, "°F", "Cel"), systolic(118))
    assert "102.2 °C" not in card["detail"]
    assert "could not be used: its unit code 'Cel' and unit text '°F' disagree" in card["detail"]


def test_an_spo2_fraction_with_unit_1_is_read_as_percent(client):
    spo2 = vital("59408-5", 0.86, None, "1", 1, "sat1")
    body = patient_view(medicationAdministrations=searchset(car_t_given(48)),
                        vitalSigns=searchset(temperature(37.0), systolic(118), spo2))
    card = by_rule(cards_of(client, body))["crs.monitoring-window"]
    assert 86.0 in evidence_values(card)


# ---------------------------------------------------------------- what the fallback fetch could not read


def _fetching_client(settings: Any, handler: Any) -> Any:
    return make_client(settings, fhir_transport=httpx.MockTransport(handler))


def _fallback_request() -> dict[str, Any]:
    body = patient_view()
    del body["prefetch"]
    body["fhirServer"] = BASE
    body["fhirAuthorization"] = {
        "access_token": "t0ken", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
        "subject": "crs-cds",
    }
    return body


def _answer(request: httpx.Request, vitals: dict[str, Any] | None = None) -> httpx.Response:
    path = request.url.path
    if path.endswith("/Patient/" + PATIENT):
        return httpx.Response(200, json=patient())
    if path.endswith("/MedicationAdministration"):
        return httpx.Response(200, json=searchset(car_t_given(48)))
    if path.endswith("/Observation") and "vital-signs" in str(request.url) and vitals is not None:
        return httpx.Response(200, json=vitals)
    return httpx.Response(200, json=searchset())


def test_an_oversized_fhir_answer_is_not_read_and_the_card_says_so(settings):
    small = settings.model_copy(update={"fhir_max_response_bytes": 64 * 1024})
    huge = searchset(*(temperature(37.0, hours=1 + i / 100, oid=f"t{i}") for i in range(2000)))
    assert len(json.dumps(huge)) > 64 * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return _answer(request, huge)

    with _fetching_client(small, handler) as client:
        rules = by_rule(cards_of(client, _fallback_request()))
    gap = rules["data.unreadable"]["detail"]
    assert (
        "vital signs and neurological assessments could not be read (the FHIR server's answer was larger than "
        "the service reads)"
    ) in gap


def test_the_page_cap_says_only_the_newest_were_read(settings):
    capped = settings.model_copy(update={"fhir_max_pages": 2})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Observation") and "vital-signs" in str(request.url):
            page = int(request.url.params.get("page", "1"))
            bundle = searchset(temperature(37.0, hours=page, oid=f"t{page}"))
            bundle["link"] = [{"relation": "next", "url": f"{BASE}/Observation?category=vital-signs&page={page + 1}"}]
            return httpx.Response(200, json=bundle)
        return _answer(request)

    with _fetching_client(capped, handler) as client:
        rules = by_rule(cards_of(client, _fallback_request()))
    assert (
        "vital signs and neurological assessments could be read only in part (only the newest 2 records were read: the "
        "limit of 2 pages was reached)"
        in rules["data.unreadable"]["detail"]
    )


def test_a_medication_on_another_server_is_named_on_the_data_gap_card(client):
    order = {
        "resourceType": "MedicationRequest",
        "id": "mr-far",
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "medicationReference": {"reference": "https://pharmacy.example.net/fhir/Medication/m1"},
        "authoredOn": at(30),
    }
    body = patient_view(medicationRequests=searchset(order))
    body["fhirServer"] = BASE
    rules = by_rule(cards_of(client, body))
    detail = rules["data.unreadable"]["detail"]
    assert "the medication of MedicationRequest/mr-far is on another server (pharmacy.example.net)" in detail


def test_an_administration_whose_medication_cannot_be_read_is_named_once_on_the_data_gap_card(client):
    unreadable = car_t_given(30, id="ma-odd", medicationCodeableConcept=42)  # a number where a concept belongs
    body = patient_view(medicationAdministrations=searchset(unreadable, car_t_given(48, id="ma-ok")))
    rules = by_rule(cards_of(client, body))
    detail = rules["data.unreadable"]["detail"]
    line = "MedicationAdministration/ma-odd was not used: its medicationCodeableConcept could not be read"
    assert detail.count(line) == 1
    assert "crs.monitoring-window" in rules or "crs.active" in rules  # the readable administration still counts


def test_a_date_in_year_9999_is_an_unreadable_time_never_a_failed_call(client):
    """A corrupt far-future date (9999-12-31: past the year 9000, no chart time) on an Observation the rules do
    not read, or on a temperature, is an unreadable time: the call is answered, the temperature is not evidence."""
    cholesterol = {**vital("2093-3", 180, "mg/dL", "mg/dL", 2, "chol"), "effectiveDateTime": "9999-12-31"}
    far_fever = {**temperature(40.1, oid="t-far"), "effectiveDateTime": "9999-12"}
    card = _window_card(client, cholesterol, far_fever, temperature(37.0), systolic(118))
    assert 40.1 not in evidence_values(card)
    assert card["extension"]["org.crs-cds.finding"]["astctGrade"] is None
    assert "without a readable effective time" in card["detail"] or "time could not be read" in card["detail"]
