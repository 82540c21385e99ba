"""The finding contract every card must honour: `assert_finding_contract(card_json)` for any test to call.

`card_json` is one card as sent on the wire (a dict from `Card.model_dump(mode="json")` or a response body).
The contract (README "Finding contract"; cds_service/rendering/renderer.py docstring):

    extension["org.crs-cds.finding"] = {
        "ruleId": str, "category": one of CATEGORIES,
        "astctGrade": 1-4 or null (always present), "astctGradeIsMinimum": bool (always present),
        "drug": {"id", "name", "class", "riskTier"}      optional, all four non-empty strings
        "daysSinceExposure": int >= 0                    optional
        "evidence": [{"reference", "code", "value", "unit", "effective"}]  optional, non-empty, no nulls
    }
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

FINDING_EXTENSION = "org.crs-cds.finding"
CATEGORIES = frozenset(
    {
        "order-risk",
        "active-crs",
        "active-icans",
        "monitoring-window",
        "monitoring-gap",
        "pre-infusion-risk",
        "data-gap",
    }
)
_REQUIRED = {"ruleId", "category", "astctGrade", "astctGradeIsMinimum"}
_OPTIONAL = {"drug", "daysSinceExposure", "evidence", "icansGrade", "icansGradeIsMinimum", "repeat", "firstShownAt",
             "documentedGrade"}
_DRUG_KEYS = {"id", "name", "class", "riskTier"}
_EVIDENCE_KEYS = {"reference", "code", "value", "unit", "effective"}


def assert_suggestions_are_r4(card_json: dict[str, Any]) -> None:
    """Every resource a card's suggestions would create or update validates against FHIR R4 (fhir.resources'
    R4B models: fhir.resources 8 ships no R4 package, and R4B is wire-compatible for these resource types)."""
    from fhir.resources.R4B import get_fhir_model_class

    for suggestion in card_json.get("suggestions", []):
        for action in suggestion.get("actions", []):
            resource = action.get("resource")
            if resource is not None:
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def assert_finding_contract(card_json: dict[str, Any]) -> None:
    """Fail (AssertionError with the reason) unless the card carries a well-formed finding extension."""
    assert isinstance(card_json.get("uuid"), str) and card_json["uuid"], "card without a uuid"
    assert len(card_json.get("summary", "")) < 140, "summary must be under 140 characters"
    finding = (card_json.get("extension") or {}).get(FINDING_EXTENSION)
    assert isinstance(finding, dict), f"card has no extension[{FINDING_EXTENSION!r}]"
    keys = set(finding)
    assert keys >= _REQUIRED, f"finding lacks {sorted(_REQUIRED - keys)}"
    assert keys <= _REQUIRED | _OPTIONAL, f"finding has unknown keys {sorted(keys - _REQUIRED - _OPTIONAL)}"
    assert isinstance(finding["ruleId"], str) and finding["ruleId"], "ruleId must be a non-empty string"
    assert finding["category"] in CATEGORIES, f"unknown category {finding['category']!r}"
    _check_grade(finding)
    if "drug" in finding:
        _check_drug(finding["drug"])
    if "daysSinceExposure" in finding:
        days = finding["daysSinceExposure"]
        assert isinstance(days, int) and not isinstance(days, bool) and days >= 0, (
            "daysSinceExposure must be int >= 0"
        )
    if "evidence" in finding:
        _check_evidence(finding["evidence"])
    _check_icans(finding)


def _check_icans(finding: dict[str, Any]) -> None:
    """icansGrade (1-4 or null) and icansGradeIsMinimum (bool) are on every ICANS card, and only there."""
    is_icans = finding["category"] == "active-icans"
    assert ("icansGrade" in finding) is is_icans, "icansGrade belongs to ICANS cards, always present there"
    assert ("icansGradeIsMinimum" in finding) is is_icans
    if is_icans:
        grade = finding["icansGrade"]
        assert grade is None or (isinstance(grade, int) and 1 <= grade <= 4), f"icansGrade {grade!r}"
        assert isinstance(finding["icansGradeIsMinimum"], bool)
        assert grade is not None or finding["icansGradeIsMinimum"] is False


def _check_grade(finding: dict[str, Any]) -> None:
    grade = finding["astctGrade"]
    assert grade is None or (type(grade) is int and 1 <= grade <= 4), f"astctGrade {grade!r} not 1-4 or null"
    assert isinstance(finding["astctGradeIsMinimum"], bool), "astctGradeIsMinimum must be a bool"
    if grade is None:
        assert finding["astctGradeIsMinimum"] is False, "astctGradeIsMinimum without a grade"


def _check_drug(drug: Any) -> None:
    assert isinstance(drug, dict) and set(drug) == _DRUG_KEYS, f"drug must have exactly {sorted(_DRUG_KEYS)}"
    assert all(isinstance(v, str) and v for v in drug.values()), "drug values must be non-empty strings"
    assert drug["riskTier"] in {"high", "moderate", "low"}, f"riskTier {drug['riskTier']!r}"


def _check_evidence(evidence: Any) -> None:
    assert isinstance(evidence, list) and evidence, "evidence, when present, is a non-empty list"
    for item in evidence:
        assert isinstance(item, dict) and item, "evidence items are non-empty objects"
        assert set(item) <= _EVIDENCE_KEYS, (
            f"evidence item has unknown keys {sorted(set(item) - _EVIDENCE_KEYS)}"
        )
        assert all(v is not None and v != "" for v in item.values()), "evidence items omit absent values"
        if "value" in item:
            assert isinstance(item["value"], int | float | str) and not isinstance(item["value"], bool)
        if "effective" in item:
            moment = datetime.fromisoformat(item["effective"].replace("Z", "+00:00"))
            assert moment.tzinfo is not None, "evidence effective must carry a time zone"


# ---------------------------------------------------------------- bedside shape (issue 14)

SUMMARY_MAX = 140
DETAIL_MAX_WORDS = 150  # warning and critical cards
DETAIL_MAX_BULLETS = 8
LABEL_MAX = 60


def bedside_problems(card_json: dict[str, Any], *, not_for_the_bedside: frozenset[str] = frozenset()) -> list[str]:
    """What breaks the bedside shape of one card (empty when it holds): a summary of at most 140 characters;
    for warning and critical cards at most 150 words and 8 bullets of detail; no line twice; suggestion labels of
    at most 60 characters; each source once in the Sources line, none of them a short label in
    `not_for_the_bedside`."""
    problems: list[str] = []
    summary, detail = str(card_json.get("summary") or ""), str(card_json.get("detail") or "")
    if len(summary) > SUMMARY_MAX:
        problems.append(f"summary of {len(summary)} characters: {summary!r}")
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    repeated = sorted({line for line in lines if lines.count(line) > 1})
    if repeated:
        problems.append(f"lines repeated: {repeated}")
    if card_json.get("indicator") in ("warning", "critical"):
        words = len(detail.replace("**", " ").replace("- ", " ").split())
        bullets = sum(1 for line in lines if line.startswith("- "))
        if words > DETAIL_MAX_WORDS:
            problems.append(f"detail of {words} words")
        if bullets > DETAIL_MAX_BULLETS:
            problems.append(f"detail of {bullets} bullets")
    for suggestion in card_json.get("suggestions") or []:
        if len(str(suggestion.get("label") or "")) > LABEL_MAX:
            problems.append(f"suggestion label over {LABEL_MAX} characters: {suggestion.get('label')!r}")
    sources_lines = [line for line in lines if line.startswith("Sources: ")]
    for line in sources_lines:
        labels = [s.strip() for s in line.removeprefix("Sources: ").rstrip(".").split(";")]
        if len(labels) != len(set(labels)):
            problems.append(f"a source named twice: {line!r}")
        problems += [f"a source not fit for the bedside: {s!r}" for s in labels if s in not_for_the_bedside]
    return problems
