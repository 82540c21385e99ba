"""ASTCT 2019 consensus CRS grading over the recent window, honest about missing data.

    grade = max(hypotension grade, hypoxia grade), with fever (fever alone: 1)
    hypotension: no vasopressor 2; one vasopressor with or without vasopressin 3;
                 several vasopressors (vasopressin not counted) 4
    hypoxia: see grading_hypoxia.py (by the highest oxygen support)

Fever is not required once tocilizumab (or another anti-cytokine) or a corticosteroid was given after the
exposure. Every lower bound (data that could raise the grade is missing) sets `is_minimum` and says what is
missing; every step of the reasoning is one short sentence in `steps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cds_service.clinical.grading_hypoxia import HypoxiaResult, assess_hypoxia
from cds_service.clinical.windows import (
    Part,
    clock,
    in_window_series,
    iso,
    measurement_evidence,
    measurement_order,
    num,
    overlaps,
    unusable_in_window,
    unusable_text,
    value_text,
)
from cds_service.domain.age import age_days_at, completed_years, years_at
from cds_service.domain.facts import DataGap, Facts, Measurement, TreatmentGiven, VasopressorUse
from cds_service.domain.findings import Evidence
from cds_service.knowledge.base import KnowledgeBase

#: Data gaps that could hide a vasopressor: the administrations or requests, or Medications named by reference
#: that could not be read (fhir/prefetch.py MEDICATIONS_KEY).
MEDICATION_GAP_KEYS = frozenset({"medicationAdministrations", "medicationRequests", "medications"})
VITAL_GAP_KEYS = frozenset({"vitalSigns"})
WAIVING_KINDS = frozenset({"anti-cytokine", "corticosteroid"})
_COUNT_WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four"}
#: Concepts whose unusable values (present but unreadable) mean an ASTCT sign cannot be excluded.
UNUSABLE_SIGNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fever", ("temperature",)),
    ("hypotension", ("systolic", "bp_panel")),
    ("hypoxia", ("fio2", "o2_device", "o2_flow")),
)


@dataclass(frozen=True, slots=True)
class Fever:
    present: bool | None  # None: no temperature in the window
    max_temperature_c: float | None
    part: Part


@dataclass(frozen=True, slots=True)
class Hypotension:
    part: Part
    min_systolic: float | None
    threshold: float
    vasopressor_count: int  # distinct, excluding vasopressin
    vasopressin: bool
    borderline: bool = False  # an adult's one low systolic, within the margin, and no vasopressor


@dataclass(frozen=True, slots=True)
class Unusable:
    """Signs that values present in the window but not usable leave open (never read as normal)."""

    cannot_exclude: tuple[str, ...]  # "fever", "hypotension", "hypoxia"
    missing: tuple[str, ...]
    steps: tuple[str, ...]

    @property
    def lower_bound(self) -> bool:
        """Hypotension or hypoxia left open: a grade found is only a minimum."""
        return bool({"hypotension", "hypoxia"} & set(self.cannot_exclude))


@dataclass(frozen=True, slots=True)
class Grading:
    """The ASTCT grade and every value the CRS card shows about it."""

    grade: int | None
    is_minimum: bool
    fever: Fever
    fever_waived: str | None
    hypotension: Hypotension
    hypoxia: HypoxiaResult
    steps: tuple[str, ...]
    missing: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    cannot_exclude: tuple[str, ...] = ()  # signs left open by values present but not usable

    @property
    def organ_signs(self) -> bool:
        """Hypotension or hypoxia is present (the card is critical then, with or without a grade)."""
        return bool(self.hypotension.part.present) or bool(self.hypoxia.part.present)

    def params(self) -> dict[str, Any]:
        """The grading part of the `crs.active` params (docs/FINDINGS.md)."""
        return {
            "grade": self.grade,
            "grade_is_minimum": self.is_minimum,
            "fever": self.fever.present,
            "max_temperature_c": self.fever.max_temperature_c,
            "fever_waived": self.fever_waived,
            "hypotension": self.hypotension.part.present,
            "min_systolic": self.hypotension.min_systolic,
            "hypotension_threshold": self.hypotension.threshold,
            "vasopressor_count": self.hypotension.vasopressor_count,
            "vasopressin": self.hypotension.vasopressin,
            "hypoxia": self.hypoxia.part.present,
            "o2_device": self.hypoxia.device,
            "o2_flow_l_min": self.hypoxia.flow_l_min,
            "grading_steps": list(self.steps),
            "cannot_exclude": list(self.cannot_exclude),
        }


def grade_crs(
    facts: Facts, kb: KnowledgeBase, *, window_start: datetime, exposure_start: datetime | None, hours: int
) -> Grading:
    """Grade CRS (ASTCT 2019) from the facts between `window_start` and `facts.now`."""
    fever = assess_fever(facts, kb, window_start, hours)
    waiver = fever_waiver(facts, exposure_start)
    hypotension = assess_hypotension(facts, kb, window_start, hours)
    hypoxia = assess_hypoxia(facts, kb, window_start, hours)
    unusable = assess_unusable(facts, window_start, fever, hypotension, hypoxia)
    return _combine(facts, fever, waiver, hypotension, hypoxia, unusable)


def assess_unusable(
    facts: Facts, start: datetime, fever: Fever, hypotension: Hypotension, hypoxia: HypoxiaResult
) -> Unusable:
    """Values in the window present but not usable, where they could change the result: that sign stays open.

    A temperature when no fever was found; a blood pressure when no hypotension was found; an FiO2, oxygen
    device or flow when hypoxia is below grade 4.
    """
    open_signs = {
        "fever": fever.present is not True,
        "hypotension": not hypotension.part.present,
        "hypoxia": hypoxia.part.grade < 4,
    }
    signs: list[str] = []
    missing: list[str] = []
    steps: list[str] = []
    for sign, concepts in UNUSABLE_SIGNS:
        values = unusable_in_window(facts, concepts, start)
        if not values or not open_signs[sign]:
            continue
        signs.append(sign)
        missing += [unusable_text(v, facts.now) for v in values]
        latest = unusable_text(values[-1], facts.now)
        steps.append(f"{latest[:1].upper()}{latest[1:]}: {sign} cannot be excluded.")
    return Unusable(tuple(signs), tuple(missing), tuple(steps))


def assess_fever(facts: Facts, kb: KnowledgeBase, start: datetime, hours: int) -> Fever:
    """Highest temperature in the window against the ASTCT fever threshold (>= 38.0 °C)."""
    temps = in_window_series(facts, "temperature", start)
    if not temps:
        return _no_temperature(hours)
    top = max(temps, key=_highest)
    present = top.value >= num(kb.thresholds.fever_celsius)
    step = _fever_step(top, present, facts.now)
    part = Part(int(present), present, False, (step,), (), (measurement_evidence("Temperature", top),))
    return Fever(present, top.value, part)


def _no_temperature(hours: int) -> Fever:
    """No temperature in the window: fever unknown, and the temperature is missing."""
    missing = (f"temperature in the last {hours} h",)
    part = Part(0, None, False, (f"No temperature recorded in the last {hours} h.",), missing, ())
    return Fever(None, None, part)


def _highest(m: Measurement) -> tuple[float, tuple[datetime, float, str, str]]:
    """Highest value first; ties: the latest (a total order)."""
    return (m.value, measurement_order(m))


def _fever_step(top: Measurement, present: bool, now: datetime) -> str:
    when = clock(top.effective, now)
    if present:
        return f"Fever {value_text(top.value)} °C at {when}."
    return f"No fever: highest temperature {value_text(top.value)} °C at {when}."


def fever_waiver(facts: Facts, exposure_start: datetime | None) -> TreatmentGiven | None:
    """The first anti-cytokine or corticosteroid given after the exposure started (ASTCT: fever not required).

    Premedication given before the exposure started does not count.
    """
    if exposure_start is None:
        return None
    given = [t for t in facts.treatments if _waives_fever(t, exposure_start, facts.now)]
    return min(given, key=_treatment_order, default=None)


def _waives_fever(t: TreatmentGiven, exposure_start: datetime, now: datetime) -> bool:
    """An anti-cytokine or corticosteroid given after the exposure started, by now."""
    if t.kind not in WAIVING_KINDS or t.time is None:
        return False
    return exposure_start < t.time <= now


def _treatment_order(t: TreatmentGiven) -> tuple[datetime | None, str, str, str]:
    return (t.time, t.treatment_id, t.kind, t.reference or "")


def waiver_name(treatment: TreatmentGiven) -> str:
    """The `fever_waived` param: "tocilizumab", "corticosteroid", or the anti-cytokine's id."""
    if treatment.kind == "corticosteroid":
        return "corticosteroid"
    return treatment.treatment_id


