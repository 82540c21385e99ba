"""Interrupt once; interrupt again only when something got worse (issue 15).

A warning or critical finding is compared with the last interruptive card of the same rule and drug shown to the
patient (domain/memory.py `Shown`). It comes back as `info`, a repeat, when it is not worse and either

    it was first shown less than `repeat_hours` ago (default 12), or
    feedback holds the rule for this patient (an override "already addressed", "will reassess", "monitored per
    protocol": `Hold`, default 8 h).

Worse, and interruptive again at once: a higher indicator, a higher ASTCT CRS grade or ICANS grade, hypotension
or hypoxia newly present, or a drug not in the window before. A grade increase is never held back. Repeats keep
their finding; the card says when it was first shown and that nothing worse has happened since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.windows import iso
from cds_service.domain.findings import Finding, Severity
from cds_service.domain.memory import Hold, Shown

INTERRUPTIVE = frozenset({Severity.warning, Severity.critical})
#: Override reasons (cards/templates/override-reasons.yaml) that say the clinician has it in hand: they hold
#: repeats. "not-clinically-relevant" does not hold: it is counted for governance (crs-cds report feedback).
HOLD_REASONS = frozenset({"already-addressed", "will-reassess", "monitored-per-protocol"})
_RANK = {Severity.info: 0, Severity.warning: 1, Severity.critical: 2}


@dataclass(frozen=True, slots=True)
class BurdenConfig:
    repeat_hours: int = 12
    hold_hours: int = 8


@dataclass(frozen=True, slots=True)
class Remembered:
    """The findings as the cards will say them, and what the memory keeps of the interruptive ones."""

    findings: list[Finding]
    shown: list[Shown]


def key_of(finding: Finding) -> tuple[str, str]:
    return finding.rule_id, finding.drug.id if finding.drug is not None else ""


def state_of(finding: Finding) -> dict[str, Any]:
    """What "worse" is judged by: indicator, grades, signs present, the drugs in the window."""
    p = finding.params
    drugs = sorted({*(x for x in [p.get("drug_name")] if x), *(p.get("other_drugs") or [])})
    icans = p.get("grade") if finding.rule_id.startswith("icans.") else None
    return {
        "rank": _RANK[finding.severity],
        "grade": finding.astct_grade or 0,
        "icans_grade": int(icans or 0),
        "hypotension": p.get("hypotension") is True,
        "hypoxia": p.get("hypoxia") is True,
        "drugs": drugs,
    }


def is_worse(now: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    higher = any(int(now.get(k, 0)) > int(before.get(k, 0)) for k in ("rank", "grade", "icans_grade"))
    new_sign = any(now.get(k) and not before.get(k) for k in ("hypotension", "hypoxia"))
    new_drug = bool(set(now.get("drugs") or []) - set(before.get("drugs") or []))
    return higher or new_sign or new_drug


#: A repeat moves its row's `last_shown_at` (what `crs-cds db prune` dates memory rows by) at most this often, so
#: a chart opened again and again costs a read, not a write, per call.
TOUCH_EVERY = timedelta(hours=1)


def remember(
    findings: Iterable[Finding],
    shown: Mapping[tuple[str, str], Shown],
    holds: Mapping[str, Hold],
    now: datetime,
    config: BurdenConfig,
) -> Remembered:
    """Each interruptive finding as an interruption or a repeat, and the memory to keep (see the module)."""
    out: list[Finding] = []
    keep: list[Shown] = []
    for finding in findings:
        if finding.severity not in INTERRUPTIVE:
            out.append(finding)
            continue
        state = state_of(finding)
        before = shown.get(key_of(finding))
        hold = holds.get(finding.rule_id)
        held = hold is not None and hold.until > now
        fresh = before is not None and now - before.first_shown_at < timedelta(hours=config.repeat_hours)
        if before is not None and not is_worse(state, before.state) and (fresh or held):
            out.append(_repeat(finding, before, hold if held else None))
            if now - before.last_shown_at >= TOUCH_EVERY:  # last_shown_at only dates the row for pruning
                keep.append(replace(before, last_shown_at=now))
            continue
        out.append(finding)
        rule_id, drug_id = key_of(finding)
        keep.append(Shown(rule_id, drug_id, now, now, finding.severity.value, state))
    return Remembered(out, keep)


def _repeat(finding: Finding, before: Shown, hold: Hold | None) -> Finding:
    params = {
        **finding.params,
        "repeat": True,
        "first_shown_at": iso(before.first_shown_at),
        "first_indicator": before.indicator,
        "held_by": hold.reason if hold is not None else None,
        "held_until": iso(hold.until) if hold is not None else None,
    }
    return replace(finding, severity=Severity.info, params=params)
