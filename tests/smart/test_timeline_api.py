"""POST /smart/timeline and GET /smart/config over HTTP: the page's one service call."""

from __future__ import annotations

import json
import logging

import pytest

from cds_service.settings import Settings
from cds_service.tooling.scenarios import build_request, load_scenario, prefetch_resources, scenario_folders
from tests.conftest import FIXTURES, NOW, make_client
from tests.smart.chart_kit import PATIENT, rising_crs_chart

FINDING = "org.crs-cds.finding"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    settings = Settings(environment="development", auth_mode="disabled",
                        database_url=f"sqlite:///{tmp_path_factory.mktemp('tl') / 's.sqlite3'}",
                        smart_app_url="https://crs.example.org/app/launch.html")
    with make_client(settings) as client:
        yield client


def post(client, resources, **extra):
    return client.post("/smart/timeline", json={"resources": resources, "patientId": PATIENT, **extra})


def test_the_timeline_answers_steps_series_thresholds_and_the_finding_now(app_client) -> None:
    body = post(app_client, rising_crs_chart()).json()
    assert [s["grade"] for s in body["crs"]][-3:] == [1, 2, 3]
    assert body["thresholds"]["feverCelsius"] == 38.0
    assert body["thresholds"]["systolic"][0]["value"] == 90.0
    assert [p["value"] for p in body["series"]["systolic"]] == [118.0, 84.0, 78.0]
    assert body["series"]["systolic"][1]["reference"] == "Observation/bp-2"
    assert body["vasopressors"][0]["id"] == "norepinephrine" and body["vasopressors"][0]["end"] is None
    assert body["finding"]["astctGrade"] == 3
    assert "Observation/bp-3" in [e["reference"] for e in body["finding"]["evidence"]]
    assert [(s["severity"], s["grade"]) for s in body["icans"]] == [(None, None)]  # no neuro finding: no ICANS card
    assert body["now"] == NOW.isoformat()


def _patient_view_scenarios():
    scenarios = [load_scenario(f) for f in scenario_folders(FIXTURES)]
    return [s for s in scenarios if s.service == "crs-patient-view" and not s.no_prefetch and not s.settings]


@pytest.mark.parametrize("scenario", _patient_view_scenarios(), ids=lambda s: s.id)
def test_the_timeline_ends_on_the_grade_of_the_card_for_every_scenario(app_client, scenario) -> None:
    request = build_request(scenario, NOW)
    cards = app_client.post("/cds-services/crs-patient-view", json=request).json()["cards"]
    status = [c["extension"][FINDING] for c in cards if c["extension"][FINDING]["ruleId"].startswith("crs.")
              and c["extension"][FINDING]["ruleId"] != "crs.monitoring-gap"]
    body = post(app_client, list(prefetch_resources(request))).json()
    last = body["crs"][-1]
    icans = [c for c in cards if c["extension"][FINDING]["ruleId"] == "icans.active"]
    neuro = body["icans"][-1]
    assert neuro["end"] == body["now"]
    if icans:
        assert (neuro["severity"], neuro["grade"], neuro["isMinimum"]) == (
            icans[0]["indicator"], icans[0]["extension"][FINDING]["icansGrade"],
            icans[0]["extension"][FINDING]["icansGradeIsMinimum"])
    else:
        assert neuro["severity"] is None
    if not status and icans:  # a quiet CRS window is not carded beside an ICANS card; the timeline still says it
        assert (last["ruleId"], last["severity"], last["grade"]) == ("crs.monitoring-window", "info", None)
        return
    if not status:
        assert last["ruleId"] is None
        return
    assert (last["ruleId"], last["grade"], last["isMinimum"]) == (
        status[0]["ruleId"], status[0]["astctGrade"], status[0]["astctGradeIsMinimum"])


