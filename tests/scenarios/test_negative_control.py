"""Negative control: 200 seeded synthetic patients with no CRS-associated drug get no CRS card at all."""

from __future__ import annotations

from datetime import timedelta

import anyio
from synthetic_population import population

from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES_BY_ID
from cds_service.settings import Settings
from cds_service.tooling.scenarios import CRS_CATEGORIES, summarise_cards
from cds_service.tooling.validation import BASE_SETTINGS
from tests.conftest import NOW, fixed_clock

POPULATION = 200


async def _false_alerts(requests: list[dict[str, object]]) -> list[str]:
    from cds_service.pipeline import answer_hook
    from cds_service.runtime import build_runtime
    from cds_service.tooling.offline import CLI_CALLER, _memory_store

    runtime = build_runtime(Settings(**BASE_SETTINGS), clock=fixed_clock, store=_memory_store())
    alerts = []
    try:
        for data in requests:
            response = await answer_hook(
                HookRequest.model_validate(data), SERVICES_BY_ID["crs-patient-view"], runtime, CLI_CALLER
            )
            cards = summarise_cards(response.model_dump(mode="json"))
            alerts += [f"{data['context']['patientId']}: {c.describe()}" for c in cards if c.category in CRS_CATEGORIES]  # type: ignore[index]
    finally:
        await runtime.aclose()
    return alerts


def test_population_is_seeded_and_large_enough() -> None:
    first, again = population(NOW, POPULATION), population(NOW, POPULATION)
    assert len(first) == POPULATION
    assert first == again


def test_patients_without_a_crs_drug_get_no_crs_card() -> None:
    alerts = anyio.run(_false_alerts, population(NOW, POPULATION))
    assert not alerts, f"{len(alerts)} false CRS alerts in {POPULATION} patients: {alerts[:10]}"


def test_the_sweep_counts_an_alert_when_a_crs_drug_is_slipped_in() -> None:
    """Positive control: the same machinery reports a CRS card once a patient has received a CAR-T."""
    requests = population(NOW, 3)
    axicel = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1987402"}]}
    given = {
        "resourceType": "MedicationAdministration",
        "id": "slipped-in",
        "status": "completed",
        "subject": {"reference": "Patient/neg-000"},
        "effectiveDateTime": (NOW - timedelta(days=2)).isoformat(),
        "medicationCodeableConcept": axicel,
    }
    requests[0]["prefetch"]["medicationAdministrations"]["entry"].append({"resource": given})  # type: ignore[index]
    alerts = anyio.run(_false_alerts, requests)
    assert alerts
    assert {alert.split(":")[0] for alert in alerts} == {"neg-000"}
