"""Exposure windows (which catalogue drugs put the patient inside their CRS window) and shared helpers.

A non-draft exposure counts from its last dose (or from now while it is ongoing); the patient is inside the
drug's window while at most `drug.exposure_window_days` have passed since then. One window exposure per drug
(its most recent exposure); the primary one is the most recent high-tier exposure (then the highest tier, then
the most recent), and opens the CRS-status finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cds_service.domain.age import age_days_at, completed_years
from cds_service.domain.facts import Exposure, Facts, Measurement, UnusableValue
from cds_service.domain.findings import DrugRef, Evidence
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.schema import Drug
from cds_service.knowledge.thresholds import Threshold

TIER_RANK: dict[str, int] = {"low": 0, "moderate": 1, "high": 2}
#: How a value of a concept is named in "... could not be used" sentences (other concepts: their id in words).
UNUSABLE_NAMES: dict[str, str] = {
    "temperature": "a temperature",
    "systolic": "a systolic blood pressure",
    "diastolic": "a diastolic blood pressure",
    "map": "a mean arterial pressure",
    "bp_panel": "a blood pressure",
    "fio2": "an FiO2",
    "o2_device": "an oxygen device record",
    "o2_flow": "an oxygen flow rate",
    "spo2": "an SpO2",
    "crp": "a CRP",
    "hs_crp": "a high-sensitivity CRP",
    "ldh": "an LDH",
    "il6": "an IL-6",
    "ice_score": "an ICE score",
    "capd": "a CAPD score",
    "gcs": "a Glasgow Coma Scale score",
    "heart_rate": "a heart rate",
    "respiratory_rate": "a respiratory rate",
    "ferritin": "a ferritin",
    "neutrophils": "a neutrophil count",
    "platelets": "a platelet count",
    "creatinine": "a creatinine",
    "fibrinogen": "a fibrinogen",
    "lactate": "a lactate",
    "weight": "a body weight",
    "height": "a body height",
}


@dataclass(frozen=True, slots=True)
class WindowExposure:
    """A catalogue drug whose exposure window contains `now`."""

    drug: Drug
    exposure: Exposure  # the most recent non-draft exposure of this drug
    at: datetime  # when the window counts from (last dose; now while ongoing)
    started: datetime  # start of that exposure (falls back to `at`)
    first: datetime  # earliest start among this drug's exposures inside the window
    days_since: int

    @property
    def tier(self) -> int:
        return TIER_RANK.get(self.drug.risk_tier, 0)

    @property
    def window_days(self) -> int:
        return self.drug.exposure_window_days


def drug_ref(drug: Drug) -> DrugRef:
    """The finding's reference to a knowledge Drug."""
    return DrugRef(id=drug.id, name=drug.generic_name, drug_class=drug.drug_class, risk_tier=drug.risk_tier)


def tier_at_least(tier: str, minimum: str) -> bool:
    """Whether a risk tier ("low" < "moderate" < "high") reaches the minimum tier."""
    return TIER_RANK.get(str(tier), 0) >= TIER_RANK.get(str(minimum), 0)


def exposure_time(exposure: Exposure, now: datetime) -> datetime | None:
    """When an exposure counts from: now while ongoing, else its last (or only) time, never after now."""
    if exposure.ongoing:
        return now
    moment = exposure.last or exposure.start
    if moment is None:
        return None
    return min(moment, now)


