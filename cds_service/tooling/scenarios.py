"""Scenario fixtures: read a scenario folder, shift its times to "now", build the hook request and a
FHIR transaction Bundle of the same data.

A scenario is a folder `fixtures/scenarios/<id>/` with `scenario.yaml` (metadata and the expected outcome) and
`request.json` (the CDS Hooks request, times written against the scenario's `anchor`). fixtures/README.md
documents the format. Every FHIR date, dateTime and instant is moved by (now - anchor), so fixtures never
go stale and ages (birthDate) hold.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from cds_service.errors import CrsCdsError

SCENARIO_FILE = "scenario.yaml"
REQUEST_FILE = "request.json"
SERVICE_HOOKS = {
    "crs-patient-view": "patient-view",
    "crs-order-select": "order-select",
    "crs-order-sign": "order-sign",
}
#: The categories that say something about CRS in the patient (what "no CRS card" rules out).
CRS_CATEGORIES = frozenset({"active-crs", "monitoring-window", "monitoring-gap"})
FINDING_EXTENSION = "org.crs-cds.finding"
#: The FHIR server a no-prefetch scenario names (loopback: allowed by the SSRF guard in development mode).
DEFAULT_FHIR_SERVER = "http://127.0.0.1:8099/fhir"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


class ScenarioError(CrsCdsError):
    """A scenario folder is malformed (missing file, bad YAML or JSON, unknown field value)."""


@dataclass(frozen=True, slots=True)
class ExpectedCard:
    """One card the scenario expects; fields left None are not compared."""

    category: str
    indicator: str
    astct_grade: int | None = None
    astct_grade_is_minimum: bool | None = None
    drug: str | None = None
    icans_grade: int | None = None
    icans_grade_is_minimum: bool | None = None
    suggests: tuple[str, ...] = ()  # words each of which some suggestion label of the card contains
    says: tuple[str, ...] = ()  # words each of which the card's summary contains

    def matches(self, card: CardSummary) -> bool:
        """Whether a card has this category, indicator, (when given) grade, minimum flag and drug, a suggestion
        label containing each of the `suggests` words and a summary containing each of the `says` words
        (case-insensitive)."""
        labels = [label.lower() for label in card.suggestion_labels]
        if not all(any(word.lower() in label for label in labels) for word in self.suggests):
            return False
        if not all(word.lower() in card.summary.lower() for word in self.says):
            return False
        checks = [
            (self.category, card.category),
            (self.indicator, card.indicator),
            (self.astct_grade, card.astct_grade),
            (self.astct_grade_is_minimum, card.astct_grade_is_minimum),
            (self.drug, card.drug),
            (self.icans_grade, card.icans_grade),
            (self.icans_grade_is_minimum, card.icans_grade_is_minimum),
        ]
        return all(wanted is None or wanted == actual for wanted, actual in checks)

    def describe(self) -> str:
        return describe_card(
            self.category, self.indicator, self.astct_grade, self.astct_grade_is_minimum, self.drug,
            icans=(self.icans_grade, self.icans_grade_is_minimum),
        ) + "".join(f" suggesting '{word}'" for word in self.suggests) + "".join(
            f" saying '{word}'" for word in self.says
        )


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What the validation compares of an issued card (read from its finding extension)."""

    category: str | None
    indicator: str
    astct_grade: int | None
    astct_grade_is_minimum: bool | None
    drug: str | None
    icans_grade: int | None = None
    icans_grade_is_minimum: bool | None = None
    suggestion_labels: tuple[str, ...] = ()
    summary: str = ""

    def describe(self) -> str:
        return describe_card(
            self.category or "?", self.indicator, self.astct_grade, self.astct_grade_is_minimum, self.drug,
            icans=(self.icans_grade, self.icans_grade_is_minimum),
        )


@dataclass(frozen=True, slots=True)
class Expectation:
    cards: tuple[ExpectedCard, ...] = ()
    exact: bool = False
    no_crs_card: bool = False

    def describe(self) -> str:
        parts = [card.describe() for card in self.cards]
        if self.no_crs_card:
            parts.append("no CRS card")
        text = ", ".join(parts) or "no card"
        return f"{text} (only)" if self.exact and self.cards else text


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    service: str
    provenance: str
    anchor: datetime
    expectation: Expectation
    request: dict[str, Any]
    folder: Path
    no_prefetch: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    known_failure: str | None = None

    @property
    def hook(self) -> str:
        return SERVICE_HOOKS[self.service]


