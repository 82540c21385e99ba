"""medicationReference resolution: contained, already in the record (prefetch or draftOrders), or read."""

from __future__ import annotations

import pytest
from fhir_helpers import BASE, PATIENT, bundle, empty_prefetch, hook_request, medication_request

from cds_service.domain.concepts import RXNORM
from cds_service.fhir.references import medication_key
from cds_service.reading.concepts import medication_concept


def medication(
    med_id: str, code: str = "2121578", display: str = "axicabtagene ciloleucel"
) -> dict[str, object]:
    return {
        "resourceType": "Medication",
        "id": med_id,
        "code": {"coding": [{"system": RXNORM, "code": code, "display": display}]},
    }


def prefetch_with_requests(*requests: dict[str, object]) -> dict[str, object]:
    prefetch = empty_prefetch()
    prefetch["medicationRequests"] = bundle(*requests)
    return prefetch


@pytest.mark.respx(assert_all_called=False)
def test_a_contained_medication_is_resolved_without_any_read(respx_mock, build) -> None:
    route = respx_mock.route(host="ehr.example.org")
    request = medication_request("r1", "#m")
    request["contained"] = [medication("m")]
    record = build(hook_request(prefetch_with_requests(request)))
    assert not route.called
    concept = medication_concept(record, record.medication_requests[0])
    assert [c.code for c in concept.codings] == ["2121578"]


@pytest.mark.respx(assert_all_called=False)
def test_a_medication_present_in_the_prefetch_is_used(respx_mock, build) -> None:
    route = respx_mock.route(host="ehr.example.org")
    prefetch = prefetch_with_requests(medication_request("r1", "Medication/m1"))
    prefetch["medicationRequests"]["entry"].append(
        {"resource": medication("m1"), "search": {"mode": "include"}}
    )
    record = build(hook_request(prefetch))
    assert not route.called
    assert "Medication/m1" in record.medications
    assert medication_concept(record, record.medication_requests[0]).codings[0].code == "2121578"


def test_a_medication_in_draft_orders_resolves_a_draft_reference(respx_mock, build) -> None:
    draft = medication_request("d1", "Medication/m2")
    draft["status"] = "draft"
    draft_orders = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": draft}, {"resource": medication("m2")}],
    }
    record = build(hook_request(empty_prefetch(), draftOrders=draft_orders))
    assert medication_concept(record, record.draft_orders[0]).codings[0].code == "2121578"


def test_an_unresolved_reference_is_read_from_the_server(respx_mock, build) -> None:
    first = respx_mock.get(f"{BASE}/Medication/m1").respond(json=medication("m1"))
    second = respx_mock.get(f"{BASE}/Medication/m3").respond(json=medication("m3", code="1"))
    prefetch = prefetch_with_requests(
        medication_request("r1", "Medication/m1"),
        medication_request("r2", f"{BASE}/Medication/m3"),
        medication_request("r3", "Medication/m1"),
    )
    record = build(hook_request(prefetch))
    assert first.call_count == 1 and second.call_count == 1
    assert sorted(record.medications) == ["Medication/m1", "Medication/m3"]
    assert record.gaps == []


def test_a_medication_that_cannot_be_read_is_reported(respx_mock, build) -> None:
    respx_mock.get(f"{BASE}/Medication/m1").respond(404)
    record = build(hook_request(prefetch_with_requests(medication_request("r1", "Medication/m1"))))
    assert [(g.key, g.reason) for g in record.gaps] == [("medications", "not-found")]
    assert record.gaps[0].description.startswith("some medications named by reference could not be read")


@pytest.mark.respx(assert_all_called=False)
def test_a_medication_on_another_server_is_never_read_and_is_named_as_a_gap(respx_mock, build) -> None:
    route = respx_mock.route()
    prefetch = prefetch_with_requests(
        medication_request("r1", "https://other.example.com/fhir/Medication/m1")
    )
    record = build(hook_request(prefetch))
    assert not route.called
    assert [(g.key, g.reason, g.description) for g in record.gaps] == [
        (
            "medications",
            "not-allowed",
            "the medication of MedicationRequest/r1 is on another server (other.example.com) and was not read",
        )
    ]


@pytest.mark.parametrize(
    ("reference", "key"),
    [
        ("Medication/a", "Medication/a"),
        ("Medication/a/_history/2", "Medication/a"),
        (f"{BASE}/Medication/a", "Medication/a"),
        ("https://other.example.com/fhir/Medication/a", None),
        ("#a", None),
        ("Substance/a", None),
    ],
)
def test_medication_keys_of_references(reference: str, key: str | None) -> None:
    assert medication_key(reference, BASE) == key


def test_references_of_the_patient_are_not_medications() -> None:
    assert medication_key(f"Patient/{PATIENT}", BASE) is None
