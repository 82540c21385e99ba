"""Interrupt once; interrupt again only when something got worse; feedback holds repeats (issue 15), through the
HTTP API with the real store: the memory is in the database, so two workers (two apps on one database) share it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cds_service.settings import Settings
from tests.chart_kit import SUBJECT, at, cards_of, patient, patient_view, searchset, systolic, temperature
from tests.conftest import NOW, make_client


def car_t(hours: float = 72) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration", "id": "axicel", "status": "completed", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "axicabtagene ciloleucel"}, "effectiveDateTime": at(hours),
    }


def grade_1() -> dict[str, Any]:
    return patient_view(patient("1966-02-11"), medicationAdministrations=searchset(car_t()),
                        vitalSigns=searchset(temperature(38.6), systolic(118)))


def grade_2() -> dict[str, Any]:
    return patient_view(patient("1966-02-11"), medicationAdministrations=searchset(car_t()),
                        vitalSigns=searchset(temperature(38.6), systolic(84, oid="bp2")))


def crs(cards: list[dict[str, Any]]) -> dict[str, Any]:
    (card,) = [c for c in cards if c["extension"]["org.crs-cds.finding"]["ruleId"] == "crs.active"]
    return card


def clock_at(moment: datetime) -> Any:
    return lambda: moment


def test_six_opens_of_an_unchanged_chart_interrupt_once(settings: Settings) -> None:
    with make_client(settings) as client:
        answers = [crs(cards_of(client, grade_1())) for _ in range(6)]
    assert [a["indicator"] for a in answers] == ["warning", "info", "info", "info", "info", "info"]
    finding = answers[1]["extension"]["org.crs-cds.finding"]
    assert finding["repeat"] is True and finding["firstShownAt"].startswith(NOW.date().isoformat())
    assert answers[1]["detail"].startswith("**Shown first at 12:00 UTC; nothing worse since.**")
    assert answers[1]["extension"]["org.crs-cds.finding"]["astctGrade"] == 1  # the finding itself is kept
    assert len({a["uuid"] for a in answers}) == 6
    assert "repeat" not in answers[0]["extension"]["org.crs-cds.finding"]


def test_a_worse_grade_interrupts_again_at_once(settings: Settings) -> None:
    with make_client(settings) as client:
        first, again = crs(cards_of(client, grade_1())), crs(cards_of(client, grade_1()))
        worse = crs(cards_of(client, grade_2()))
        after = crs(cards_of(client, grade_2()))
    assert (first["indicator"], again["indicator"]) == ("warning", "info")
    assert worse["indicator"] == "critical" and "repeat" not in worse["extension"]["org.crs-cds.finding"]
    assert after["indicator"] == "info"


def test_after_the_repeat_time_the_same_card_interrupts_again(settings: Settings) -> None:
    with make_client(settings) as client:
        assert crs(cards_of(client, grade_1()))["indicator"] == "warning"
    with make_client(settings, clock=clock_at(NOW + timedelta(hours=13))) as later:
        assert crs(cards_of(later, grade_1()))["indicator"] == "warning"


def test_an_override_already_addressed_holds_repeats_beyond_the_repeat_time(settings: Settings) -> None:
    with make_client(settings) as client:
        first = crs(cards_of(client, grade_1()))
        feedback = {"feedback": [{
            "card": first["uuid"], "outcome": "overridden", "outcomeTimestamp": NOW.isoformat(),
            "overrideReason": {"reason": {"code": "already-addressed", "system": first["overrideReasons"][0]["system"],
                                          "display": "already addressed"}},
        }]}
        assert client.post("/cds-services/crs-patient-view/feedback", json=feedback).status_code == 200
    settings_12h = settings.model_copy(update={"repeat_hours": 1})
    with make_client(settings_12h, clock=clock_at(NOW + timedelta(hours=3))) as later:
        held = crs(cards_of(later, grade_1()))
        worse = crs(cards_of(later, grade_2()))
    assert held["indicator"] == "info"
    assert held["detail"].startswith("**Held after feedback (already addressed) until 20:00 UTC")
    assert worse["indicator"] == "critical"  # a grade increase is never held back


def test_not_clinically_relevant_does_not_hold(settings: Settings) -> None:
    with make_client(settings) as client:
        first = crs(cards_of(client, grade_1()))
        feedback = {"feedback": [{
            "card": first["uuid"], "outcome": "overridden", "outcomeTimestamp": NOW.isoformat(),
            "overrideReason": {"reason": {"code": "not-clinically-relevant", "display": "not clinically relevant"}},
        }]}
        client.post("/cds-services/crs-patient-view/feedback", json=feedback)
    with make_client(settings.model_copy(update={"repeat_hours": 1}), clock=clock_at(NOW + timedelta(hours=3))) as c:
        assert crs(cards_of(c, grade_1()))["indicator"] == "warning"


def test_two_workers_on_one_database_share_the_memory(settings: Settings) -> None:
    with make_client(settings) as worker_1, make_client(settings) as worker_2:
        first = crs(cards_of(worker_1, grade_1()))
        second = crs(cards_of(worker_2, grade_1()))
    assert (first["indicator"], second["indicator"]) == ("warning", "info")


def test_another_patient_is_not_affected(settings: Settings) -> None:
    other = grade_1()
    other["context"]["patientId"] = "someone-else"
    with make_client(settings) as client:
        assert crs(cards_of(client, grade_1()))["indicator"] == "warning"
        assert crs(cards_of(client, other))["indicator"] == "warning"


def _no_fever(*systolics: dict[str, Any]) -> dict[str, Any]:
    return patient_view(patient("1966-02-11"), medicationAdministrations=searchset(car_t()),
                        vitalSigns=searchset(temperature(37.1), *systolics))


def test_one_borderline_systolic_without_other_signs_is_a_warning_that_asks_for_a_repeat(client) -> None:
    card = crs(cards_of(client, _no_fever(systolic(87))))
    assert card["indicator"] == "warning"
    assert "One systolic of 87 mmHg, just below 90 mmHg: confirm with a repeat measurement now." in card["detail"]


def test_a_second_low_reading_or_a_lower_one_is_critical(settings: Settings) -> None:
    with make_client(settings.model_copy(update={"repeat_hours": 0})) as client:
        confirmed = crs(cards_of(client, _no_fever(systolic(87, hours=2, oid="a"), systolic(86, oid="b"))))
        lower = crs(cards_of(client, _no_fever(systolic(82))))
    assert confirmed["indicator"] == "critical" and "confirm with a repeat" not in confirmed["detail"]
    assert lower["indicator"] == "critical"


def ice_score(score: int, hours: float, oid: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"code": "survey"}]}], "code": {"text": "ICE score"}, "subject": SUBJECT,
            "effectiveDateTime": at(hours), "valueInteger": score}


def icans_chart(*, seizure: bool) -> dict[str, Any]:
    conditions = [{"resourceType": "Condition", "id": "sz", "subject": SUBJECT, "code": {"text": "Seizure"},
                   "onsetDateTime": at(0.5)}] if seizure else []
    return patient_view(patient("1966-02-11"), medicationAdministrations=searchset(car_t()),
                        vitalSigns=searchset(temperature(36.9), systolic(118), ice_score(2, 1, "ice-1")),
                        conditions=searchset(*conditions))


def icans(cards: list[dict[str, Any]]) -> dict[str, Any]:
    (card,) = [c for c in cards if c["extension"]["org.crs-cds.finding"]["ruleId"] == "icans.active"]
    return card


def test_a_new_seizure_at_the_same_icans_grade_interrupts_again(settings: Settings) -> None:
    with make_client(settings) as client:
        first, again = icans(cards_of(client, icans_chart(seizure=False))), icans(cards_of(client, icans_chart(
            seizure=False)))
        seizure = icans(cards_of(client, icans_chart(seizure=True)))
    assert (first["indicator"], again["indicator"]) == ("critical", "info")
    grades = [c["extension"]["org.crs-cds.finding"]["icansGrade"] for c in (first, seizure)]
    assert grades == [3, 3]  # ICE 2/10 is grade 3; a seizure that resolves is grade 3 too: same grade, worse
    assert seizure["indicator"] == "critical" and "repeat" not in seizure["extension"]["org.crs-cds.finding"]
