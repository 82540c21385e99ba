"""A coded diagnosis's grade reaches integrators beside the computed one (finding contract `documentedGrade`)."""

from __future__ import annotations

from cds_service.tooling.scenarios import build_request, load_scenario
from tests.conftest import FIXTURES, NOW

FINDING = "org.crs-cds.finding"


def _findings(client, scenario: str) -> dict[str, dict]:
    request = build_request(load_scenario(FIXTURES / "scenarios" / scenario), NOW)
    cards = client.post("/cds-services/crs-patient-view", json=request).json()["cards"]
    return {c["extension"][FINDING]["ruleId"]: c["extension"][FINDING] for c in cards}


def test_a_coded_icans_grade_2_with_no_score_charted_says_grade_2_documented_and_none_computed(client) -> None:
    icans = _findings(client, "icans-coded-diagnosis-g92-02")["icans.active"]
    assert (icans["icansGrade"], icans["documentedGrade"]) == (None, 2)


def test_a_card_without_a_coded_diagnosis_has_no_documented_grade(client) -> None:
    crs = _findings(client, "grade-2-hypotension")["crs.active"]
    assert crs["astctGrade"] == 2 and "documentedGrade" not in crs
