"""one bad resource is skipped and reported; irrelevant observations are not parsed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from fhir_helpers import NOW, PATIENT, FakeKnowledge, bundle, observation, patient

from cds_service.domain.concepts import LOINC
from cds_service.fhir.parsing import observation_wanted, parse_fhir_time, record_from_resources


def parse(*resources: dict[str, object]):
    return record_from_resources([bundle(*resources)], knowledge=FakeKnowledge(), now=NOW)


def test_a_malformed_resource_is_skipped_and_the_rest_kept(caplog: pytest.LogCaptureFixture) -> None:
    bad = observation("bad", valueQuantity={"value": "not-a-number"})
    with caplog.at_level(logging.WARNING):
        record = parse(patient(), observation("good"), bad)
    assert [o.id for o in record.observations] == ["good"]
    assert len(record.skipped) == 1
    skipped = record.skipped[0]
    assert (skipped.resource_type, skipped.resource_id) == ("Observation", "bad")
    assert "valueQuantity.value" in skipped.error
    assert "not-a-number" not in skipped.error
    assert "not-a-number" not in caplog.text
    assert "Observation/bad" in caplog.text


def test_a_malformed_medication_request_is_skipped_without_its_content() -> None:
    bad = {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": 42, "subject": "x"}
    record = parse(bad)
    assert record.medication_requests == []
    assert record.skipped[0].resource_type == "MedicationRequest"


def test_entered_in_error_resources_are_dropped() -> None:
    wrong_condition = {
        "resourceType": "Condition",
        "id": "c1",
        "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
    }
    wrong_obs = observation("o1", status="entered-in-error")
    wrong_admin = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "entered-in-error",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-11-24T08:00:00Z",
    }
    record = parse(wrong_condition, wrong_obs, wrong_admin, observation("o2"))
    assert record.conditions == [] and record.medication_administrations == []
    assert [o.id for o in record.observations] == ["o2"]


def test_cancelled_observations_are_dropped() -> None:
    assert parse(observation("o1", status="cancelled")).observations == []


def test_unknown_resource_types_are_ignored() -> None:
    record = parse(
        {"resourceType": "Basic", "id": "b"}, {"resourceType": "NotAType", "id": "n"}, observation("o")
    )
    assert [o.id for o in record.observations] == ["o"] and record.skipped == []


def test_duplicates_across_keys_are_kept_once() -> None:
    record = record_from_resources(
        [bundle(observation("o")), bundle(observation("o"))], knowledge=FakeKnowledge(), now=NOW
    )
    assert len(record.observations) == 1


def test_an_observation_with_an_unknown_code_is_not_parsed() -> None:
    assert parse(observation("o", code="29463-7")).observations == []  # body weight: no rule uses it


def test_a_blood_pressure_panel_is_kept_for_its_components() -> None:
    panel = observation("bp", code="0000-0", valueQuantity=None)
    del panel["valueQuantity"]
    panel["component"] = [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}}]
    assert [o.id for o in parse(panel).observations] == ["bp"]


@pytest.mark.parametrize(
    ("timing", "kept"),
    [
        ({"effectiveDateTime": "2026-11-10T08:00:00Z"}, False),
        ({"effectiveDateTime": "2026-11-20T08:00:00+02:00"}, True),
        ({"effectiveInstant": "2026-11-23T08:00:00Z"}, True),
        ({"effectivePeriod": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-23T00:00:00Z"}}, True),
        ({"effectivePeriod": {"start": "2026-10-01T00:00:00Z"}}, False),
        ({"issued": "2026-11-23T09:00:00Z"}, True),
        ({"issued": "2025-01-01T09:00:00Z"}, False),
        ({"effectiveDateTime": "2026-11-16"}, True),
        ({"effectiveDateTime": "2026-11"}, True),
        ({"effectiveDateTime": "2025"}, False),
        ({"effectiveDateTime": "yesterday"}, True),
        ({}, True),
    ],
)
def test_the_look_back_pre_filter_reads_every_time_field(timing: dict[str, object], kept: bool) -> None:
    raw = observation("o")
    del raw["effectiveDateTime"]
    raw.update(timing)
    assert observation_wanted(raw, FakeKnowledge(), NOW) is kept


def test_old_observations_are_parsed_when_the_pre_filter_is_off() -> None:
    record = record_from_resources(
        [observation("o", code="29463-7", when="2001-01-01")],
        knowledge=FakeKnowledge(),
        now=NOW,
        prefilter=False,
    )
    assert len(record.observations) == 1


def test_fhir_times_are_aware() -> None:
    assert parse_fhir_time("2026-11-24T08:00:00.123+01:00") == datetime(
        2026, 11, 24, 7, 0, 0, 123000, tzinfo=UTC
    )
    assert parse_fhir_time("2026-11-24T08:00:00").tzinfo is UTC
    assert parse_fhir_time("2026-13-01") is None


def test_the_patient_id_comes_from_the_patient_resource_when_context_has_none() -> None:
    assert parse(patient()).patient_id == PATIENT