def whole_days(later: datetime, earlier: datetime) -> int:
    """Whole days elapsed between two aware datetimes (0 when `earlier` is not before `later`)."""
    return max(0, (later - earlier) // timedelta(days=1))


def exposures_in_window(facts: Facts, kb: KnowledgeBase) -> list[WindowExposure]:
    """Catalogue drugs (non-draft exposures with a known time) inside their window, primary first.

    Exposures of drugs absent from the catalogue and exposures without any time are ignored (no window can
    be placed). Order: high tier first, then highest tier, then most recent, then drug id.
    """
    by_drug: dict[str, list[tuple[datetime, Exposure]]] = {}
    for exposure in facts.exposures:
        moment = _in_window_since(exposure, kb, facts.now)
        if moment is not None:
            by_drug.setdefault(exposure.drug_id, []).append((moment, exposure))
    found = [_window_exposure(kb.drugs[drug_id], items, facts.now) for drug_id, items in by_drug.items()]
    return sorted(found, key=lambda w: (-w.tier, -w.at.timestamp(), w.drug.id))


def _in_window_since(exposure: Exposure, kb: KnowledgeBase, now: datetime) -> datetime | None:
    """When a non-draft exposure to a catalogue drug counts from, while its window holds now; else None."""
    moment = exposure_time(exposure, now)
    if exposure.is_draft or moment is None or exposure.drug_id not in kb.drugs:
        return None
    if now - moment <= timedelta(days=kb.drugs[exposure.drug_id].exposure_window_days):
        return moment
    return None


def _window_exposure(drug: Drug, items: list[tuple[datetime, Exposure]], now: datetime) -> WindowExposure:
    moment, latest = max(items, key=lambda item: (item[0], _start(item[1], item[0]), item[1].reference or ""))
    first = min(_start(exposure, at) for at, exposure in items)
    return WindowExposure(
        drug=drug,
        exposure=latest,
        at=moment,
        started=_start(latest, moment),
        first=first,
        days_since=whole_days(now, moment),
    )


def _start(exposure: Exposure, fallback: datetime) -> datetime:
    """The exposure's start, never after `fallback` (which stands in for an unknown start)."""
    if exposure.start is None:
        return fallback
    return min(exposure.start, fallback)


def latest_exposure_days(facts: Facts, drug_id: str) -> int | None:
    """Whole days since the most recent non-draft exposure of one drug, whatever its window; None if none."""
    moments = [exposure_time(e, facts.now) for e in facts.exposures if e.drug_id == drug_id and not e.is_draft]
    latest = max((m for m in moments if m is not None), default=None)
    if latest is None:
        return None
    return whole_days(facts.now, latest)


def age_years_now(facts: Facts) -> int | None:
    """Completed calendar years of age at now (negative for a birth date after now); None without a birth date."""
    if facts.birth_date is None:
        return None
    return completed_years(facts.birth_date, facts.now.date())


def is_child(facts: Facts, kb: KnowledgeBase) -> bool:
    """Whether the patient is younger than the adult age (an unknown age is not a child's)."""
    days = age_days_at(facts.birth_date, facts.now)
    return days is not None and days < kb.thresholds.adult_from_age_days


def onset_since(onset: datetime | None, since: datetime, now: datetime) -> bool:
    """Whether a diagnosis began in [since, now]; no onset recorded counts (an active condition)."""
    return onset is None or since <= onset <= now


def num(value: Threshold | float) -> float:
    """A knowledge threshold as a number, whether it is a bare number or a Threshold(value, source)."""
    return float(value.value if isinstance(value, Threshold) else value)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 text of an aware datetime (params carry times as text)."""
    if moment is None:
        return None
    return moment.isoformat()


def clock(moment: datetime | None, now: datetime) -> str:
    """A time as the card shows it, in now's zone with its name: "14:20 CET" on the day of `now`, else
    "23 Nov 14:20 CET" (the service's display zone: Settings.time_zone, applied to `now` by the pipeline)."""
    if moment is None:
        return "an unknown time"
    local = moment.astimezone(now.tzinfo)
    zone = local.strftime("%Z") or "UTC"
    if local.date() == now.date():
        return f"{local:%H:%M} {zone}"
    return f"{local.day} {local:%b %H:%M} {zone}"


def value_text(value: float) -> str:
    """A measured value as a clinician writes it: at most one decimal, no useless ".0" (38.7778 -> "38.8")."""
    return f"{round(value, 1):g}"


def in_window(moment: datetime, start: datetime, now: datetime) -> bool:
    """Whether a time lies in [start, now]."""
    return start <= moment <= now


def overlaps(begin: datetime | None, end: datetime | None, start: datetime, now: datetime) -> bool:
    """Whether a period (open at either end when unknown) overlaps [start, now]: begun by now, not ended before."""
    return (begin is None or begin <= now) and (end is None or end >= start)


def in_window_series(facts: Facts, concept: str, start: datetime) -> list[Measurement]:
    """The measurements of one concept in [start, now], oldest first (`series` order)."""
    return [m for m in series(facts, concept) if in_window(m.effective, start, facts.now)]


def measurement_evidence(label: str, m: Measurement) -> Evidence:
    """Evidence for one measurement (reference, code, value, unit, time)."""
    return Evidence(label, m.reference, m.code, m.value, m.unit, m.effective)


@dataclass(frozen=True, slots=True)
class Part:
    """One ASTCT parameter: its grade (0 = none), whether it is present, and how that was decided."""

    grade: int
    present: bool | None
    minimum: bool
    steps: tuple[str, ...]
    missing: tuple[str, ...]
    evidence: tuple[Evidence, ...]


def series(facts: Facts, concept: str) -> list[Measurement]:
    """Measurements of one concept, oldest first; ties by value, reference, code (never input order)."""
    return sorted((m for m in facts.measurements if m.concept == concept), key=measurement_order)


def measurement_order(m: Measurement) -> tuple[datetime, float, str, str]:
    return (m.effective, m.value, m.reference or "", m.code or "")


def unusable_in_window(facts: Facts, concepts: tuple[str, ...], start: datetime) -> list[UnusableValue]:
    """Values of these concepts present since `start` but not usable, oldest first (unknown times excluded).

    No upper bound: a value stamped in the future beyond the clock-skew tolerance is unusable, and it is still
    a sign that something was measured, so it counts as "present but not usable" rather than absent.
    """
    found = [u for u in facts.unusable if u.concept in concepts and _at_or_after(u.effective, start)]
    return sorted(found, key=lambda u: _unusable_order(u, facts.now))


def _at_or_after(moment: datetime | None, start: datetime) -> bool:
    """A known time at or after start."""
    return moment is not None and moment >= start


def _unusable_order(u: UnusableValue, now: datetime) -> tuple[datetime, str, str, str]:
    return (u.effective or now, u.concept, u.reason, u.reference or "")


def unusable_text(value: UnusableValue, now: datetime) -> str:
    """ "a temperature of 1000 °C at 14:20 could not be used: outside 25–45 °C" (card text: it names the value)."""
    name = UNUSABLE_NAMES.get(value.concept) or _article(value.concept.replace("_", " "))
    shown = f" of {value.shown}" if value.shown else ""
    return f"{name}{shown} at {clock(value.effective, now)} could not be used: {value.reason}"


def _article(name: str) -> str:
    """ "an " or "a " before a concept name ("an IL-6", "a ferritin")."""
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name
