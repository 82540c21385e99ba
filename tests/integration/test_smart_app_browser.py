"""The CRS timeline app in a real browser: Debian chromium (Playwright) launches it from a card's SMART link
against sekmet-fhir loaded with a scenario patient, through a SMART authorization server (authlib) on 127.0.0.1.

What a clinician would notice is checked on the drawn marks (their data-* attributes): the temperatures and the
38.0 °C line, the systolic values and the patient's own threshold (90 mmHg adult; 82 mmHg at 6 years), the
vasopressor bar, the grade the card gave, the card's evidence ringed, a value not usable marked as such,
keyboard focus order, local time with its zone, and the 600 px side-panel layout. Screenshots go to docs/images/.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from browser import chromium_context
from live_service import LiveService
from sekmet_server import SekmetServer, free_port
from smart_gateway import SmartGateway

from cds_service.settings import Settings
from cds_service.tooling.scenarios import build_request, load_scenario, prefetch_resources
from cds_service.web.static import bundle_built
from tests.conftest import FIXTURES, REPO
from tests.integration.conftest import TOKEN

pytestmark = pytest.mark.integration

FINDING = "org.crs-cds.finding"
#: Screenshots for the README go to docs/images/ when CRS_CDS_UPDATE_SCREENSHOTS=1 (so a test run leaves the
#: committed ones alone), else next to the test's temporary files.
UPDATE_SCREENSHOTS = os.environ.get("CRS_CDS_UPDATE_SCREENSHOTS") == "1"
CLIENT_ID = "crs-cds-timeline"
ZONE = "Europe/Berlin"


def _kelvin_temperature(patient: str, when: datetime) -> dict[str, Any]:
    """A temperature in a unit the service does not know: present in the chart, not usable."""
    return {
        "resourceType": "Observation", "id": f"{patient}-temp-kelvin", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when.isoformat().replace("+00:00", "Z"),
        "valueQuantity": {"value": 312.0, "unit": "K", "system": "http://unitsofmeasure.org", "code": "K"},
    }


@pytest.fixture(scope="module")
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _seeded(sekmet: SekmetServer, name: str, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    request = build_request(load_scenario(FIXTURES / "scenarios" / name), now)
    resources = [r for r in prefetch_resources(request) if r.get("id")]
    patient = request["context"]["patientId"]
    extra = _kelvin_temperature(patient, now - timedelta(hours=2))
    sekmet.seed([*resources, extra])
    return request, [*resources, extra]


@pytest.fixture(scope="module")
def stack(sekmet: SekmetServer, tmp_path_factory: pytest.TempPathFactory, now: datetime):
    """crs-cds (serving the built app) and the SMART gateway in front of the seeded sekmet."""
    if not bundle_built():
        pytest.skip("the SMART app bundle is not built (needs npm: make test builds it; or cd smart-app && npm ci "
                    "&& npm run build)")
    adult, adult_resources = _seeded(sekmet, "grade-3-one-vasopressor", now)
    child, _ = _seeded(sekmet, "paediatric-6y-sbp-80-hypotensive", now)
    icans, _ = _seeded(sekmet, "crs-grade-2-with-icans-grade-2", now)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    settings = Settings(
        environment="development", auth_mode="disabled",
        database_url=f"sqlite:///{tmp_path_factory.mktemp('svc') / 's.sqlite3'}",
        smart_app_url=f"{origin}/app/launch.html", smart_client_id=CLIENT_ID,
    )
    service = LiveService(settings, port).start()
    gateway = SmartGateway(
        upstream=sekmet.base_url, upstream_token=TOKEN, app_origin=origin, client_id=CLIENT_ID,
        redirect_uri=f"{origin}/app/index.html", standalone_patient=child["context"]["patientId"], port=free_port(),
    ).start()
    try:
        yield {"service": service, "gateway": gateway, "adult": adult, "adult_resources": adult_resources,
               "child": child, "icans": icans}
    finally:
        gateway.stop()
        service.stop()


def _screenshot(tmp_path: Path, name: str) -> Path:
    folder = REPO / "docs" / "images" if UPDATE_SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _crs_card(service: LiveService, request: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{service.base_url}/cds-services/crs-patient-view", json=request, timeout=30.0)
    response.raise_for_status()
    (card,) = [c for c in response.json()["cards"] if c["extension"][FINDING]["ruleId"] == "crs.active"]
    return card


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    state = page.get_attribute("body", "data-ready")
    assert state == "true", page.inner_text("#error")


def _marks(page: Any, selector: str) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        selector, "els => els.map(e => Object.fromEntries(Object.entries(e.dataset)))")


def _values(resources: list[dict[str, Any]], since: str, code: str, component: str | None = None) -> list[float]:
    """The values of one LOINC code (or of one component) recorded since the timeline's start."""
    start = datetime.fromisoformat(since)
    found = []
    for r in resources:
        if r["resourceType"] != "Observation" or r["code"]["coding"][0]["code"] != code:
            continue
        if datetime.fromisoformat(r["effectiveDateTime"].replace("Z", "+00:00")) < start:
            continue
        if component is None and r.get("valueQuantity", {}).get("code") == "Cel":
            found.append(float(r["valueQuantity"]["value"]))
        for c in r.get("component", []) if component else []:
            if c["code"]["coding"][0]["code"] == component:
                found.append(float(c["valueQuantity"]["value"]))
    return sorted(found)


