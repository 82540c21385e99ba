"""The CRS timeline of one patient: what the cards would have said at every moment since the first exposure.

    Facts (at now) --facts_as_of(t) for each change point t--> crs_status_finding, icans_grading + icans_finding
                   (the cards' own rules) --> CRS and ICANS grade steps, thresholds per time, the series drawn,
                   values not usable

No second implementation of the grading: at each time `t` the facts are cut to what was known at `t`
(`facts_as_of`) and the same `exposures_in_window` and `crs_status_finding` the cards use run on them, with the
same RuleConfig; the ICANS steps run the ICANS card's `icans_grading` and `icans_finding` the same way. The grade
only changes when a value enters or leaves the grading window, an exposure window opens or closes, a treatment or
vasopressor starts or stops, or a neurological event or level of consciousness is recorded; the rules run at
exactly those moments (`change_points`), so the steps are exact, not sampled. The last step is the rule at
`facts.now`, on the facts unchanged: it is the card the EHR shows now.

Pure: `facts.now` is the clock; nothing here reads FHIR or words a card.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from cds_service.clinical.grading import age_group
from cds_service.clinical.rules import RuleConfig
from cds_service.clinical.rules_crs import crs_status_finding
from cds_service.clinical.rules_icans import icans_finding, icans_grading
from cds_service.clinical.windows import (
    WindowExposure,
    exposure_time,
    exposures_in_window,
    measurement_order,
    num,
    overlaps,
)
from cds_service.domain.age import age_days_at, years_at
from cds_service.domain.facts import (
    ASTCT_HYPOXIA_LEVEL,
    Exposure,
    Facts,
    Measurement,
    O2Device,
    O2Support,
    TreatmentGiven,
    UnusableValue,
    VasopressorUse,
)
from cds_service.domain.findings import Finding
from cds_service.knowledge.base import KnowledgeBase

#: The timeline starts this long before the first exposure inside its window (the baseline) ...
BASELINE = timedelta(days=1)
#: ... or, outside every window, this long before now.
DEFAULT_SPAN = timedelta(days=14)
#: The longest span drawn (a first exposure further back is clipped to this).
MAX_SPAN = timedelta(days=60)
#: Measurements older than this before `t` are cut from the facts at `t`: the parser reads no Observation older
#: than 8 days before now (intake.builder.OBSERVATION_LOOKBACK), so this is what a card at `t` would have seen.
FACTS_LOOKBACK = timedelta(days=8)
#: The rule runs at most this many times per timeline (a bound on CPU per call; see `change_points`).
MAX_POINTS = 1500
#: Concepts drawn as series, in canonical units (the facts' own).
DRAWN = ("temperature", "systolic", "diastolic", "heart_rate", "respiratory_rate", "spo2", "ice_score", "capd", "gcs")
_EPSILON = timedelta(seconds=1)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GradeStep:
    """What the CRS-status rule says from `start` until `end` (the next step, or now)."""

    start: datetime
    end: datetime
    rule_id: str | None  # "crs.active" | "crs.monitoring-window" | None (outside every window, or a quiet one)
    category: str | None
    severity: str | None
    grade: int | None  # ASTCT grade; None = no grade
    is_minimum: bool
    cannot_exclude: tuple[str, ...]
    drug_id: str | None


@dataclass(frozen=True, slots=True)
class IcansStep:
    """What the ICANS card says from `start` until `end`: no card (grade None, severity None), or its grade."""

    start: datetime
    end: datetime
    severity: str | None  # "warning" | "critical" | None (no ICANS card at that time)
    grade: int | None  # ASTCT 2019 ICANS grade; None with a card: documented ICANS or a low GCS, not graded
    is_minimum: bool
    tool: str | None  # "ICE" or "CAPD": the assessment the card asks for
    seizure: bool


Step = TypeVar("Step", "GradeStep", "IcansStep")


@dataclass(frozen=True, slots=True)
class ThresholdStep:
    """The systolic threshold of the patient's age between `start` and `end` (hypotension: SBP below it)."""

    start: datetime
    end: datetime
    value: float
    group: str  # "adult", "age 6 years", "adult; age unknown", ...


