"""`crs-cds validate`: run every scenario in fixtures/ through the service and print what it said
against what the scenario expects, as a table (scenario | expected | actual | pass) and a closing
"N passed, M failed" line.

Each scenario is shifted to one fixed "now" (the run's clock) and answered by the same core function as the
HTTP route (`pipeline.answer_hook`). A no-prefetch scenario is served by an in-memory FHIR server built from
its own transaction Bundle.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from cds_service import __version__
from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES_BY_ID
from cds_service.errors import CrsCdsError
from cds_service.settings import Settings
from cds_service.store import SqlStore
from cds_service.tooling.scenarios import (
    DEFAULT_FHIR_SERVER,
    Scenario,
    build_request,
    compare,
    default_now,
    load_scenarios,
    scenario_bundle,
    summarise_cards,
)

#: Settings every scenario runs with (a scenario's `settings:` may override them); explicit values, so the
#: operator's CRS_CDS_* environment does not change a validation run.
BASE_SETTINGS: dict[str, Any] = {
    "environment": "development",
    "auth_mode": "disabled",
    "database_url": "sqlite:///:memory:",
    "min_order_alert_tier": "moderate",
    "grading_window_hours": 24,
    "monitoring_gap_hours": 8,
}


Progress = Callable[[int, int, "ScenarioResult"], None]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: Scenario
    actual: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def scenario_settings(scenario: Scenario, **overrides: Any) -> Settings:
    """The settings a scenario runs with: BASE_SETTINGS, then the scenario's own, then overrides."""
    return Settings(**{**BASE_SETTINGS, **scenario.settings, **overrides})