def running_vasopressors(facts: Facts, start: datetime) -> list[VasopressorUse]:
    """Vasopressor uses overlapping the window (started by now, not ended before the window)."""
    return [u for u in facts.vasopressors if overlaps(u.start, u.end, start, facts.now)]


def assess_hypotension(facts: Facts, kb: KnowledgeBase, start: datetime, hours: int) -> Hypotension:
    """Systolic pressure against the age-appropriate threshold, and the vasopressors running."""
    sbps = in_window_series(facts, "systolic", start)
    low = _below_threshold(facts, kb, sbps)
    uses = running_vasopressors(facts, start)
    others = _counted_vasopressors(uses)
    vasopressin = any(u.is_vasopressin for u in uses)
    lowest = _lowest_below(low)
    threshold = _threshold_shown(facts, kb, lowest)
    steps = _hypotension_steps(facts, sbps, lowest, threshold, hours, others, vasopressin, bool(uses))
    missing = _hypotension_missing(facts, sbps, uses, hours)
    if low and not uses and _vasopressor_data_missing(facts):
        steps[-1] = "No vasopressor data (medication records could not be read): at least grade 2."
    evidence = _hypotension_evidence(lowest, uses)
    grade = hypotension_grade(len(others), vasopressin, bool(low))
    present = _hypotension_present(bool(low), bool(uses), bool(sbps))
    part = Part(grade, present, bool(missing), tuple(filter(None, steps)), tuple(missing), evidence)
    min_sbp = min((m.value for m in sbps), default=None)
    borderline = _borderline(facts, kb, low, bool(uses))
    return Hypotension(part, min_sbp, threshold, len(others), vasopressin, borderline)


