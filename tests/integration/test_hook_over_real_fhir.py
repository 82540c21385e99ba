"""Whole hook calls over HTTP whose data comes from a real FHIR server (sekmet-fhir on 127.0.0.1).

The same scenario, answered once from full prefetch and once with no prefetch at all (everything fetched with the
access token), must give the same cards; a wrong token must give a card saying what could not be read.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sekmet_server import SekmetServer

from cds_service.settings import Settings
from cds_service.tooling.scenarios import build_request, load_scenario, prefetch_resources
from tests.conftest import FIXTURES, NOW, make_client
from tests.integration.conftest import TOKEN

pytestmark = pytest.mark.integration

SCENARIOS = ["grade-3-one-vasopressor", "medication-contained", "paediatric-6y-sbp-80-hypotensive"]


def _without_ids(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = copy.deepcopy(cards)
    for card in cleaned:
        card.pop("uuid", None)
        for suggestion in card.get("suggestions", []):
            suggestion.pop("uuid", None)
    return cleaned


def _seeded_request(sekmet: SekmetServer, name: str) -> dict[str, Any]:
    scenario = load_scenario(FIXTURES / "scenarios" / name)
    request = build_request(scenario, NOW)
    resources = [r for r in prefetch_resources(request) if r.get("id")]
    sekmet.seed(resources)
    return request


def _no_prefetch(request: dict[str, Any], sekmet: SekmetServer, token: str) -> dict[str, Any]:
    fetched = copy.deepcopy(request)
    fetched.pop("prefetch")
    fetched["fhirServer"] = sekmet.base_url
    fetched["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                    "scope": "patient/*.read", "subject": "crs-cds",
                                    "patient": request["context"]["patientId"]}
    return fetched


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_prefetch_against_the_real_server_gives_the_same_cards_as_full_prefetch(sekmet, tmp_path, name):
    request = _seeded_request(sekmet, name)
    settings = Settings(environment="development", auth_mode="disabled", fhir_deadline_seconds=10.0,
                        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
                        repeat_hours=0)  # the same chart twice: both answers interrupt, so they can be compared
    with make_client(settings) as client:
        service = "crs-" + request["hook"]
        with_prefetch = client.post(f"/cds-services/{service}", json=request)
        fetched = client.post(f"/cds-services/{service}", json=_no_prefetch(request, sekmet, TOKEN))
    assert with_prefetch.status_code == fetched.status_code == 200
    assert with_prefetch.json()["cards"], f"{name}: the scenario must produce cards"
    assert _without_ids(fetched.json()["cards"]) == _without_ids(with_prefetch.json()["cards"])


def test_a_wrong_token_gives_a_card_saying_what_could_not_be_read(sekmet, tmp_path):
    request = _seeded_request(sekmet, "grade-3-one-vasopressor")
    partial = _no_prefetch(request, sekmet, "not-the-token")
    partial["prefetch"] = {"patient": request["prefetch"]["patient"]}
    settings = Settings(environment="development", auth_mode="disabled", fhir_deadline_seconds=10.0,
                        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    with make_client(settings) as client:
        response = client.post("/cds-services/crs-patient-view", json=partial)
    assert response.status_code == 200
    gap = [c for c in response.json()["cards"] if c["extension"]["org.crs-cds.finding"]["category"] == "data-gap"]
    assert len(gap) == 1 and gap[0]["indicator"] == "info"
    assert "could not be read" in gap[0]["summary"] + gap[0]["detail"]
