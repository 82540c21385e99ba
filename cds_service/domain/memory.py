"""What the service remembers between hook calls for one patient: the interruptive cards it showed, and the
feedback that holds their repeats. Plain values: the store reads and writes them, clinical/burden.py compares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Shown:
    """The last interruptive card of one rule and drug for a patient: when it was first shown (this episode),
    when last, its indicator and the state it was judged by (grades, signs present, drugs)."""

    rule_id: str
    drug_id: str  # "" when the finding names no drug
    first_shown_at: datetime
    last_shown_at: datetime
    indicator: str
    state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.rule_id, self.drug_id


@dataclass(frozen=True, slots=True)
class Hold:
    """Feedback that holds the interruptive repeats of a rule for a patient until `until`: an override with a
    reason that says the clinician has it in hand."""

    rule_id: str
    until: datetime
    reason: str  # the override reason code ("already-addressed", "will-reassess", "monitored-per-protocol")
