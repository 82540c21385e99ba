"""The scenario loader: time shifting, background charts, requests without prefetch, bundles, comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cds_service.tooling.scenarios import (
    CardSummary,
    Expectation,
    ExpectedCard,
    build_request,
    compare,
    load_scenario,
    shift_times,
    transaction_bundle,
)
from tests.conftest import FIXTURES, NOW

ANCHOR = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_shifting_moves_datetimes_instants_and_dates_but_not_other_strings() -> None:
    data = {
        "effectiveDateTime": "2026-01-15T10:30:00Z",
        "issued": "2026-01-15T10:30:00.250+01:00",
        "birthDate": "2019-09-10",
        "partial": "2019-09",
        "code": "2026",
        "text": "given 2026-01-15T10:30:00Z",
    }
    shifted = shift_times(data, timedelta(days=10, hours=2))
    assert shifted["effectiveDateTime"] == "2026-01-25T12:30:00Z"
    assert shifted["issued"] == "2026-01-25T12:30:00.250000+01:00"
    assert shifted["birthDate"] == "2019-09-20"
    assert (shifted["partial"], shifted["code"], shifted["text"]) == ("2019-09", "2026", data["text"])


def test_shifted_request_keeps_age_and_exposure_day_relative_to_now() -> None:
    scenario = load_scenario(FIXTURES / "scenarios" / "paediatric-6y-sbp-80-hypotensive")
    request = build_request(scenario, NOW)
    birth = datetime.fromisoformat(request["prefetch"]["patient"]["birthDate"]).date()
    assert 6 <= (NOW.date() - birth).days / 365.25 < 7
    given = request["prefetch"]["medicationAdministrations"]["entry"][0]["resource"]["effectiveDateTime"]
    assert NOW - datetime.fromisoformat(given) == timedelta(hours=96)


def test_background_chart_joins_the_prefetch_for_the_scenario_patient() -> None:
    scenario = load_scenario(FIXTURES / "scenarios" / "grade-1-fever-only")
    conditions = scenario.request["prefetch"]["conditions"]["entry"]
    assert conditions, "the background chart adds conditions"
    assert {c["resource"]["subject"]["reference"] for c in conditions} == {"Patient/pt-g1"}


def test_no_prefetch_scenario_names_a_fhir_server_and_carries_no_prefetch() -> None:
    scenario = load_scenario(FIXTURES / "scenarios" / "no-prefetch-fhir-server")
    request = build_request(scenario, NOW, fhir_server="http://127.0.0.1:9/fhir")
    assert "prefetch" not in request
    assert request["fhirServer"] == "http://127.0.0.1:9/fhir"
    assert request["fhirAuthorization"]["patient"] == request["context"]["patientId"]


def test_transaction_bundle_puts_each_resource_once_and_leaves_out_operation_outcomes() -> None:
    patient = {"resourceType": "Patient", "id": "p1"}
    obs = {"resourceType": "Observation", "id": "o1"}
    request = {
        "prefetch": {
            "patient": patient,
            "vitalSigns": {"resourceType": "Bundle", "entry": [{"resource": obs}, {"resource": obs}]},
            "labs": {"resourceType": "OperationOutcome", "issue": []},
            "conditions": None,
        }
    }
    bundle = transaction_bundle(request)
    assert bundle["type"] == "transaction"
    assert [e["request"] for e in bundle["entry"]] == [
        {"method": "PUT", "url": "Patient/p1"},
        {"method": "PUT", "url": "Observation/o1"},
    ]


def _card(category: str, indicator: str, grade: int | None = None, drug: str | None = None) -> CardSummary:
    return CardSummary(category, indicator, grade, False if grade else None, drug)


def test_comparison_reports_missing_unexpected_and_crs_cards() -> None:
    wanted = Expectation(cards=(ExpectedCard("active-crs", "critical", 3, False, "teclistamab"),), exact=True)
    assert compare(wanted, [_card("active-crs", "critical", 3, "teclistamab")]) == []
    assert compare(wanted, [_card("active-crs", "critical", 2, "teclistamab")]) == [
        "missing active-crs/critical G3 teclistamab",
        "unexpected active-crs/critical G2 teclistamab",
    ]
    silent = Expectation(no_crs_card=True)
    assert compare(silent, [_card("data-gap", "info")]) == []
    assert compare(silent, [_card("monitoring-window", "info")]) == ["CRS card monitoring-window/info"]