def _below_threshold(facts: Facts, kb: KnowledgeBase, sbps: list[Measurement]) -> list[tuple[Measurement, float]]:
    """Each systolic below the threshold of the patient's age at its time, with that threshold."""
    with_limits = [(m, _sbp_threshold(facts, kb, m.effective)) for m in sbps]
    return [(m, limit) for m, limit in with_limits if m.value < limit]


def _counted_vasopressors(uses: list[VasopressorUse]) -> list[str]:
    """The distinct vasopressors running, vasopressin not counted (ASTCT), sorted."""
    return sorted({u.vasopressor_id for u in uses if not u.is_vasopressin})


def _threshold_shown(facts: Facts, kb: KnowledgeBase, lowest: tuple[Measurement, float] | None) -> float:
    """The threshold the lowest systolic was below, else the threshold of the patient's age now."""
    if lowest:
        return lowest[1]
    return _sbp_threshold(facts, kb, facts.now)


def _hypotension_evidence(
    lowest: tuple[Measurement, float] | None, uses: list[VasopressorUse]
) -> tuple[Evidence, ...]:
    """The lowest systolic below its threshold, then each vasopressor running."""
    pressors = [_pressormeasurement_evidence(u) for u in sorted(uses, key=_use_key)]
    if lowest:
        return (measurement_evidence("Systolic blood pressure", lowest[0]), *pressors)
    return tuple(pressors)


