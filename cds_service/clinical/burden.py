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
    """The memory key: rule and drug ("" for a finding about no drug)."""
    if finding.drug is None:
        return finding.rule_id, ""
    return finding.rule_id, finding.drug.id


def state_of(finding: Finding) -> dict[str, Any]:
    """What "worse" is judged by: indicator, computed and documented grades, signs present (hypotension,
    hypoxia, a seizure, each ICANS domain, each sign left open), the lowest GCS, the warning signals and the
    drugs in the window."""
    p = finding.params
    return {
        "rank": _RANK[finding.severity],
        "grade": finding.astct_grade or 0,
        "icans_grade": _icans_grade(finding),
        "documented_grade": int(p.get("documented_grade") or 0),
        "hypotension": p.get("hypotension") is True,
        "hypoxia": p.get("hypoxia") is True,
        "seizure": p.get("seizure") is True,
        "low_gcs": p.get("low_gcs"),
        "drugs": _window_drugs(p),
        "domains": sorted(str(d.get("name")) for d in p.get("domains") or () if int(d.get("grade") or 0) > 0),
        "open": sorted(str(x) for x in p.get("cannot_exclude") or ()),
        "signals": sorted(str(x.get("id")) for x in p.get("signals") or () if isinstance(x, Mapping)),
    }


def _icans_grade(finding: Finding) -> int:
    """The ICANS grade of an ICANS finding (0 without one, and for every other finding)."""
    if not finding.rule_id.startswith("icans."):
        return 0
    return int(finding.params.get("grade") or 0)


def _window_drugs(params: Mapping[str, Any]) -> list[str]:
    """The drug named by the finding and the other drugs in their window, sorted, once each."""
    named = [x for x in [params.get("drug_name")] if x]
    return sorted({*named, *(params.get("other_drugs") or [])})


def is_worse(now: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    """A higher indicator or grade (computed or documented), a sign newly present (hypotension, hypoxia, a
    seizure), a GCS lower than before, or something new in a list (a drug in the window, an ICANS domain, a sign
    left open, a warning signal)."""
    return _higher(now, before) or _new_sign(now, before) or _lower_gcs(now, before) or _new_item(now, before)


def _higher(now: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    keys = ("rank", "grade", "icans_grade", "documented_grade")
    return any(int(now.get(k) or 0) > int(before.get(k) or 0) for k in keys)


def _new_sign(now: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    return any(now.get(k) and not before.get(k) for k in ("hypotension", "hypoxia", "seizure"))


def _lower_gcs(now: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    gcs, earlier = now.get("low_gcs"), before.get("low_gcs")
    if gcs is None:
        return False
    return earlier is None or float(gcs) < float(earlier)


def _new_item(now: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    keys = ("drugs", "domains", "open", "signals")
    return any(set(now.get(k) or []) - set(before.get(k) or []) for k in keys)


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
        said, kept = _interrupt_or_repeat(finding, shown.get(key_of(finding)), holds.get(finding.rule_id), now, config)
        out.append(said)
        keep.extend(kept)
    return Remembered(out, keep)


def _interrupt_or_repeat(
    finding: Finding, before: Shown | None, hold: Hold | None, now: datetime, config: BurdenConfig
) -> tuple[Finding, list[Shown]]:
    """One interruptive finding as the card will say it, and the memory row to write (none for a recent repeat)."""
    state = state_of(finding)
    active_hold = _active_hold(hold, now)
    if before is not None and _repeats(state, before, active_hold, now, config):
        return _repeat(finding, before, active_hold), _touched(before, now)
    rule_id, drug_id = key_of(finding)
    return finding, [Shown(rule_id, drug_id, now, now, finding.severity.value, state)]


def _active_hold(hold: Hold | None, now: datetime) -> Hold | None:
    """The hold, while it lasts."""
    if hold is not None and hold.until > now:
        return hold
    return None


def _repeats(state: Mapping[str, Any], before: Shown, hold: Hold | None, now: datetime, config: BurdenConfig) -> bool:
    """Not worse, and first shown less than `repeat_hours` ago or held by feedback."""
    if is_worse(state, before.state):
        return False
    fresh = now - before.first_shown_at < timedelta(hours=config.repeat_hours)
    return fresh or hold is not None


def _touched(before: Shown, now: datetime) -> list[Shown]:
    """The row with `last_shown_at` moved to now, at most every TOUCH_EVERY (it only dates the row for pruning)."""
    if now - before.last_shown_at >= TOUCH_EVERY:
        return [replace(before, last_shown_at=now)]
    return []


def _repeat(finding: Finding, before: Shown, hold: Hold | None) -> Finding:
    params = {
        **finding.params,
        "repeat": True,
        "first_shown_at": iso(before.first_shown_at),
        "first_indicator": before.indicator,
        **_hold_params(hold),
    }
    return replace(finding, severity=Severity.info, params=params)


def _hold_params(hold: Hold | None) -> dict[str, str | None]:
    if hold is None:
        return {"held_by": None, "held_until": None}
    return {"held_by": hold.reason, "held_until": iso(hold.until)}