@dataclass(frozen=True, slots=True)
class OxygenBand:
    """One oxygen support record, drawn from its time until the next record (or now)."""

    start: datetime
    end: datetime
    device: str
    flow_l_min: float | None
    astct_level: int | None  # ASTCT hypoxia level of the device (None: unknown device)
    reference: str | None


@dataclass(frozen=True, slots=True)
class ExposureMark:
    drug_id: str
    drug_name: str
    drug_class: str
    risk_tier: str
    start: datetime | None
    last: datetime | None
    ongoing: bool
    source: str
    reference: str | None


@dataclass(frozen=True, slots=True)
class Timeline:
    now: datetime
    start: datetime
    patient_id: str | None
    birth_date: str | None
    fever_celsius: float
    spo2_assess_below: float
    low_flow_max_l_min: float
    grading_window_hours: int
    systolic_thresholds: tuple[ThresholdStep, ...]
    series: dict[str, tuple[Measurement, ...]]
    oxygen: tuple[OxygenBand, ...]
    vasopressors: tuple[VasopressorUse, ...]
    treatments: tuple[TreatmentGiven, ...]
    exposures: tuple[ExposureMark, ...]
    crs: tuple[GradeStep, ...]
    icans: tuple[IcansStep, ...]
    unusable: tuple[UnusableValue, ...]
    finding: Finding | None  # the CRS-status finding at now: what the card says
    points_evaluated: int
    points_capped: bool


def build_timeline(facts: Facts, kb: KnowledgeBase, config: RuleConfig) -> Timeline:
    """The timeline of `facts` from a day before the first exposure in its window (else 14 days back) to now."""
    now = facts.now
    start = span_start(facts, kb)
    points, capped = change_points(facts, kb, start, config.grading_window_hours)
    evaluated = [_at(f, kb, config, t) for f, t in zip(_known_at(facts, points), points, strict=True)]
    steps = [step for _, step, _ in evaluated]
    neuro = [icans for _, _, icans in evaluated]
    return Timeline(
        now=now,
        start=start,
        patient_id=facts.patient_id,
        birth_date=_birth_date_text(facts),
        fever_celsius=num(kb.thresholds.fever_celsius),
        spo2_assess_below=num(kb.thresholds.spo2_assess_below),
        low_flow_max_l_min=num(kb.thresholds.low_flow_max_l_min),
        grading_window_hours=config.grading_window_hours,
        systolic_thresholds=systolic_thresholds(facts, kb, start),
        series={concept: _drawn_series(facts, concept, start) for concept in DRAWN},
        oxygen=oxygen_bands(facts, start),
        vasopressors=_vasopressors_drawn(facts, start),
        treatments=_treatments_drawn(facts, start),
        exposures=_exposure_marks(facts, kb),
        crs=tuple(_merge(steps, now, _same)),
        icans=tuple(_merge(neuro, now, _same_icans)),
        unusable=_unusable_drawn(facts, start),
        finding=evaluated[-1][0],  # the last point is now, on the facts unchanged: the card the EHR shows
        points_evaluated=len(points),
        points_capped=capped,
    )


def _known_at(facts: Facts, points: list[datetime]) -> list[Facts]:
    """The facts as known at each point; at now, the facts unchanged (the card the EHR shows)."""
    index = FactsIndex(facts)
    return [_facts_at(index, facts, t) for t in points]


def _facts_at(index: FactsIndex, facts: Facts, t: datetime) -> Facts:
    if t < facts.now:
        return index.as_of(t)
    return facts


def _birth_date_text(facts: Facts) -> str | None:
    if facts.birth_date:
        return facts.birth_date.isoformat()
    return None


def _drawn_series(facts: Facts, concept: str, start: datetime) -> tuple[Measurement, ...]:
    return tuple(m for m in facts.series(concept) if start <= m.effective <= facts.now)


def _vasopressors_drawn(facts: Facts, start: datetime) -> tuple[VasopressorUse, ...]:
    return tuple(v for v in facts.vasopressors if overlaps(v.start, v.end, start, facts.now))


def _treatments_drawn(facts: Facts, start: datetime) -> tuple[TreatmentGiven, ...]:
    """Treatments given in [start, now], and those of unknown time."""
    return tuple(t for t in facts.treatments if t.time is None or start <= t.time <= facts.now)


