"""Conditions are read only when the knowledge base knows one of their codes (the CRS and ICANS diagnoses)."""

from __future__ import annotations

from pathlib import Path

from cds_service.intake.builder import condition_wanted
from cds_service.knowledge.loader import load_knowledge

KB = load_knowledge(Path(__file__).resolve().parents[2] / "cards")
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _condition(*codings):
    return {"resourceType": "Condition", "code": {"coding": list(codings)}}


def test_a_crs_diagnosis_is_kept_and_an_unrelated_one_is_not_parsed():
    assert condition_wanted(_condition({"system": ICD10CM, "code": "D89.832"}), KB)
    assert not condition_wanted(_condition({"system": ICD10CM, "code": "E11.9"}), KB)
    assert condition_wanted(_condition({"system": ICD10CM, "code": "E11.9"}, {"system": ICD10CM, "code": "G92.02"}), KB)


def test_odd_shapes_are_dropped_without_error():
    assert not condition_wanted({"resourceType": "Condition"}, KB)
    assert not condition_wanted({"resourceType": "Condition", "code": {"coding": "x"}}, KB)
    assert not condition_wanted(_condition("x", {"system": 3, "code": "D89.832"}), KB)


def test_without_knowledge_every_condition_is_kept():
    assert condition_wanted(_condition({"system": ICD10CM, "code": "E11.9"}), None)


def test_links_and_references_stay_under_the_fhir_base():
    from cds_service.fhir.references import medication_key
    from cds_service.security.fhir_guard import within_base

    base = "https://ehr.example.org/r4/tenant-a"
    assert within_base(f"{base}/Observation?_page=2", base)
    assert not within_base("https://ehr.example.org/r4/tenant-b/Observation?_page=2", base)
    assert not within_base(f"{base}/../tenant-b/Observation", base)
    assert not within_base(f"{base}/%2E%2E/admin", base)
    assert medication_key(f"{base}/Medication/m1", base) == "Medication/m1"
    assert medication_key("https://ehr.example.org/r4/other/Medication/m1", base) is None
    assert medication_key("Medication/..", base) is None
    assert medication_key("x/../../Medication/a?_format=json", base) is None


def test_observations_beyond_the_per_call_cap_are_reported_as_a_data_gap_not_dropped_silently():
    from datetime import UTC, datetime, timedelta

    from cds_service.intake.builder import RecordBuilder
    from cds_service.intake.record import PatientRecord

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    record = PatientRecord("p1")
    builder = RecordBuilder(record, KB, now, max_observations=100)
    builder.add_all(
        {"resourceType": "Observation", "id": f"t{i}", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
         "subject": {"reference": "Patient/p1"},
         "effectiveDateTime": (now - timedelta(minutes=i)).isoformat(),
         "valueQuantity": {"value": 37.0, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"}}
        for i in range(130)
    )
    builder.finish()
    assert len(record.observations) == 100
    assert [g.reason for g in record.gaps] == ["too-large"]
    assert record.gaps[0].description == "only the newest 100 observations were read; 30 older ones were not"
