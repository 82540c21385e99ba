"""The record builder: liberal about shapes, a resource set aside only when what it is about cannot be read,
irrelevant observations not read."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from cds_service.domain.concepts import LOINC
from cds_service.intake.builder import observation_wanted, record_from_resources
from cds_service.intake.times import parse_time
from tests.fhir.fhir_helpers import NOW, PATIENT, FakeKnowledge, bundle, observation, patient


def parse(*resources: dict[str, object]):
    return record_from_resources([bundle(*resources)], knowledge=FakeKnowledge(), now=NOW)


def test_an_unreadable_value_keeps_the_resource_and_names_the_field_never_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = observation("bad", valueQuantity={"value": "not-a-number", "unit": "Cel"})
    with caplog.at_level(logging.WARNING):
        record = parse(patient(), observation("good"), bad)
    assert [o.id for o in record.observations] == ["good", "bad"]
    (problem,) = record.observations[1].value.problems
    assert (problem.field, problem.reason) == ("valueQuantity.value", "not a number")
    assert record.set_aside == []
    assert "not-a-number" not in caplog.text


def test_a_resource_whose_code_cannot_be_read_is_set_aside_and_logged_by_type_and_id_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = observation("bad", code="8310-5")
    bad["code"] = 8310.5
    with caplog.at_level(logging.WARNING):
        record = parse(bad, observation("good"))
    assert [o.id for o in record.observations] == ["good"]
    (item,) = record.set_aside
    assert (item.reference, item.field, item.could_matter) == ("Observation/bad", "code", True)
    assert "Observation/bad" in caplog.text and "8310.5" not in caplog.text


def test_a_medication_request_with_odd_elements_no_rule_reads_is_kept() -> None:
    odd = {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": 42, "subject": "x",
           "category": {"coding": [{"code": "inpatient"}]}, "medicationCodeableConcept": {"text": "teclistamab"}}
    record = parse(odd)
    (request,) = record.medication_requests
    assert request.intent is None  # unreadable: the rule for a missing intent applies
    assert request.medication_concept is not None and request.medication_concept.text == "teclistamab"


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
    assert [o.id for o in record.observations] == ["o"] and record.set_aside == []


def test_duplicates_across_keys_are_kept_once() -> None:
    record = record_from_resources(
        [bundle(observation("o")), bundle(observation("o"))], knowledge=FakeKnowledge(), now=NOW
    )
    assert len(record.observations) == 1


def test_an_observation_with_an_unknown_code_is_not_parsed() -> None:
    assert parse(observation("o", code="39156-5")).observations == []  # BMI: no rule uses it


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
    parsed = parse_time("2026-11-24T08:00:00.123+01:00")
    assert parsed is not None and parsed.earliest == datetime(2026, 11, 24, 7, 0, 0, 123000, tzinfo=UTC)
    naive = parse_time("2026-11-24T08:00:00")
    assert naive is not None and naive.earliest.tzinfo is UTC and not naive.zone_given
    assert parse_time("2026-13-01") is None
    assert parse_time("9000-12-31T23:59:59Z") is not None
    assert [parse_time(t) for t in ("9001", "9999-12", "9999-12-31", "9999-12-31T23:59:59Z")] == [None] * 4


def test_the_patient_id_comes_from_the_patient_resource_when_context_has_none() -> None:
    assert parse(patient()).patient_id == PATIENT
