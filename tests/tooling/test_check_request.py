"""`crs-cds check-request`: R4 problems for integrators, and whether the service could still read the request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.cli import main

SANDBOX_DRAFT = {
    "resourceType": "MedicationRequest",
    "id": "sandbox-1",
    "status": "draft",
    "category": {"coding": [{"code": "inpatient"}]},
    "subject": {"reference": "Patient/p1"},
    "medicationCodeableConcept": {"text": "teclistamab"},
}


def request(*drafts: dict[str, Any], administrations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "hookInstance": "3f1c",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "name": [{"given": [""]}]},
            "medicationAdministrations": {"resourceType": "Bundle", "type": "searchset",
                                          "entry": [{"resource": a} for a in administrations or []]},
        },
    }


def run(tmp_path: Path, body: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    status = main(["check-request", str(path)])
    return status, capsys.readouterr().out


def test_the_sandbox_draft_is_not_r4_but_the_service_can_read_it(tmp_path, capsys):
    status, out = run(tmp_path, request(SANDBOX_DRAFT), capsys)
    assert status == 0
    assert "MedicationRequest/sandbox-1  category" in out
    assert "Input should be a valid list" in out
    assert "Patient/p1" in out and "name.0.given.0" in out
    assert out.rstrip().endswith("the service can read what it needs")


def test_a_medication_that_cannot_be_read_makes_the_request_unreadable(tmp_path, capsys):
    broken = {"resourceType": "MedicationAdministration", "id": "ma-1", "status": "completed",
              "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": 42,
              "effectiveDateTime": "2026-11-20T10:00:00Z"}
    status, out = run(tmp_path, request(SANDBOX_DRAFT, administrations=[broken]), capsys)
    assert status == 1
    assert "MedicationAdministration/ma-1: medicationCodeableConcept" in out
    assert "could NOT read" in out


def test_a_body_that_is_not_a_hook_request_is_refused(tmp_path, capsys):
    status, out = run(tmp_path, {"hook": "patient-view"}, capsys)
    assert status == 1
    assert "not a CDS Hooks 2.0 request" in out


def test_a_missing_file_is_exit_2(tmp_path, capsys):
    assert main(["check-request", str(tmp_path / "none.json")]) == 2