def describe_card(
    category: str,
    indicator: str,
    grade: int | None,
    minimum: bool | None,
    drug: str | None,
    *,
    icans: tuple[int | None, bool | None] = (None, None),
) -> str:
    """Short text of a card: "active-crs/critical G>=2 teclistamab", "active-icans/critical I3 axicabtagene..."."""
    text = f"{category}/{indicator}"
    if grade is not None:
        text += f" G{'>=' if minimum else ''}{grade}"
    if icans[0] is not None:
        text += f" I{'>=' if icans[1] else ''}{icans[0]}"
    return f"{text} {drug}" if drug else text


# ---------------------------------------------------------------- loading


def scenario_folders(fixtures_dir: Path) -> list[Path]:
    """Every folder under fixtures_dir/scenarios holding a scenario.yaml, sorted by name."""
    root = fixtures_dir / "scenarios"
    return sorted(p.parent for p in root.glob(f"*/{SCENARIO_FILE}")) if root.is_dir() else []


def load_scenarios(fixtures_dir: Path) -> list[Scenario]:
    """Load every scenario under fixtures_dir/scenarios (raises ScenarioError on the first bad one)."""
    return [load_scenario(folder) for folder in scenario_folders(fixtures_dir)]


def load_scenario(folder: Path) -> Scenario:
    """Read one scenario folder: scenario.yaml and request.json (with its background chart merged in)."""
    meta = _read_yaml(folder / SCENARIO_FILE)
    request = _read_json(folder / REQUEST_FILE)
    try:
        service = str(meta["service"])
        if service not in SERVICE_HOOKS:
            raise ScenarioError(f"{folder.name}: unknown service '{service}'")
        background = meta.get("background")
        if background:
            merge_background(request, _read_json(_background_path(folder, str(background))))
        return Scenario(
            id=str(meta.get("id", folder.name)),
            title=str(meta["title"]),
            service=service,
            provenance=str(meta["provenance"]).strip(),
            anchor=_aware(meta["anchor"], folder.name),
            expectation=_expectation(meta["expected"], folder.name),
            request=request,
            folder=folder,
            no_prefetch=bool(meta.get("no_prefetch", False)),
            settings=dict(meta.get("settings") or {}),
            known_failure=meta.get("known_failure"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{folder.name}/{SCENARIO_FILE}: missing or invalid field ({exc})") from exc


def _expectation(raw: Any, name: str) -> Expectation:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{name}: 'expected' must be a mapping")
    cards = tuple(_expected_card(item) for item in raw.get("cards") or ())
    return Expectation(
        cards=cards, exact=bool(raw.get("exact", False)), no_crs_card=bool(raw.get("no_crs_card"))
    )


def _expected_card(item: dict[str, Any]) -> ExpectedCard:
    grade = item.get("astct_grade")
    minimum = item.get("astct_grade_is_minimum")
    icans, icans_minimum = item.get("icans_grade"), item.get("icans_grade_is_minimum")
    return ExpectedCard(
        category=str(item["category"]),
        indicator=str(item["indicator"]),
        astct_grade=None if grade is None else int(grade),
        astct_grade_is_minimum=None if minimum is None else bool(minimum),
        drug=item.get("drug"),
        icans_grade=None if icans is None else int(icans),
        icans_grade_is_minimum=None if icans_minimum is None else bool(icans_minimum),
        suggests=tuple(str(word) for word in item.get("suggests") or ()),
        says=tuple(str(word) for word in item.get("says") or ()),
    )


def _background_path(folder: Path, name: str) -> Path:
    return folder.parent.parent / "background" / "charts" / f"{name}.json"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping")
    return data


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a JSON object")
    return data


def _aware(value: Any, name: str) -> datetime:
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if moment.tzinfo is None:
        raise ScenarioError(f"{name}: anchor must carry a time zone")
    return moment


# ---------------------------------------------------------------- background charts


def merge_background(request: dict[str, Any], chart: dict[str, Any]) -> None:
    """Append a background chart's resources (by prefetch key) to the request's prefetch, for its patient.

    The chart writes its subject as "Patient/{{patient}}"; keys whose prefetch value is not a Bundle (for
    example an OperationOutcome standing for unreadable data) are left alone.
    """
    prefetch = request.get("prefetch")
    patient_id = str(request.get("context", {}).get("patientId", ""))
    if not isinstance(prefetch, dict):
        return
    for key, resources in chart.get("resources", {}).items():
        text = json.dumps(resources).replace("{{patient}}", patient_id)
        value = prefetch.get(key)
        if value is None:
            value = prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            value.setdefault("entry", []).extend({"resource": r} for r in json.loads(text))


# ---------------------------------------------------------------- times


def shift_times(value: Any, delta: timedelta) -> Any:
    """A copy of a JSON value with every FHIR date (YYYY-MM-DD), dateTime and instant moved by delta.

    Dates move by delta rounded to whole days; partial dates (YYYY, YYYY-MM) and other strings are unchanged.
    """
    if isinstance(value, dict):
        return {key: shift_times(item, delta) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_times(item, delta) for item in value]
    if isinstance(value, str):
        return _shift_text(value, delta)
    return value


def _shift_text(text: str, delta: timedelta) -> str:
    if _DATE.match(text):
        return (date.fromisoformat(text) + timedelta(days=round(delta / timedelta(days=1)))).isoformat()
    if _DATETIME.match(text):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) + delta
        shifted = moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds")
        return shifted.replace("+00:00", "Z") if text.endswith("Z") else shifted
    return text


def default_now() -> datetime:
    """The current time, to the second (the validation run's fixed clock)."""
    return datetime.now(UTC).replace(microsecond=0)


# ---------------------------------------------------------------- requests and bundles


def build_request(
    scenario: Scenario, now: datetime, *, fhir_server: str = DEFAULT_FHIR_SERVER
) -> dict[str, Any]:
    """The hook request, times shifted to `now`; a no-prefetch scenario names a FHIR server instead."""
    request: dict[str, Any] = shift_times(copy.deepcopy(scenario.request), now - scenario.anchor)
    if scenario.no_prefetch:
        request.pop("prefetch", None)
        request["fhirServer"] = fhir_server
        request["fhirAuthorization"] = {
            "access_token": "scenario-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "crs-cds",
            "patient": request["context"]["patientId"],
        }
    return request


def prefetch_resources(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every FHIR resource of the prefetch (a resource or a Bundle's entries), OperationOutcomes left out."""
    for value in (request.get("prefetch") or {}).values():
        if not isinstance(value, dict):
            continue
        if value.get("resourceType") == "Bundle":
            yield from (
                e["resource"] for e in value.get("entry") or () if isinstance(e.get("resource"), dict)
            )
        elif value.get("resourceType") not in (None, "OperationOutcome"):
            yield value


def transaction_bundle(request: dict[str, Any]) -> dict[str, Any]:
    """A FHIR transaction Bundle (one PUT per resource, unique by type and id) of the prefetch data."""
    seen: dict[str, dict[str, Any]] = {}
    for resource in prefetch_resources(request):
        if resource.get("id"):
            seen.setdefault(f"{resource['resourceType']}/{resource['id']}", resource)
    entries = [
        {"fullUrl": url, "resource": resource, "request": {"method": "PUT", "url": url}}
        for url, resource in seen.items()
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def scenario_bundle(scenario: Scenario, now: datetime) -> dict[str, Any]:
    """The transaction Bundle of a scenario's data with times shifted to `now` (for loading a FHIR server)."""
    with_prefetch = shift_times(copy.deepcopy(scenario.request), now - scenario.anchor)
    return transaction_bundle(with_prefetch)


# ---------------------------------------------------------------- comparing


def summarise_cards(response: dict[str, Any]) -> list[CardSummary]:
    """The compared fields of every card of a hook response."""
    return [_summary(card) for card in response.get("cards") or ()]


def _summary(card: dict[str, Any]) -> CardSummary:
    finding = (card.get("extension") or {}).get(FINDING_EXTENSION) or {}
    drug = finding.get("drug") or {}
    grade, icans = finding.get("astctGrade"), finding.get("icansGrade")
    return CardSummary(
        category=finding.get("category"),
        indicator=str(card.get("indicator")),
        astct_grade=None if grade is None else int(grade),
        astct_grade_is_minimum=finding.get("astctGradeIsMinimum"),
        drug=drug.get("id"),
        icans_grade=None if icans is None else int(icans),
        icans_grade_is_minimum=finding.get("icansGradeIsMinimum"),
        suggestion_labels=tuple(str(s.get("label", "")) for s in card.get("suggestions") or ()),
        summary=str(card.get("summary", "")),
    )


def compare(expectation: Expectation, cards: list[CardSummary]) -> list[str]:
    """What differs between the expectation and the issued cards (empty when the scenario passes)."""
    problems: list[str] = []
    unmatched = list(cards)
    for wanted in expectation.cards:
        hit = next((card for card in unmatched if wanted.matches(card)), None)
        if hit is None:
            problems.append(f"missing {wanted.describe()}")
        else:
            unmatched.remove(hit)
    if expectation.exact:
        problems += [f"unexpected {card.describe()}" for card in unmatched]
    if expectation.no_crs_card:
        problems += [f"CRS card {card.describe()}" for card in cards if card.category in CRS_CATEGORIES]
    return problems