def hypotension_grade(non_vasopressin: int, vasopressin: bool, low_systolic: bool) -> int:
    """The ASTCT 2019 hypotension column: multiple vasopressors (vasopressin not counted) grade 4; one vasopressor
    (vasopressin alone counts as one) grade 3; hypotension not requiring vasopressors grade 2; none 0."""
    if non_vasopressin >= 2:
        return 4
    if non_vasopressin or vasopressin:
        return 3
    if low_systolic:
        return 2
    return 0


def _hypotension_present(low: bool, vasopressor: bool, measured: bool) -> bool | None:
    """True: hypotension (a low systolic or a vasopressor); False: measured and not low; None: not measured."""
    if low or vasopressor:
        return True
    if measured:
        return False
    return None


def _lowest_below(low: list[tuple[Measurement, float]]) -> tuple[Measurement, float] | None:
    """The systolic furthest below its threshold (ties: the latest), with that threshold."""
    if not low:
        return None
    return min(low, key=lambda pair: (pair[0].value - pair[1], measurement_order(pair[0])))


def _hypotension_steps(
    facts: Facts,
    sbps: list[Measurement],
    lowest: tuple[Measurement, float] | None,
    threshold: float,
    hours: int,
    others: list[str],
    vasopressin: bool,
    running: bool,
) -> list[str]:
    steps = [_systolic_step(facts, sbps, lowest, threshold, hours)]
    if running and lowest is None:
        steps.append(
            "A vasopressor is running: hypotension requiring vasopressors, although no systolic "
            "below the threshold was recorded."
        )
    steps.append(_pressor_step(others, vasopressin, lowest is not None))
    return steps


def _vasopressor_data_missing(facts: Facts) -> bool:
    """Some medication records could not be read: a vasopressor (or a second one) may be running unseen."""
    return _has_gap(facts.data_gaps, MEDICATION_GAP_KEYS)


def _hypotension_missing(facts: Facts, sbps: list[Measurement], uses: list[VasopressorUse], hours: int) -> list[str]:
    missing: list[str] = []
    if _vasopressor_data_missing(facts) and uses:
        missing.append("other vasopressors (some medication records could not be read)")
    elif _vasopressor_data_missing(facts):
        missing.append("vasopressor data (medication records could not be read)")
    if not sbps and not uses:
        missing.append(f"blood pressure in the last {hours} h")
    return missing


def _borderline(facts: Facts, kb: KnowledgeBase, low: list[tuple[Measurement, float]], vasopressor: bool) -> bool:
    """An adult's single low systolic within the margin of its threshold, with no vasopressor (cards/thresholds.yaml
    borderline_sbp_margin): a repeat measurement is asked for before the card is critical."""
    if not _adult(facts, kb) or len(low) != 1 or vasopressor:
        return False
    value, threshold = low[0][0].value, low[0][1]
    return value >= threshold - num(kb.thresholds.borderline_sbp_margin)


def _adult(facts: Facts, kb: KnowledgeBase) -> bool:
    """Whether the patient has reached the adult age now; an unknown age counts as an adult's."""
    age_days = age_days_at(facts.birth_date, facts.now)
    if age_days is None:
        return True
    return age_days >= int(kb.thresholds.adult_from_age_days)


def _sbp_threshold(facts: Facts, kb: KnowledgeBase, at: datetime) -> float:
    return num(
        kb.thresholds.hypotension_sbp(age_days_at(facts.birth_date, at), age_years=years_at(facts.birth_date, at))
    )


def _systolic_step(
    facts: Facts,
    sbps: list[Measurement],
    lowest: tuple[Measurement, float] | None,
    threshold: float,
    hours: int,
) -> str:
    if lowest is not None:
        return _below_step(facts, *lowest)
    if sbps:
        least = min(m.value for m in sbps)
        return f"No systolic below the threshold of {value_text(threshold)} mmHg (lowest {value_text(least)} mmHg)."
    return f"No blood pressure recorded in the last {hours} h."


