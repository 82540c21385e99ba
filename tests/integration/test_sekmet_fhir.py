"""build_record against a real FHIR R4 server (sekmet-fhir on 127.0.0.1): fetching equals prefetching."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from integration_data import NOW, OTHER_PATIENT, PATIENT, hook_request
from sekmet_server import SekmetServer

from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES_BY_ID, ServiceDefinition
from cds_service.errors import PreconditionFailed
from cds_service.fhir.client import FhirGateway
from cds_service.fhir.prefetch import build_record
from cds_service.intake.record import PatientRecord
from cds_service.knowledge.loader import load_knowledge
from cds_service.reading.concepts import medication_concept
from cds_service.settings import Settings
from tests.integration.conftest import TOKEN

pytestmark = pytest.mark.integration

SERVICE = SERVICES_BY_ID["crs-patient-view"]
_LISTS = (
    "medication_requests",
    "medication_administrations",
    "medication_statements",
    "medication_dispenses",
    "procedures",
    "observations",
    "conditions",
)


#: The real knowledge base: what the service itself would pre-filter with.
KNOWLEDGE = load_knowledge(Path(__file__).resolve().parents[2] / "cards")


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "auth_mode": "disabled",
        "fhir_deadline_seconds": 10.0,
    }
    return Settings(**{**values, **overrides})


def build(request: HookRequest, service: ServiceDefinition = SERVICE, **overrides: Any) -> PatientRecord:
    used = settings(**overrides)

    async def go() -> PatientRecord:
        gateway = FhirGateway.create(used)
        try:
            return await build_record(
                request, service, gateway, fhir_allowed=True, knowledge=KNOWLEDGE, settings=used, now=NOW
            )
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def content(record: PatientRecord) -> dict[str, Any]:
    """The record's resources as JSON, sorted, for comparison (server metadata left out)."""

    def dump(resource: Any) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(resource)  # the intake holds no server metadata
        return data

    result: dict[str, Any] = {
        name: sorted((dump(r) for r in getattr(record, name)), key=lambda d: d["id"]) for name in _LISTS
    }
    result["patient"] = dump(record.patient) if record.patient else None
    result["medications"] = {k: dump(v) for k, v in sorted(record.medications.items())}
    return result


def test_no_prefetch_gives_the_same_record_as_full_prefetch(sekmet: SekmetServer) -> None:
    fetched = build(hook_request(sekmet.base_url, TOKEN, None))
    prefetched = build(hook_request(sekmet.base_url, TOKEN, sekmet.full_prefetch(SERVICE, PATIENT)))
    assert fetched.gaps == [] and prefetched.gaps == [] and fetched.set_aside == []
    assert content(fetched) == content(prefetched)
    assert fetched.patient is not None and fetched.patient.id == PATIENT
    # 4 vital signs (cancelled and 8-day-old dropped; of those older than the 24 h grading window only the
    # newest per concept kept, for its "last seen" time) + 3 labs
    assert len(fetched.observations) == 7
    assert "Medication/axicel" in fetched.medications  # medicationReference read from the server
    assert medication_concept(fetched, fetched.medication_administrations[0]).codings[0].code == "1993637"


def test_another_patients_data_never_enters_the_record(sekmet: SekmetServer) -> None:
    record = build(hook_request(sekmet.base_url, TOKEN, None))
    ids = {r.id for name in _LISTS for r in getattr(record, name)}
    assert ids and not any(i.startswith(OTHER_PATIENT) for i in ids)


def test_partial_prefetch_is_completed_from_the_server(sekmet: SekmetServer) -> None:
    full = sekmet.full_prefetch(SERVICE, PATIENT)
    partial = {k: v for k, v in full.items() if k in ("patient", "labs", "procedures")}
    record = build(hook_request(sekmet.base_url, TOKEN, partial))
    assert record.gaps == []
    assert content(record) == content(build(hook_request(sekmet.base_url, TOKEN, full)))


def test_a_wrong_token_is_reported_as_unauthorized_data_gaps(sekmet: SekmetServer) -> None:
    full = sekmet.full_prefetch(SERVICE, PATIENT)
    partial = {k: v for k, v in full.items() if k == "patient"}
    record = build(hook_request(sekmet.base_url, "wrong-token", partial))
    assert record.patient is not None
    assert {g.key for g in record.gaps} == set(SERVICE.prefetch) - {"patient"}
    assert {g.reason for g in record.gaps} == {"unauthorized"}


def test_a_wrong_token_and_no_prefetch_is_412(sekmet: SekmetServer) -> None:
    with pytest.raises(PreconditionFailed):
        build(hook_request(sekmet.base_url, "wrong-token", None))


def test_small_pages_are_all_followed(sekmet: SekmetServer) -> None:
    small = {
        k: v.replace("_count=200", "_count=2").replace("_count=100", "_count=2")
        for k, v in SERVICE.prefetch.items()
    }
    service = dataclasses.replace(SERVICE, prefetch=small)
    record = build(hook_request(sekmet.base_url, TOKEN, None), service=service)
    assert record.gaps == []
    assert content(record) == content(build(hook_request(sekmet.base_url, TOKEN, None)))


def test_the_page_cap_limits_what_is_read(sekmet: SekmetServer) -> None:
    small = dict(
        SERVICE.prefetch, vitalSigns=SERVICE.prefetch["vitalSigns"].replace("_count=200", "_count=2")
    )
    service = dataclasses.replace(SERVICE, prefetch=small)
    record = build(hook_request(sekmet.base_url, TOKEN, None), service=service, fhir_max_pages=2)
    vitals = {o.id for o in record.observations if "vital-signs" in o.category_codes}
    # the 4 newest (2 pages of 2), less the cancelled one that the pre-filter drops
    assert vitals == {f"{PATIENT}-bp-1", f"{PATIENT}-hr-1", f"{PATIENT}-temp-4"}


def test_a_stopped_server_gives_412_within_the_deadline(stopped_sekmet: SekmetServer) -> None:
    started = time.monotonic()
    with pytest.raises(PreconditionFailed):
        build(hook_request(stopped_sekmet.base_url, TOKEN, None), fhir_deadline_seconds=1.0)
    # A refused connection ends the call within its deadline, retries included; the margin is wide because the CI
    # machine is shared (this tells an answer from a hang, it does not measure speed).
    assert time.monotonic() - started < 1.0 + 10.0


def test_a_stopped_server_with_partial_prefetch_gives_a_partial_record(stopped_sekmet: SekmetServer) -> None:
    patient = {"resourceType": "Patient", "id": PATIENT, "birthDate": "1961-03-02"}
    record = build(
        hook_request(stopped_sekmet.base_url, TOKEN, {"patient": patient}), fhir_deadline_seconds=1.0
    )
    assert record.patient is not None
    assert {g.reason for g in record.gaps} == {"unreachable"}
    assert len(record.gaps) == len(SERVICE.prefetch) - 1