def fhir_transport(bundle: dict[str, Any], base_url: str = DEFAULT_FHIR_SERVER) -> httpx.MockTransport:
    """An in-memory FHIR server over a transaction Bundle's resources.

    Answers `GET [base]/Type/id` (404 when absent) and `GET [base]/Type?patient=..&category=a,b` (a
    searchset of the resources of that type whose subject or patient is the patient, by category codes);
    `_sort`, `_count` and other parameters are ignored.
    """
    resources = [entry["resource"] for entry in bundle.get("entry", ())]
    base_path = urlsplit(base_url).path.rstrip("/")

    def handler(request: httpx.Request) -> httpx.Response:
        parts = request.url.path[len(base_path) :].strip("/").split("/")
        if len(parts) == 2:
            found = [r for r in resources if r["resourceType"] == parts[0] and r.get("id") == parts[1]]
            if found:
                return httpx.Response(200, json=found[0])
            return httpx.Response(404, json={"resourceType": "OperationOutcome", "issue": []})
        query = parse_qs(urlsplit(str(request.url)).query)
        matches = [r for r in resources if r["resourceType"] == parts[0] and _search_match(r, query)]
        entries = [{"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r} for r in matches]
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": entries})

    return httpx.MockTransport(handler)


def _search_match(resource: dict[str, Any], query: dict[str, list[str]]) -> bool:
    patient = query.get("patient", query.get("subject", [None]))[0]
    if patient is not None:
        wanted = patient if "/" in patient else f"Patient/{patient}"
        refs = {(resource.get(k) or {}).get("reference") for k in ("subject", "patient")}
        if wanted not in refs:
            return False
    category = query.get("category", [None])[0]
    if category is None:
        return True
    codes = {c.get("code") for cat in resource.get("category") or () for c in cat.get("coding") or ()}
    return any(value.split("|")[-1] in codes for value in category.split(","))  # a token OR: "a,b"


async def evaluate_scenario(scenario: Scenario, now: datetime, database_url: str) -> dict[str, Any]:
    """The service's response JSON for a scenario, its times shifted to `now` and the clock fixed there.

    The card audit goes to `database_url` (a file: an in-memory SQLite store is not shared across threads).
    """
    from cds_service.pipeline import answer_hook
    from cds_service.runtime import build_runtime
    from cds_service.tooling.offline import CLI_CALLER

    transport = fhir_transport(scenario_bundle(scenario, now)) if scenario.no_prefetch else None
    settings = scenario_settings(scenario, database_url=database_url)
    runtime = build_runtime(settings, clock=lambda: now, fhir_transport=transport)
    try:
        request = HookRequest.model_validate(build_request(scenario, now))
        response = await answer_hook(request, SERVICES_BY_ID[scenario.service], runtime, CLI_CALLER)
    finally:
        await runtime.aclose()
    return response.model_dump(mode="json")


async def check_scenario(scenario: Scenario, now: datetime, database_url: str) -> ScenarioResult:
    """Evaluate one scenario and compare the cards to its expectation (an error is a failure, not a crash)."""
    try:
        cards = summarise_cards(await evaluate_scenario(scenario, now, database_url))
    except CrsCdsError as exc:
        return ScenarioResult(scenario, f"error: {type(exc).__name__}", (f"error: {exc}",))
    except Exception as exc:  # one broken stage is one failed row, not a crashed report
        name = type(exc).__name__
        return ScenarioResult(scenario, f"crash: {name}", (f"crash: {name}: {exc}",))
    actual = ", ".join(card.describe() for card in cards) or "no card"
    return ScenarioResult(scenario, actual, tuple(compare(scenario.expectation, cards)))


def render_table(results: list[ScenarioResult], *, markdown: bool) -> str:
    """The results as a table (GitHub Markdown, or aligned plain text for a terminal)."""
    rows = [(r.scenario.id, r.scenario.expectation.describe(), r.actual, _verdict(r)) for r in results]
    header = ("scenario", "expected", "actual", "pass")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|---|---|---|"]
        return "\n".join(lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(3)]
    return "\n".join(
        "  ".join(str(cell).ljust(widths[i]) if i < 3 else str(cell) for i, cell in enumerate(row))
        for row in [header, *rows]
    )


def _verdict(result: ScenarioResult) -> str:
    if result.passed:
        return "pass"
    known = f" (known: {result.scenario.known_failure})" if result.scenario.known_failure else ""
    return "FAIL: " + "; ".join(result.problems) + known


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_line(results: list[ScenarioResult]) -> str:
    passed = sum(1 for r in results if r.passed)
    return f"{passed} passed, {len(results) - passed} failed"


def report_markdown(results: list[ScenarioResult], now: datetime, knowledge_version: str) -> str:
    """docs/VALIDATION.md: what the table is, when and with which version it was made, and the table."""
    return "\n".join(
        [
            "# Clinical validation report",
            "",
            f"Generated by `crs-cds validate --report docs/VALIDATION.md` on {now.date().isoformat()} "
            f"(clock {now.isoformat()}), crs-cds {__version__}, knowledge {knowledge_version}.",
            "",
            "Each row is one scenario of `fixtures/scenarios/` (its provenance is in its `scenario.yaml`),",
            "run end to end through the same core function as the HTTP route, with its times shifted to the",
            "clock above. Cards read `category/indicator`, `G<n>` the ASTCT grade (`G>=n` a stated minimum),",
            "then the drug id.",
            "",
            render_table(results, markdown=True),
            "",
            f"**{summary_line(results)}**",
            "",
        ]
    )


def validate_fixtures(
    fixtures_dir: Path, *, now: datetime | None = None, progress: Progress | None = None
) -> list[ScenarioResult]:
    """Run every scenario of `fixtures_dir` at `now` (raises ScenarioError when a folder cannot be read);
    `progress(done, total, result)` is called after each scenario."""
    return asyncio.run(_check_all(load_scenarios(fixtures_dir), now or default_now(), progress))


def write_validation_report(path: Path, results: list[ScenarioResult], now: datetime) -> None:
    """docs/VALIDATION.md: the table with its date, version and knowledge version, then the alert burden on the
    synthetic cohort (tooling/burden.py)."""
    from cds_service.tooling.burden import burden_markdown, measure

    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    burden = burden_markdown(asyncio.run(measure(day)), day)
    path.write_text(report_markdown(results, now, _knowledge_version()) + "\n" + burden, encoding="utf-8")


async def _check_all(
    scenarios: list[Scenario], now: datetime, progress: Progress | None = None
) -> list[ScenarioResult]:
    with tempfile.TemporaryDirectory(prefix="crs-cds-validate-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'audit.sqlite3'}"
        store = SqlStore(database_url)
        store.create_schema()  # a throw-away audit database
        store.dispose()
        results = []
        for index, scenario in enumerate(scenarios, start=1):
            results.append(await check_scenario(scenario, now, database_url))
            if progress is not None:
                progress(index, len(scenarios), results[-1])
        return results


def _knowledge_version() -> str:
    from cds_service.knowledge.loader import load_knowledge

    settings = Settings(**BASE_SETTINGS)
    return str(load_knowledge(settings.knowledge_dir, settings.site_knowledge_file).version)