def _below_step(facts: Facts, m: Measurement, limit: float) -> str:
    """The lowest systolic below its threshold, and the age group that threshold is for."""
    moment = m.effective.astimezone(facts.now.tzinfo).date()
    group = age_group(age_days_at(facts.birth_date, m.effective), _years_on(facts, moment))
    return (
        f"Systolic {value_text(m.value)} mmHg at {clock(m.effective, facts.now)} below the threshold "
        f"of {value_text(limit)} mmHg ({group})."
    )


def _years_on(facts: Facts, moment: date) -> int | None:
    if facts.birth_date is None:
        return None
    return completed_years(facts.birth_date, moment)


def _pressor_step(others: list[str], vasopressin: bool, low: bool) -> str:
    """The vasopressor column of the ASTCT table, as the step that read it."""
    if len(others) >= 2:
        return _several_pressors_step(others, vasopressin)
    if others:
        return _one_pressor_step(others, vasopressin)
    if vasopressin:
        return "Vasopressin alone counts as one vasopressor: grade 3."
    if low:
        return "No vasopressor: grade 2."
    return ""


def _several_pressors_step(others: list[str], vasopressin: bool) -> str:
    count = _COUNT_WORDS.get(len(others), str(len(others)))
    names = ", ".join(others)
    if vasopressin:
        return f"{count} vasopressors ({names}) (vasopressin not counted): grade 4."
    return f"{count} vasopressors ({names}): grade 4."


def _one_pressor_step(others: list[str], vasopressin: bool) -> str:
    names = ", ".join(others)
    if vasopressin:
        return f"One vasopressor ({names}) with vasopressin: grade 3."
    return f"One vasopressor ({names}): grade 3."


