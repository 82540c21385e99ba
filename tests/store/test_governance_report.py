"""The governance report (`crs-cds report feedback`, GET /governance/feedback): figures a CDS committee reviews,
computed from cards actually issued and feedback actually posted through the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cds_service.settings import Settings
from tests.cli_kit import run_cli
from tests.conftest import NOW, load_json, make_client

ORDER_SIGN = "examples/order-sign-teclistamab.json"


def _feedback(card: dict[str, Any], outcome: str, *, reason: str | None = None, accepted: int = 0) -> dict[str, Any]:
    entry: dict[str, Any] = {"card": card["uuid"], "outcome": outcome, "outcomeTimestamp": NOW.isoformat()}
    if reason:
        entry["overrideReason"] = {"reason": {"code": reason, "display": reason.replace("-", " ")}}
    if accepted:
        entry["acceptedSuggestions"] = [{"id": s["uuid"]} for s in card["suggestions"][:accepted]]
    return entry


def _issue_and_answer(client: Any) -> None:
    """Three order-sign calls (repeat_hours 0: each card interrupts); one card accepted with two suggestions, two
    overridden (one "not clinically relevant", one "already addressed")."""
    cards = []
    for _ in range(3):
        response = client.post("/cds-services/crs-order-sign", json=load_json(ORDER_SIGN))
        cards.append(next(c for c in response.json()["cards"] if c["extension"]["org.crs-cds.finding"]["ruleId"]
                          == "order.risk"))
    entries = [
        _feedback(cards[0], "accepted", accepted=2),
        _feedback(cards[1], "overridden", reason="not-clinically-relevant"),
        _feedback(cards[2], "overridden", reason="already-addressed"),
    ]
    assert client.post("/cds-services/crs-order-sign/feedback", json={"feedback": entries}).status_code == 200


def test_the_report_counts_cards_overrides_reasons_and_acceptance(settings: Settings) -> None:
    with make_client(settings.model_copy(update={"repeat_hours": 0})) as client:
        _issue_and_answer(client)
        report = client.get("/governance/feedback?weeks=4").json()
    (line,) = [x for x in report["lines"] if x["ruleId"] == "order.risk"]
    assert (line["issued"], line["interruptive"], line["interruptiveShare"]) == (3, 3, 1.0)
    assert (line["withFeedback"], line["overridden"], line["overrideRate"]) == (3, 2, 0.667)
    assert line["overrideReasons"] == {"already-addressed": 1, "not-clinically-relevant": 1}
    assert (line["acceptedWithSuggestion"], line["suggestionsAccepted"], line["acceptance"]) == (1, 2, 0.333)


def test_weeks_out_of_range_is_a_400_operation_outcome(client: Any) -> None:
    response = client.get("/governance/feedback?weeks=0")
    assert response.status_code == 400 and response.json()["resourceType"] == "OperationOutcome"


def test_the_cli_prints_the_same_figures(settings: Settings) -> None:
    # the CLI counts back from the real clock: the cards are issued now
    with make_client(settings.model_copy(update={"repeat_hours": 0}), clock=lambda: datetime.now(UTC)) as client:
        _issue_and_answer(client)
    env = {"CRS_CDS_DATABASE_URL": settings.database_url, "CRS_CDS_ENVIRONMENT": "development",
           "CRS_CDS_AUTH_MODE": "disabled"}
    result = run_cli("report", "feedback", "--weeks", "2", env=env)
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in result.stdout.splitlines() if " order.risk " in r]
    assert row.split()[2:9] == ["3", "3", "100%", "3", "2", "67%", "33%"]
    assert "already-addressed 1, not-clinically-relevant 1" in row
    data = json.loads(run_cli("report", "feedback", "--json", env=env).stdout)
    assert any(x["ruleId"] == "order.risk" and x["overridden"] == 2 for x in data["lines"])
