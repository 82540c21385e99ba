"""Golden tests: each card type rendered with fixed uuids and clock equals its reviewed JSON file.

Regenerate after an intended wording change with CRS_CDS_REGENERATE_GOLDEN=1: that run rewrites the files and
fails on purpose (a run that rewrites a golden file never passes); review the diff like code, then run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import rendering_cases as cases
from contract import assert_finding_contract

from cds_service.cdshooks.models import CdsResponse
from cds_service.domain.findings import Finding
from cds_service.rendering.renderer import CardRenderer

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("CRS_CDS_REGENERATE_GOLDEN") == "1"

SCENARIOS: dict[str, Callable[[], list[Finding]]] = {
    "active-crs-grade-2": lambda: [cases.active_crs(2)],
    "active-crs-at-least-grade-3": lambda: [cases.active_crs(3, minimum=True)],
    "active-crs-documented-grade-3": lambda: [cases.active_crs(3, status="documented")],
    "active-crs-no-fever": lambda: [
        cases.active_crs(
            None,
            fever=False,
            hypoxia=False,
            evidence=(
                cases.Evidence("Temperature", "Observation/t-2", "8310-5", 37.4, "Cel", cases.T0),
                cases.Evidence(
                    "Systolic blood pressure", "Observation/bp-2", "8480-6", 84.0, "mm[Hg]", cases.T0
                ),
            ),
            days_since_exposure=2,
            grading_steps=[
                "No temperature of 38.0 °C or more in the last 24 h.",
                "Systolic 84 mmHg below 90 mmHg.",
            ],
        )
    ],
    "active-crs-paediatric-after-tocilizumab": lambda: [
        cases.active_crs(
            1,
            paediatric=True,
            age_years=7.0,
            hypotension_threshold=84.0,
            fever_waived="tocilizumab",
            severity=cases.Severity.warning,
            differential=["iec-hs"],
            signals=[{"id": "crp-suppressed", "treatment": "tocilizumab"}],
        )
    ],
    "monitoring-window-quiet": lambda: [cases.monitoring_window()],
    "monitoring-window-warning-signs": lambda: [
        cases.monitoring_window(
            signals=[
                {
                    "id": "spo2-low-no-o2",
                    "value": 90.0,
                    "threshold": 92,
                    "effective": "2026-11-24T13:05:00+00:00",
                },
                {"id": "ferritin-rising", "from": 800.0, "to": 2400.0, "hours": 24},
                {"id": "ferritin-hlh", "value": 12000.0, "threshold": 10000.0, "effective": "2026-11-24T14:00:00Z"},
            ],
            differential=["iec-hs"],
        )
    ],
    "monitoring-gap": lambda: [cases.monitoring_gap()],
    "data-gap": lambda: [cases.data_gap()],
    "order-risk-high-boxed": lambda: [cases.order_risk()],
    "order-risk-moderate-already-exposed": lambda: [
        cases.order_risk(cases.RITUXIMAB, boxed_warning=False, already_exposed_days=12)
    ],
    "order-risk-missing-premedication-and-baseline": lambda: [cases.order_missing()],
    "pre-infusion-risk": lambda: [cases.pre_infusion_risk()],
    "pre-infusion-risk-not-computable": lambda: [
        cases.pre_infusion_risk(easix=None, m_easix=None, labs={}, missing_labs=["ldh", "platelets"])
    ],
    "active-icans-grade-2": lambda: [cases.active_icans(2)],
    "active-icans-seizure-child": lambda: [
        cases.active_icans(
            3,
            seizure=True,
            with_crs=True,
            age_years=6,
            weight_kg=20.0,
            tool="CAPD",
            domains=[{"name": "seizure", "grade": 3}],
            grading_steps=["Seizure recorded at 03:10: grade 3.", "ICANS grade 3 from the seizure (the worst domain "
                           "sets the grade)."],
        )
    ],
    "order-sign-all-cards-sorted": lambda: [
        cases.pre_infusion_risk(),
        cases.order_missing(),
        cases.order_risk(cases.RITUXIMAB, tier="moderate", boxed_warning=False),
        cases.data_gap(),
    ],
}


def response_json(renderer: CardRenderer, findings: list[Finding]) -> dict[str, object]:
    cards = renderer.render(findings, patient_id="pat-123")
    return CdsResponse(cards=cards).model_dump(mode="json")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rendered_response_matches_its_reviewed_golden_file(renderer: CardRenderer, scenario: str) -> None:
    actual = response_json(renderer, SCENARIOS[scenario]())
    path = GOLDEN / f"{scenario}.json"
    if REGENERATE:
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.fail(f"{path.name} regenerated: review its diff, then run again without CRS_CDS_REGENERATE_GOLDEN")
    assert path.exists(), f"no golden file {path.name}; run with CRS_CDS_REGENERATE_GOLDEN=1 and review it"
    assert actual == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_golden_card_honours_the_finding_contract(renderer: CardRenderer, scenario: str) -> None:
    for card in response_json(renderer, SCENARIOS[scenario]())["cards"]:  # type: ignore[union-attr]
        assert_finding_contract(card)
