"""Grades through the HTTP API: a coded diagnosis's grade beside the computed one (`documentedGrade`), and the
raised-intracranial-pressure domain of ASTCT 2019 (focal cerebral oedema grade 3, diffuse grade 4)."""

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


def _icans_of(client, condition_text: str) -> dict:
    from tests.chart_kit import SUBJECT, at, by_rule, car_t_given, cards_of, patient_view, searchset

    condition = {"resourceType": "Condition", "id": "oedema", "subject": SUBJECT, "code": {"text": condition_text},
                 "onsetDateTime": at(2)}
    body = patient_view(medicationAdministrations=searchset(car_t_given(120)), conditions=searchset(condition))
    return by_rule(cards_of(client, body))["icans.active"]


def test_focal_cerebral_oedema_is_icans_grade_3_and_diffuse_oedema_grade_4(client) -> None:
    focal = _icans_of(client, "Focal cerebral oedema on MRI")["extension"][FINDING]
    diffuse = _icans_of(client, "Diffuse cerebral edema with papilledema")["extension"][FINDING]
    unsaid = _icans_of(client, "Cerebral oedema")["extension"][FINDING]
    assert (focal["icansGrade"], diffuse["icansGrade"]) == (3, 4)
    assert unsaid["icansGrade"] == 4  # focal or diffuse not said: the higher grade
    assert focal["icansGradeIsMinimum"] is True  # no ICE recorded: a stated minimum