def _exposure_marks(facts: Facts, kb: KnowledgeBase) -> tuple[ExposureMark, ...]:
    """The non-draft exposures to catalogue drugs."""
    return tuple(_exposure_mark(e, kb) for e in facts.exposures if not e.is_draft and e.drug_id in kb.drugs)


def _unusable_drawn(facts: Facts, start: datetime) -> tuple[UnusableValue, ...]:
    """Values not usable since start, and those of unknown time."""
    return tuple(u for u in facts.unusable if u.effective is None or u.effective >= start)


def span_start(facts: Facts, kb: KnowledgeBase) -> datetime:
    """A day before the first exposure among the drugs whose window holds now (the baseline; at most 60 days
    back), else 14 days back."""
    windows = exposures_in_window(facts, kb)
    if not windows:
        return facts.now - DEFAULT_SPAN
    return max(min(w.first for w in windows) - BASELINE, facts.now - MAX_SPAN)


def change_points(facts: Facts, kb: KnowledgeBase, start: datetime, hours: int) -> tuple[list[datetime], bool]:
    """Every moment in [start, now] at which the CRS-status rule can change its answer, and now itself.

    A value enters the grading window at its time and leaves it `hours` later; a lab leaves the lab window
    (48 h at least) later still; an exposure window opens at the exposure and closes `exposure_window_days`
    after its last time; treatments, vasopressors and diagnoses start (and stop). Beyond MAX_POINTS they are
    moved onto a grid (`_on_grid`), and the timeline says so (`points_capped`).
    """
    moments = {start, facts.now, *_change_moments(facts, kb, timedelta(hours=hours))}
    inside = sorted(t for t in moments if start <= t <= facts.now)
    if len(inside) <= MAX_POINTS:
        return inside, False
    return _on_grid(inside, start, facts.now), True


def _change_moments(facts: Facts, kb: KnowledgeBase, window: timedelta) -> set[datetime]:
    """Every moment a record enters or leaves a window, starts or stops (before `start` and after now too)."""
    moments = set(_measurement_moments(facts, window))
    moments.update(_in_and_out(window, (s.effective for s in facts.o2_support)))
    moments.update(_in_and_out(window, (u.effective for u in facts.unusable)))
    moments.update(_in_and_out(window, (n.effective for n in facts.neuro)))
    moments.update(_vasopressor_moments(facts, window))
    moments.update(_known(t.time for t in facts.treatments))
    moments.update(_known(d.onset for d in facts.diagnoses))
    for e in facts.exposures:
        moments.update(_exposure_moments(e, kb, facts.now))
    return moments


def _known(moments: Iterable[datetime | None]) -> list[datetime]:
    """The moments that are known (not None)."""
    return [t for t in moments if t is not None]


def _in_and_out(window: timedelta, moments: Iterable[datetime | None]) -> list[datetime]:
    """Each known moment, and when it leaves the grading window."""
    return [t for moment in _known(moments) for t in (moment, moment + window + _EPSILON)]


def _measurement_moments(facts: Facts, window: timedelta) -> list[datetime]:
    """A measurement enters both windows at its time, leaves the grading window, then the lab window (>= 48 h)."""
    labs = max(window, timedelta(hours=48))
    leaves_labs = [m.effective + labs + _EPSILON for m in facts.measurements]
    return [*_in_and_out(window, (m.effective for m in facts.measurements)), *leaves_labs]


def _vasopressor_moments(facts: Facts, window: timedelta) -> list[datetime]:
    """A vasopressor starts, and its end leaves the grading window."""
    starts = _known(v.start for v in facts.vasopressors)
    ends = [end + window + _EPSILON for end in _known(v.end for v in facts.vasopressors)]
    return [*starts, *ends]


