"""The feedback report a hospital's CDS committee reviews (`crs-cds report feedback`, GET /governance/feedback):
per ISO week and rule id, the cards issued, the interruptive share, the override rate and reasons, and how often
suggestions were accepted. Built from the card audit and the feedback tables: no patient data.

    interruptive share  warning and critical cards / cards issued
    override rate       cards overridden / cards with any feedback (accepted or overridden)
    acceptance          cards with a suggestion accepted / cards with any feedback
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

INTERRUPTIVE = frozenset({"warning", "critical"})


@dataclass(frozen=True, slots=True)
class CardRow:
    card_uuid: str
    rule_id: str
    indicator: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    card_uuid: str
    outcome: str  # "accepted" | "overridden"
    accepted_suggestions: int
    reason: str | None


@dataclass(slots=True)
class Line:
    """One week and rule id of the report."""

    week: date  # the Monday of the ISO week
    rule_id: str
    issued: int = 0
    interruptive: int = 0
    with_feedback: int = 0
    overridden: int = 0
    accepted: int = 0
    suggestions_accepted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def interruptive_share(self) -> float | None:
        return self.interruptive / self.issued if self.issued else None

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.with_feedback if self.with_feedback else None

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.with_feedback if self.with_feedback else None

    def as_json(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(), "ruleId": self.rule_id, "issued": self.issued,
            "interruptive": self.interruptive, "interruptiveShare": _round(self.interruptive_share),
            "withFeedback": self.with_feedback, "overridden": self.overridden,
            "overrideRate": _round(self.override_rate), "overrideReasons": dict(sorted(self.reasons.items())),
            "acceptedWithSuggestion": self.accepted, "suggestionsAccepted": self.suggestions_accepted,
            "acceptance": _round(self.acceptance),
        }


def monday(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def build_report(cards: Iterable[CardRow], feedback: Iterable[FeedbackRow]) -> list[Line]:
    """The report lines, by week then rule id. Feedback for a card no longer in the audit is not counted."""
    lines: dict[tuple[date, str], Line] = {}
    by_card: dict[str, Line] = {}
    for card in cards:
        key = (monday(card.issued_at), card.rule_id)
        line = lines.setdefault(key, Line(*key))
        line.issued += 1
        line.interruptive += card.indicator in INTERRUPTIVE
        by_card[card.card_uuid] = line
    outcomes: dict[str, list[FeedbackRow]] = {}
    for entry in feedback:
        outcomes.setdefault(entry.card_uuid, []).append(entry)
    for card_uuid, entries in outcomes.items():
        issued = by_card.get(card_uuid)
        if issued is None:
            continue
        line = issued
        line.with_feedback += 1
        if any(e.outcome == "overridden" for e in entries):
            line.overridden += 1
            line.reasons.update(e.reason or "no reason given" for e in entries if e.outcome == "overridden")
        accepted = sum(e.accepted_suggestions for e in entries if e.outcome == "accepted")
        line.accepted += accepted > 0
        line.suggestions_accepted += accepted
    return [lines[key] for key in sorted(lines)]


def report_text(lines: list[Line]) -> str:
    """The report as a fixed-width table, one line per week and rule id."""
    header = f"{'week':<10}  {'rule':<24} {'issued':>6} {'interr.':>7} {'share':>6} {'fb':>4} {'overr.':>6} " \
             f"{'rate':>6} {'accept':>6}  override reasons"
    rows = [header, "-" * len(header)]
    for line in lines:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(line.reasons.items())) or "-"
        rows.append(
            f"{line.week.isoformat():<10}  {line.rule_id:<24} {line.issued:>6} {line.interruptive:>7} "
            f"{_pct(line.interruptive_share):>6} {line.with_feedback:>4} {line.overridden:>6} "
            f"{_pct(line.override_rate):>6} {_pct(line.acceptance):>6}  {reasons}"
        )
    if not lines:
        rows.append("no cards issued in the period")
    return "\n".join(rows)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
