"""Inputs that once made the service answer 500 (found by a mutation fuzz and by hand): each must now be a 200 or a
4xx with an OperationOutcome, and never put request text into the logs."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest

from tests.conftest import load_json, make_client

CRASH_FILES = sorted((Path(__file__).parent / "crash_inputs").glob("*.json"))
BASE = "examples/order-sign-teclistamab.json"


def _with(mutate) -> dict:
    request = copy.deepcopy(load_json(BASE))
    mutate(request)
    return request


def _draft(request: dict) -> dict:
    return request["context"]["draftOrders"]["entry"][0]


HAND_MADE = {
    "entry-search-is-a-string": lambda r: _draft(r).__setitem__("search", "match"),
    "bundle-entry-is-a-number": lambda r: r["context"]["draftOrders"].__setitem__("entry", 5),
    "verification-coding-is-a-number": lambda r: r["prefetch"].__setitem__("conditions", {
        "resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
            "resourceType": "Condition", "id": "c1", "verificationStatus": {"coding": 5}}}]}),
    "component-is-a-number": lambda r: r["prefetch"].__setitem__("vitalSigns", {
        "resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
            "resourceType": "Observation", "id": "o1", "status": "final", "component": 5,
            "code": {"coding": 5}}}]}),
    "contained-unknown-type": lambda r: _draft(r)["resource"].__setitem__("contained", [
        {"resourceType": "Quintessa Zyxwarble DOB 1970-01-01", "id": "m1"}]),
    "huge-integer": lambda r: r.__setitem__("extension", {"org.example.n": "HUGE"}),
}


@pytest.fixture
def client(settings):
    with make_client(settings) as test_client:
        yield test_client


@pytest.mark.parametrize("path", CRASH_FILES, ids=[p.stem for p in CRASH_FILES])
def test_fuzz_found_inputs_no_longer_crash(client, path):
    body = path.read_text()
    hook = json.loads(body).get("hook", "patient-view")
    service = {"patient-view": "crs-patient-view", "order-select": "crs-order-select"}.get(hook, "crs-order-sign")
    response = client.post(f"/cds-services/{service}", content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_odd_shapes_in_fhir_data_do_not_crash_and_do_not_leak(client, name, caplog):
    caplog.set_level(logging.DEBUG)
    request = _with(HAND_MADE[name])
    text = json.dumps(request).replace('"HUGE"', "9" * 5000)  # an integer Python's json refuses to convert
    response = client.post("/cds-services/crs-order-sign", content=text, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text[:300]
    assert "Quintessa" not in "\n".join(r.getMessage() for r in caplog.records)


def test_feedback_with_a_timestamp_out_of_range_is_400(client):
    body = {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "0001-01-01T00:00:00+05:00"}]}
    response = client.post("/cds-services/crs-order-sign/feedback", json=body)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