def _on_grid(moments: list[datetime], start: datetime, now: datetime) -> list[datetime]:
    """Too many change points: each moves to the next boundary of a grid of MAX_POINTS - 1 equal cells, so a
    step starts at most one cell (span / (MAX_POINTS - 1), 13 minutes over 14 days) after the change."""
    cell = (now - start) / (MAX_POINTS - 1)
    snapped = {min(now, start + cell * -((start - t) // cell)) for t in moments}
    return sorted(snapped | {start, now})


def _exposure_moments(e: Exposure, kb: KnowledgeBase, now: datetime) -> list[datetime]:
    found = [t for t in (e.start, e.last) if t is not None]
    moment = exposure_time(e, now)
    drug = kb.drugs.get(e.drug_id)
    if moment is not None and drug is not None:
        found.append(moment + timedelta(days=int(drug.exposure_window_days)) + _EPSILON)
    return found


class FactsIndex:
    """`as_of(t)`: the facts as known at time t (nothing recorded after t; measurements of the 8 days before)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._measurements = sorted(facts.measurements, key=measurement_order)
        self._times = [m.effective for m in self._measurements]

    def as_of(self, t: datetime) -> Facts:
        """Everything recorded by t (an item of unknown time is kept), seen from t; no draft orders."""
        f = self.facts
        return replace(
            f,
            now=t,
            measurements=self._measured_before(t),
            o2_support=_recorded_by(f.o2_support, t, lambda s: s.effective),
            vasopressors=tuple(_vasopressor_at(v, t) for v in _recorded_by(f.vasopressors, t, lambda v: v.start)),
            treatments=_recorded_by(f.treatments, t, lambda x: x.time),
            diagnoses=_recorded_by(f.diagnoses, t, lambda d: d.onset),
            neuro=_recorded_by(f.neuro, t, lambda n: n.effective),
            cultures=_recorded_by(f.cultures, t, lambda c: c.effective),
            exposures=tuple(_exposure_at(e, t) for e in f.exposures if _started_by(e, t)),
            unusable=_recorded_by(f.unusable, t, lambda u: u.effective),
            draft_orders=(),
        )

    def _measured_before(self, t: datetime) -> tuple[Measurement, ...]:
        """The measurements of the FACTS_LOOKBACK before t, up to t."""
        low, high = bisect_left(self._times, t - FACTS_LOOKBACK), bisect_right(self._times, t)
        return tuple(self._measurements[low:high])


def _recorded_by(items: Iterable[T], t: datetime, when: Callable[[T], datetime | None]) -> tuple[T, ...]:
    """The items recorded by t; an item of unknown time is always kept."""
    return tuple(item for item in items if _by(when(item), t))


def _by(moment: datetime | None, t: datetime) -> bool:
    return moment is None or moment <= t


def _started_by(e: Exposure, t: datetime) -> bool:
    first = e.start or e.last
    return e.is_draft is False and (first is None or first <= t)


def _exposure_at(e: Exposure, t: datetime) -> Exposure:
    """An exposure seen from t: a course whose last dose is after t is still going on at t."""
    if e.last is not None and e.last > t:
        return replace(e, last=t)
    return e


def _vasopressor_at(v: VasopressorUse, t: datetime) -> VasopressorUse:
    """A vasopressor seen from t: one that stops after t is still running at t."""
    if v.end is not None and v.end > t:
        return replace(v, end=None)
    return v


def _at(
    facts: Facts, kb: KnowledgeBase, config: RuleConfig, t: datetime
) -> tuple[Finding | None, GradeStep, IcansStep]:
    """The CRS-status finding at t and the CRS and ICANS steps it starts (the exposure windows read once)."""
    windows = exposures_in_window(facts, kb)
    finding = crs_status_finding(
        facts, kb, windows, hours=config.grading_window_hours, quiet_min_tier=config.min_window_card_tier
    )
    return finding, _step(finding, t), _icans_step(facts, kb, windows, config, t)


def _step(finding: Finding | None, t: datetime) -> GradeStep:
    if finding is None:
        return GradeStep(t, t, None, None, None, None, False, (), None)
    return GradeStep(
        start=t,
        end=t,
        rule_id=finding.rule_id,
        category=finding.category.value,
        severity=finding.severity.value,
        grade=finding.astct_grade,
        is_minimum=finding.astct_grade_is_minimum,
        cannot_exclude=tuple(finding.params.get("cannot_exclude") or ()),
        drug_id=_drug_id(finding),
    )


def _drug_id(finding: Finding) -> str | None:
    if finding.drug:
        return finding.drug.id
    return None


def _icans_step(
    facts: Facts, kb: KnowledgeBase, windows: list[WindowExposure], config: RuleConfig, t: datetime
) -> IcansStep:
    """The ICANS card at t, as `clinical.rules.evaluate` makes it (with_crs only changes its wording)."""
    grading = icans_grading(facts, kb, windows, hours=config.grading_window_hours)
    finding = icans_finding(facts, kb, windows, grading, with_crs=False)
    if finding is None or grading is None:
        return IcansStep(t, t, None, None, False, None, False)
    return IcansStep(t, t, finding.severity.value, finding.icans_grade, finding.icans_grade_is_minimum,
                     grading.tool, grading.seizure)


def _merge(steps: list[Step], now: datetime, same: Callable[[Step, Step], bool]) -> list[Step]:
    """Consecutive steps saying the same thing become one; each ends where the next begins (the last at now)."""
    merged: list[Step] = []
    for step in steps:
        if not merged or not same(merged[-1], step):
            merged.append(step)
    ends = [s.start for s in merged[1:]] + [now]
    return [replace(s, end=end) for s, end in zip(merged, ends, strict=True)]


def _same_icans(a: IcansStep, b: IcansStep) -> bool:
    """Equal but for their times."""
    return replace(a, start=b.start, end=b.end) == b


def _same(a: GradeStep, b: GradeStep) -> bool:
    return (a.rule_id, a.severity, a.grade, a.is_minimum, a.cannot_exclude, a.drug_id) == (
        b.rule_id,
        b.severity,
        b.grade,
        b.is_minimum,
        b.cannot_exclude,
        b.drug_id,
    )


def systolic_thresholds(facts: Facts, kb: KnowledgeBase, start: datetime) -> tuple[ThresholdStep, ...]:
    """The hypotension threshold of the patient's age over [start, now]: one step per age band crossed.

    The same knowledge call as the grading (`kb.thresholds.hypotension_sbp` with age in days and completed
    years at that time), evaluated daily and at now; the value changes at most at a birthday.
    """
    moments = [start + timedelta(days=d) for d in range((facts.now - start).days + 1)] + [facts.now]
    steps: list[ThresholdStep] = []
    for t in sorted(set(moments)):
        step = _threshold_at(facts, kb, t)
        if not steps:
            steps.append(step)
        elif (steps[-1].value, steps[-1].group) != (step.value, step.group):
            steps[-1] = replace(steps[-1], end=t)
            steps.append(step)
    return tuple(steps)


def _threshold_at(facts: Facts, kb: KnowledgeBase, t: datetime) -> ThresholdStep:
    """The systolic threshold of the patient's age at t, from t until now."""
    age_days = age_days_at(facts.birth_date, t)
    value = num(kb.thresholds.hypotension_sbp(age_days, age_years=years_at(facts.birth_date, t)))
    return ThresholdStep(t, facts.now, value, age_group(age_days, years_at(facts.birth_date, t)))


def oxygen_bands(facts: Facts, start: datetime) -> tuple[OxygenBand, ...]:
    """Each oxygen support record from its time until the next one (or now), clipped to [start, now]."""
    records = sorted((s for s in facts.o2_support if s.effective <= facts.now), key=lambda s: s.effective)
    ends = [r.effective for r in records[1:]] + [facts.now]  # one more than the records when there are none
    return tuple(
        _band(record, max(record.effective, start), end) for record, end in zip(records, ends, strict=False)
        if end >= start
    )


def _band(record: O2Support, start: datetime, end: datetime) -> OxygenBand:
    level = ASTCT_HYPOXIA_LEVEL.get(record.device)
    if record.device is O2Device.unknown:
        level = None
    return OxygenBand(start, end, record.device.value, record.flow_l_min, level, record.reference)


def _exposure_mark(e: Exposure, kb: KnowledgeBase) -> ExposureMark:
    drug = kb.drugs[e.drug_id]
    return ExposureMark(
        drug_id=e.drug_id,
        drug_name=drug.generic_name,
        drug_class=drug.drug_class,
        risk_tier=drug.risk_tier,
        start=e.start,
        last=e.last,
        ongoing=e.ongoing,
        source=e.source,
        reference=e.reference,
    )

