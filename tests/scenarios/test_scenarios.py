"""Every scenario of fixtures/scenarios through the HTTP layer, checked against its expectation and the bedside
shape of every card it gets (tests/contract.py `bedside_problems`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.knowledge.loader import load_knowledge
from cds_service.knowledge.schema import NOT_FOR_THE_BEDSIDE
from cds_service.tooling.scenarios import (
    FINDING_EXTENSION,
    Scenario,
    build_request,
    compare,
    load_scenarios,
    scenario_bundle,
    summarise_cards,
)
from cds_service.tooling.validation import fhir_transport, scenario_settings
from tests.conftest import FIXTURES, NOW, REPO, make_client
from tests.contract import bedside_problems

SCENARIOS = load_scenarios(FIXTURES)
_KB = load_knowledge(REPO / "cards")
#: The short labels of aggregator and news sources: never under a card's "Sources".
UNFIT_LABELS = frozenset(s.short or s.id for s in _KB.sources.values() if s.kind in NOT_FOR_THE_BEDSIDE)


def _param(scenario: Scenario) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=scenario.known_failure)] if scenario.known_failure else []
    return pytest.param(scenario, id=scenario.id, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario_gets_the_cards_it_expects(scenario: Scenario, tmp_path: Path) -> None:
    settings = scenario_settings(scenario, database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    transport = fhir_transport(scenario_bundle(scenario, NOW)) if scenario.no_prefetch else None
    with make_client(settings, fhir_transport=transport) as client:
        response = client.post(f"/cds-services/{scenario.service}", json=build_request(scenario, NOW))
    assert response.status_code == 200, response.text
    body = response.json()
    cards = summarise_cards(body)
    problems = compare(scenario.expectation, cards)
    actual = ", ".join(card.describe() for card in cards) or "no card"
    assert not problems, f"{scenario.id}: {'; '.join(problems)} (issued: {actual})"
    assert all(FINDING_EXTENSION in (card.get("extension") or {}) for card in body["cards"])
    shape = {card["summary"]: bedside_problems(card, not_for_the_bedside=UNFIT_LABELS) for card in body["cards"]}
    assert not {k: v for k, v in shape.items() if v}, f"{scenario.id}: cards out of the bedside shape: {shape}"


def test_there_are_at_least_forty_scenarios_with_unique_ids() -> None:
    ids = [s.id for s in SCENARIOS]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario_is_well_formed(scenario: Scenario) -> None:
    """Id = folder name, hook matches the service, every subject is the context patient, provenance given."""
    assert scenario.id == scenario.folder.name
    assert scenario.request["hook"] == scenario.hook
    assert len(scenario.provenance) > 40
    patient = scenario.request["context"]["patientId"]
    bundle = scenario_bundle(scenario, NOW)
    subjects = {
        (entry["resource"].get("subject") or {}).get("reference")
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] != "Patient"
    }
    assert subjects <= {f"Patient/{patient}"}
    assert any(e["resource"]["resourceType"] == "Patient" for e in bundle["entry"])