def test_ehr_launch_from_the_card_draws_the_chart_against_its_thresholds_and_rings_the_cards_evidence(
    stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    service, gateway, request = stack["service"], stack["gateway"], stack["adult"]
    card = _crs_card(service, request)
    (link,) = [link for link in card["links"] if link["type"] == "smart"]
    context = json.loads(link["appContext"])
    patient = request["context"]["patientId"]
    launch = gateway.register_launch(patient, link["appContext"])
    posted: list[dict[str, Any]] = []

    with chromium_context(tmp_path / "profile", viewport={"width": 1280, "height": 800}, timezone_id=ZONE,
                          locale="en-GB") as browser:
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.on("request", lambda r: posted.append({"url": r.url, "headers": r.headers, "body": r.post_data})
                if r.url.endswith("/smart/timeline") else None)
        _open(page, f"{link['url']}?iss={quote(gateway.base_url, safe='')}&launch={launch}")

        # SMART: authorization code with PKCE S256, patient-level scopes, the card's appContext handed over.
        (asked,) = gateway.authorizations[-1:]
        assert asked["code_challenge_method"] == "S256" and asked["launch"] == launch
        assert set(asked["scope"].split()) == {"launch", "patient/*.read"}
        assert gateway.token_responses[-1]["appContext"] == link["appContext"]
        assert gateway.requests and all(r.status == 200 for r in gateway.requests)
        assert all(r.patient_scoped for r in gateway.requests if not r.path.startswith(("Medication/", "metadata")))
        # The token is patient-level: the same token cannot read another patient's chart.
        token = list(gateway.tokens)[-1]
        other = httpx.get(f"{gateway.base_url}/Observation", params={"patient": stack["child"]["context"]["patientId"]},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10.0)
        assert other.status_code == 403
        # The service's access log shows the pages, never the launch id or the authorization code.
        access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
        assert any("/app/index.html" in line for line in access)
        assert not [line for line in access if launch in line or "code=" in line or "state=" in line]
        # The service gets the resources, never the token.
        (call,) = posted
        assert "authorization" not in {k.lower() for k in call["headers"]}
        access_tokens = list(gateway.tokens)
        assert access_tokens and not any(t in (call["body"] or "") for t in access_tokens)

        since = page.get_attribute("body", "data-start")
        temperatures = _marks(page, "[data-series=temperature]")
        expected_temps = _values(stack["adult_resources"], since, "8310-5")
        assert sorted(float(m["value"]) for m in temperatures) == expected_temps
        (fever,) = _marks(page, "[data-threshold=fever]")
        assert fever["value"] == "38"
        assert "fever ≥ 38.0 °C" in page.inner_text("#chart-temperature")

        systolic = _marks(page, "[data-series=systolic]")
        expected_sbp = _values(stack["adult_resources"], since, "85354-9", "8480-6")
        assert sorted(float(m["value"]) for m in systolic) == expected_sbp
        (threshold,) = _marks(page, "[data-series=systolic-threshold]")
        assert (threshold["value"], threshold["group"]) == ("90", "adult")
        assert "hypotension < 90 mmHg (adult)" in page.inner_text("#chart-systolic")

        (pressor,) = _marks(page, "[data-series=vasopressor]")
        assert (pressor["drug"], pressor["running"]) == ("norepinephrine", "true")
        steps = _marks(page, "[data-series=crs]")
        assert steps[-1]["grade"] == str(card["extension"][FINDING]["astctGrade"]) == "3"
        exposures = _marks(page, "[data-series=exposure]")
        assert any(m["drug"] == "axicabtagene-ciloleucel" for m in exposures)
        # The ICANS lane: this chart records no neurological finding, so no ICANS card, and the lane says so.
        icans = _marks(page, "[data-series=icans]")
        assert icans and icans[-1]["severity"] == "none" and icans[-1]["grade"] == "none"
        assert "ICANS grade" in page.inner_text("#chart-lanes")

        # The card's evidence is ringed on the charts and listed as buttons.
        ringed = {m["ref"] for m in _marks(page, "[data-evidence=true]")}
        assert set(context["evidence"]) <= ringed | {pressor["ref"]}
        buttons = page.eval_on_selector_all("#evidence-list button", "bs => bs.map(b => b.dataset.ref)")
        assert buttons == context["evidence"]
        assert "Opened from a card" in page.inner_text("#card")

        # The temperature in kelvin is drawn as not usable and listed with its reason.
        kelvin = f"Observation/{patient}-temp-kelvin"
        (bad,) = _marks(page, f"[data-unusable=true][data-ref='{kelvin}']")
        assert bad["concept"] == "temperature" and "K" in bad["reason"]
        assert "could not be used" in page.inner_text("#unusable").lower() or "not used" in page.inner_text("#unusable")

        # Local time with its zone.
        assert ZONE in page.inner_text("#zone") and ZONE in page.inner_text("#chart-lanes")

        # The page opens on the card: the span drawn is the one around its evidence.
        assert page.get_attribute("[data-span=card]", "aria-pressed") == "true"

        # Keyboard: Tab reaches the evidence buttons in order, the time spans, each chart, then the value table.
        spans = ["Around the card's evidence", "Last 24 h", "Last 72 h", "Whole course"]
        charts = page.eval_on_selector_all("#charts figure", "fs => fs.map(f => f.id)")
        assert charts[:4] == ["chart-lanes", "chart-temperature", "chart-systolic", "chart-oxygen"]
        expected = [*buttons, *spans, *charts, "All values as a table"]
        order = []
        for _ in expected:
            page.keyboard.press("Tab")
            order.append(page.evaluate("() => document.activeElement.dataset.ref || document.activeElement.id "
                                       "|| document.activeElement.textContent.trim()"))
        assert order == expected
        page.focus("#evidence-list button")
        page.keyboard.press("Enter")
        focused = {m["ref"] for m in _marks(page, "[data-focused=true]")}
        assert focused == {buttons[0]}
        assert page.get_attribute("#evidence-list button", "aria-pressed") == "true"

        # The same values as a table, for screen readers and exact reading.
        page.click("#table-box summary")
        table = page.inner_text("#values")
        assert "Temperature: not usable (unit 'K' is not known)" in table
        assert "card evidence" in table and "CRS from here: ASTCT grade 3" in table
        assert "ICANS from here: no ICANS card" in table

        page.screenshot(path=str(_screenshot(tmp_path, "timeline-1280.png")), full_page=True)


def test_standalone_launch_in_a_600_px_side_panel_shows_the_childs_own_threshold_without_sideways_scrolling(
    stack, tmp_path: Path
) -> None:
    service, gateway = stack["service"], stack["gateway"]
    with chromium_context(tmp_path / "profile", viewport={"width": 600, "height": 900}, timezone_id=ZONE,
                          locale="en-GB") as browser:
        page = browser.pages[0] if browser.pages else browser.new_page()
        _open(page, f"{service.base_url}/app/launch.html?iss={quote(gateway.base_url, safe='')}")

        assert set(gateway.authorizations[-1]["scope"].split()) == {"launch/patient", "patient/*.read"}
        assert gateway.token_responses[-1]["patient"] == stack["child"]["context"]["patientId"]
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 600
        widths = page.eval_on_selector_all("#charts svg", "s => s.map(e => e.getBoundingClientRect().width)")
        assert widths and all(w <= 600 for w in widths)
        (threshold,) = _marks(page, "[data-series=systolic-threshold]")
        assert (threshold["value"], threshold["group"]) == ("82", "age 6 years")
        below = [m for m in _marks(page, "[data-series=systolic]") if float(m["value"]) < 82]
        assert below, "the child's hypotensive systolic is drawn below its own threshold"
        assert _marks(page, "[data-series=crs]")[-1]["grade"] == "2"
        assert page.is_hidden("#card")  # no card: the evidence shown is the current finding's
        assert page.inner_text("#evidence-title") == "Evidence of the current finding"
        page.screenshot(path=str(_screenshot(tmp_path, "timeline-panel-600.png")), full_page=True)


def test_launch_without_an_ehr_offers_the_standalone_form_with_the_focus_in_it(stack, tmp_path: Path) -> None:
    with chromium_context(tmp_path / "profile", viewport={"width": 600, "height": 700}) as browser:
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.goto(f"{stack['service'].base_url}/app/launch.html")
        page.wait_for_selector("#standalone:not([hidden])")
        assert page.evaluate("() => document.activeElement.id") == "iss"
        assert "choose a FHIR server" in page.inner_text("#launch-status")


def test_ehr_launch_from_an_icans_card_draws_the_icans_grade_and_the_ice_score(stack, tmp_path: Path) -> None:
    service, gateway, request = stack["service"], stack["gateway"], stack["icans"]
    response = httpx.post(f"{service.base_url}/cds-services/crs-patient-view", json=request, timeout=30.0)
    (card,) = [c for c in response.json()["cards"] if c["extension"][FINDING]["ruleId"] == "icans.active"]
    (link,) = [link for link in card["links"] if link["type"] == "smart"]
    assert json.loads(link["appContext"])["icansGrade"] == card["extension"][FINDING]["icansGrade"] == 2
    launch = gateway.register_launch(request["context"]["patientId"], link["appContext"])
    with chromium_context(tmp_path / "profile", viewport={"width": 1280, "height": 800}, timezone_id=ZONE,
                          locale="en-GB") as browser:
        page = browser.pages[0] if browser.pages else browser.new_page()
        _open(page, f"{link['url']}?iss={quote(gateway.base_url, safe='')}&launch={launch}")
        lane = _marks(page, "[data-series=icans]")
        assert (lane[-1]["grade"], lane[-1]["severity"]) == ("2", "critical")  # the card's grade, from its rule
        (ice,) = _marks(page, "[data-series=ice]")
        assert float(ice["value"]) == 6 and ice["evidence"] == "true"  # the card cited it: ringed
        assert _marks(page, "[data-series=crs]")[-1]["grade"] == "2"
        assert page.inner_text("#card-text").startswith("ICANS card: ASTCT grade 2.")  # the card's own grade
        assert "now gives" not in page.inner_text("#card-text")  # nothing changed since the card
        assert "ICANS: ASTCT grade 2." in page.inner_text("#now-text")
        page.click("#table-box summary")
        assert "ICANS from here: ASTCT grade 2" in page.inner_text("#values")
        page.screenshot(path=str(_screenshot(tmp_path, "timeline-icans-1280.png")), full_page=True)