def test_only_json_is_accepted(app_client) -> None:
    response = app_client.post("/smart/timeline", content=json.dumps({"resources": []}),
                               headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_too_many_resources_get_413(app_client) -> None:
    response = post(app_client, [{"resourceType": "Basic"}] * 20_001)
    assert response.status_code == 413


def test_an_unknown_field_is_refused_with_its_name(app_client) -> None:
    response = app_client.post("/smart/timeline", json={"resources": [], "token": "x"})
    assert response.status_code == 400
    assert "token" in json.dumps(response.json()["issue"][0].get("expression", []))


def test_no_chart_data_reaches_the_log(app_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    assert post(app_client, rising_crs_chart()).status_code == 200
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "timeline computed" in logged
    for secret in (PATIENT, "bp-2", "84", "38.6", "1968"):
        assert secret not in logged


def test_the_config_names_the_client_id_and_patient_read_scopes(app_client) -> None:
    config = app_client.get("/smart/config").json()
    assert config["clientId"] == "crs-cds-timeline"
    assert "patient/*.read" in config["scopes"]["ehr"] and "launch" in config["scopes"]["ehr"].split()
    assert "launch/patient" in config["scopes"]["standalone"].split()
    assert 14 < config["lookbackDays"] <= 61


def test_crs_status_cards_carry_the_finding_in_the_smart_links_app_context(app_client) -> None:
    request = build_request(load_scenario(FIXTURES / "scenarios" / "grade-3-one-vasopressor"), NOW)
    cards = app_client.post("/cds-services/crs-patient-view", json=request).json()["cards"]
    (card,) = [c for c in cards if c["extension"][FINDING]["ruleId"] == "crs.active"]
    (link,) = [link for link in card["links"] if link["type"] == "smart"]
    assert link["url"] == "https://crs.example.org/app/launch.html"
    context = json.loads(link["appContext"])
    assert context["ruleId"] == "crs.active" and context["astctGrade"] == 3
    assert context["evidence"] == list(dict.fromkeys(
        e["reference"] for e in card["extension"][FINDING]["evidence"] if "reference" in e))
    assert all("/" in ref for ref in context["evidence"])  # references only, never values


def test_other_cards_keep_a_plain_smart_link(app_client) -> None:
    request = build_request(load_scenario(FIXTURES / "scenarios" / "unreadable-vital-signs"), NOW)
    cards = app_client.post("/cds-services/crs-patient-view", json=request).json()["cards"]
    gap = [c for c in cards if c["extension"][FINDING]["ruleId"] == "data.unreadable"]
    assert gap and all("appContext" not in link for link in gap[0]["links"] if link["type"] == "smart")


def test_a_malformed_resource_is_skipped_and_the_rest_still_drawn(app_client) -> None:
    broken = {"resourceType": "Observation", "id": "bad", "status": "final", "code": {"coding": "not-a-list"},
              "effectiveDateTime": "2026-11-24T10:00:00Z", "valueQuantity": {"value": 39}}
    body = post(app_client, [*rising_crs_chart(), broken]).json()
    assert body["crs"][-1]["grade"] == 3
    assert [p["reference"] for p in body["series"]["temperature"]] == ["Observation/t-1", "Observation/t-2",
                                                                       "Observation/t-3"]


def test_resources_that_are_not_json_objects_are_refused(app_client) -> None:
    response = post(app_client, ["Observation/1", 42])
    assert response.status_code == 400


def test_json_nested_deeper_than_the_limit_is_refused_before_any_parsing(app_client) -> None:
    deep: dict = {"resourceType": "Basic"}
    for _ in range(80):
        deep = {"x": deep}
    response = post(app_client, [deep])
    assert response.status_code == 400


@pytest.mark.parametrize("far", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59+14:00"])
def test_a_value_dated_in_year_9999_leaves_the_timeline_as_it_was(app_client, far) -> None:
    """A corrupt far-future time (past the year 9000: not a chart time, and a window added to it would pass the
    last instant a datetime holds) is unreadable: the timeline answers, with the grades of the chart without it."""
    chart = rising_crs_chart()
    vitals = chart[-1]["entry"]
    stray = {**vitals[0]["resource"], "id": "far-1", "effectiveDateTime": far}
    plain, with_stray = post(app_client, chart), post(app_client, [*chart, stray])
    assert with_stray.status_code == 200, with_stray.text
    assert [s["grade"] for s in with_stray.json()["crs"]] == [s["grade"] for s in plain.json()["crs"]]