def age_group(age_days: int | None, years: int | None = None) -> str:
    """How the age-appropriate threshold was chosen, in two or three words (`years`: completed calendar years)."""
    if age_days is None:
        return "adult; age unknown"
    if age_days < 28:
        return "neonate"
    if age_days < 365:
        return "infant"
    if years is None:
        years = int(age_days // 365)
    return _years_group(years)


def _years_group(years: int) -> str:
    if years >= 18:
        return "adult"
    return f"age {years} years"


def _has_gap(gaps: tuple[DataGap, ...], keys: frozenset[str]) -> bool:
    return any(gap.key in keys for gap in gaps)


def _use_key(use: VasopressorUse) -> tuple[str, str, str]:
    return (use.vasopressor_id, iso(use.start) or "", use.reference or "")


def _pressormeasurement_evidence(use: VasopressorUse) -> Evidence:
    label = f"{use.vasopressor_id.replace('-', ' ').capitalize()} (vasopressor)"
    return Evidence(label, use.reference, None, _running_or_given(use), None, use.start)


def _running_or_given(use: VasopressorUse) -> str:
    """ "running" while no end is recorded, else "given"."""
    if use.end is None:
        return "running"
    return "given"


def _combine(
    facts: Facts,
    fever: Fever,
    waiver: TreatmentGiven | None,
    hypotension: Hypotension,
    hypoxia: HypoxiaResult,
    unusable: Unusable,
) -> Grading:
    """The ASTCT grade from its parameters, with what is missing, every step and the evidence."""
    hyp, oxy = hypotension.part, hypoxia.part
    grade = crs_grade(fever.present, waiver is not None, max(hyp.grade, oxy.grade))
    missing = _grading_missing(facts, fever, hyp, oxy, unusable)
    is_minimum = _is_minimum(grade, _lower_bound(facts, hyp, oxy, unusable))
    steps = [*fever.part.steps, *_waiver_steps(waiver, facts.now)]
    conclusion = _conclusion(grade, fever, waiver, hyp.grade, oxy.grade, minimum=is_minimum)
    steps += [*hyp.steps, *oxy.steps, *unusable.steps, conclusion]
    if is_minimum:
        steps.append(f"Grade {grade} is a minimum: missing {'; '.join(missing)}.")
    return Grading(
        grade=grade,
        is_minimum=is_minimum,
        fever=fever,
        fever_waived=_fever_waived(waiver),
        hypotension=hypotension,
        hypoxia=hypoxia,
        steps=tuple(steps),
        missing=tuple(dict.fromkeys(missing)),
        evidence=(*fever.part.evidence, *hyp.evidence, *oxy.evidence, *_waiver_evidence(waiver)),
        cannot_exclude=unusable.cannot_exclude,
    )


def crs_grade(fever: bool | None, waived: bool, organ: int) -> int | None:
    """ASTCT 2019: with fever (or fever waived), the worse of hypotension and hypoxia; fever alone is grade 1.

    None without fever (and no waiver), or with a waiver and neither hypotension nor hypoxia.
    """
    if fever:
        return max(organ, 1)
    if waived:
        return organ or None
    return None


def _grading_missing(facts: Facts, fever: Fever, hyp: Part, oxy: Part, unusable: Unusable) -> list[str]:
    missing = [*fever.part.missing, *hyp.missing, *oxy.missing, *unusable.missing]
    if _has_gap(facts.data_gaps, VITAL_GAP_KEYS):
        missing.append("vital signs (they could not be read)")
    return missing


def _lower_bound(facts: Facts, hyp: Part, oxy: Part, unusable: Unusable) -> bool:
    """Data that could raise the grade is missing: a parameter's lower bound, or vital signs not read."""
    if hyp.minimum or oxy.minimum or unusable.lower_bound:
        return True
    return _has_gap(facts.data_gaps, VITAL_GAP_KEYS)


def _is_minimum(grade: int | None, lower_bound: bool) -> bool:
    """A grade below 4 found with data missing that could raise it."""
    if grade is None or grade >= 4:
        return False
    return lower_bound


def _waiver_steps(waiver: TreatmentGiven | None, now: datetime) -> list[str]:
    if waiver is None:
        return []
    return [f"Fever not required: {waiver.treatment_id} given at {clock(waiver.time, now)} after the exposure (ASTCT)."]


def _waiver_evidence(waiver: TreatmentGiven | None) -> tuple[Evidence, ...]:
    if waiver is None:
        return ()
    label = f"{waiver.treatment_id.capitalize()} given"
    return (Evidence(label, waiver.reference, None, waiver.kind, None, waiver.time),)


def _fever_waived(waiver: TreatmentGiven | None) -> str | None:
    if waiver is None:
        return None
    return waiver_name(waiver)


def _conclusion(
    grade: int | None, fever: Fever, waiver: TreatmentGiven | None, hyp: int, oxy: int, *, minimum: bool = False
) -> str:
    if grade is not None:
        return _graded_conclusion(grade, hyp, oxy, minimum=minimum)
    if waiver is not None:
        return "No hypotension or hypoxia: no ASTCT grade."
    return _no_fever_conclusion(fever, hyp, oxy)


def _graded_conclusion(grade: int, hyp: int, oxy: int, *, minimum: bool = False) -> str:
    """Which parameter set the grade (never "without hypotension or hypoxia" when they could not be assessed)."""
    if hyp and oxy:
        return f"Grade {grade} is the more severe of hypotension ({hyp}) and hypoxia ({oxy})."
    if hyp:
        return f"Grade {grade} from hypotension."
    if oxy:
        return f"Grade {grade} from hypoxia."
    if minimum:
        return "Fever; hypotension or hypoxia not excluded by the data: at least grade 1."
    return "Fever without hypotension or hypoxia: grade 1."


def _no_fever_conclusion(fever: Fever, hyp: int, oxy: int) -> str:
    """No grade: ASTCT requires fever (and none was found, or no temperature was recorded)."""
    signs = " and ".join(name for name, g in (("hypotension", hyp), ("hypoxia", oxy)) if g)
    reason = _no_fever_reason(fever)
    if signs:
        return f"ASTCT grading requires fever ({reason}): no grade, although {signs} is present."
    return f"ASTCT grading requires fever ({reason}): no grade."


def _no_fever_reason(fever: Fever) -> str:
    if fever.present is None:
        return "no temperature recorded"
    return "no fever"
