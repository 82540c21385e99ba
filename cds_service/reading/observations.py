"""Observations -> Measurements in canonical units, and the oxygen-support parts they carry.

Read: status final, amended, corrected or preliminary (registered, cancelled, entered-in-error and unknown are
not used); time from effectiveDateTime, effectivePeriod (end, else start; start when the end is still ahead of
now) or effectiveInstant (an observation without one is not used, with a note). A time at most
facts_time.FUTURE_SKEW_TOLERANCE after now (device clock skew) is read as now; further ahead, every value of the
observation is unusable ("recorded in the future"). The value comes from valueQuantity only (valueInteger too for
dimensionless scores; valueCodeableConcept or valueString for the oxygen delivery method); dataAbsentReason: no
value.

The concept comes from the first coding of Observation.code the knowledge base knows, so a US Core
pulse-oximetry resource coded both 59408-5 and 2708-6 is one SpO2 measurement. Components are read the same
way: blood-pressure panel (systolic, diastolic, MAP) and pulse-oximetry (O2 flow, FiO2) components. A panel with
systolic and diastolic but no measured MAP gets a computed MAP, (SBP + 2 x DBP) / 3, with code "computed-map".
A value with an unknown unit, with a comparator (`<5`), of another type than a Quantity, an SpO2 or FiO2 outside
0-100 % (40 with unit "1"), or an FiO2 below 21 % (0.4 with unit "%": a fraction sent as percent) is not used:
a quality note names the concept and an UnusableValue says the value exists but cannot be read (never its value).

An O2 delivery method the knowledge base does not recognise is oxygen of unknown device (O2 given, device not
gradable), unless its text says no oxygen ("none", "off", "no O2"): then it is unusable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from cds_service.domain.facts import CultureResult, Measurement, NeuroSign, O2Device, UnusableValue
from cds_service.intake.record import PatientRecord
from cds_service.intake.types import CodeableConcept, Observation, ObservationValue, Quantity, reference_of
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.plausibility import PlausibleRange
from cds_service.knowledge.text import normalise
from cds_service.reading.times import Notes, effective_time, observed_at
from cds_service.reading.units import (
    SCORES,
    canonical_unit,
    conflicting_spellings,
    quantity_spellings,
    to_canonical,
    unit_display,
)


@dataclass(frozen=True, slots=True)
class O2Part:
    """What one observation says about oxygen support: a device, a flow (L/min), an FiO2 (%)."""

    effective: datetime
    reference: str | None
    device: O2Device | None = None
    flow_l_min: float | None = None
    fio2_percent: float | None = None


CONSCIOUSNESS_LABELS = {
    "alert": "awake and alert",
    "spontaneous": "awakens spontaneously",
    "voice": "awakens to voice",
    "tactile": "awakens only to tactile stimulus",
    "unarousable": "unarousable",
}
USED_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})
COMPUTED_MAP = "computed-map"
_NOT_NUMERIC = frozenset({"bp_panel", "o2_device", "consciousness", "neuro_event", "blood_culture"})
#: The laboratory flags a card repeats (FHIR v3 ObservationInterpretation codes: low, critical low, high...).
FLAGS = ("LL", "L", "HH", "H", "A", "AA")
#: Words that say a culture grew nothing (or has no result yet): never a positive culture.
NOT_GROWTH = (
    "no growth",
    "negative",
    "no organisms",
    "sterile",
    "pending",
    "in progress",
    "no bacteria",
    "not detected",
)
_PERCENTAGES = frozenset({"spo2", "fio2"})  # a percentage outside 0-100 means the unit is wrong: not guessed
_UNIT_NOTE_MAX = 24
ROOM_AIR_FIO2_PERCENT = 21.0  # FiO2 of ambient air: a lower FiO2 is not a breathing gas, so the unit is wrong
FIO2_BELOW_ROOM_AIR = "FiO2 below room air: probably a fraction sent as percent"
FUTURE_REASON = "recorded in the future"
#: Delivery-method texts (normalised) that say no oxygen is given, besides any text starting "no " or "not ".
#: A reviewed design choice: such a text the knowledge base does not map to room air is unusable, never "O2 given".
NO_OXYGEN_TEXTS = frozenset({"no", "none", "nil", "off", "n a", "na"})
class Lookups:
    """The knowledge base's observation and O2-device recognisers, memoised for one extraction.

    A chart of thousands of observations repeats a handful of codes and device texts: each is resolved once.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self._concepts: dict[tuple[str | None, str | None], str | None] = {}
        self._devices: dict[tuple[str | None, str | None, str | None], O2Device | None] = {}
        self._by_text: dict[tuple[str, ...], str | None] = {}

    def observation_concept(self, system: str | None, code: str | None) -> str | None:
        """kb.observation_concept, memoised."""
        key = (system, code)
        if key not in self._concepts:
            self._concepts[key] = self._kb.observation_concept(system, code)
        return self._concepts[key]

    def concept_by_text(self, codeable: CodeableConcept) -> str | None:
        """kb.observation_concept_by_text on a code's text and displays, memoised."""
        texts = tuple(t for t in (codeable.text, *(c.display for c in codeable.coding)) if t)
        if texts not in self._by_text:
            self._by_text[texts] = self._kb.observation_concept_by_text(texts) if texts else None
        return self._by_text[texts]

    def neuro_sign(
        self, concept: str, part: ObservationValue, effective: datetime, reference: str | None
    ) -> list[NeuroSign]:
        """A level of consciousness (its answer) or a neurological event (its code's text, with a positive
        answer) that an observation records; nothing for an answer the knowledge base cannot read."""
        answers = [t for t in (part.string, *(_concept_texts(part.concept))) if t]
        neuro = self._kb.neuro
        if concept == "consciousness":
            level = neuro.consciousness(answers)
            if level is None:
                return []
            grade = 0 if level == "alert" else neuro.grading.consciousness_grades.get(level, 0)  # alert: no grade
            return [NeuroSign("consciousness", grade, CONSCIOUSNESS_LABELS[level], effective, reference, level)]
        positive = part.boolean is True or any(neuro.is_positive_answer(a) for a in answers)
        event = neuro.event(_concept_texts(part.code)) if positive else None
        if event is None:
            return []
        return [NeuroSign(event.domain, event.grade, event.label, effective, reference, event.matched)]

    def o2_device(self, system: str | None, code: str | None, text: str | None) -> O2Device | None:
        """kb.o2_device, memoised."""
        key = (system, code, text)
        if key not in self._devices:
            self._devices[key] = self._kb.o2_device(system, code, text)
        return self._devices[key]


@dataclass(frozen=True, slots=True)
class ObservationFacts:
    measurements: list[Measurement]
    o2_parts: list[O2Part]
    unusable: list[UnusableValue] = field(default_factory=list)
    neuro: list[NeuroSign] = field(default_factory=list)
    cultures: list[CultureResult] = field(default_factory=list)


#: An observation with no status (spec-required, absent in some exports) is read as final: ignoring a charted
#: fever because its status is missing would be a false reassurance (docs/FINDINGS.md).
NO_STATUS = "final"


def read_observations(record: PatientRecord, kb: KnowledgeBase, notes: Notes, now: datetime) -> ObservationFacts:
    """Measurements, oxygen-support parts and unusable values of every Observation of the record (linear)."""
    reader = _Reader(Lookups(kb), notes, kb.plausibility)
    facts = ObservationFacts([], [], reader.unusable, reader.neuro, reader.cultures)
    for observation in record.observations:
        if (observation.status or NO_STATUS) not in USED_STATUSES:
            continue
        start, end = effective_time(observation.effective_time, observation.effective_period, notes)
        effective, in_future = observed_at(start, end, now)
        if effective is None:
            reader.refuse_untimed(observation)
        elif in_future:
            reader.refuse_future(observation, effective)
        else:
            found, device = reader.read_one(observation, effective)
            facts.measurements.extend(found)
            part = _o2_part(found, device, effective, reference_of(observation))
            facts.o2_parts.extend([part] if part is not None else [])
    return facts


class _Reader:
    """Reads one observation at a time, keeping the values it refuses (UnusableValue) and their notes."""

    def __init__(self, lookups: Lookups, notes: Notes, plausible: Mapping[str, PlausibleRange]) -> None:
        self.kb = lookups
        self.notes = notes
        self.plausible = plausible
        self.unusable: list[UnusableValue] = []
        self.neuro: list[NeuroSign] = []
        self.cultures: list[CultureResult] = []

    def refuse(
        self, concept: str, effective: datetime | None, reference: str | None, reason: str, shown: str | None = None
    ) -> None:
        """Record a value present in the chart but not usable (`shown`: the value as given, for the card only)."""
        self.unusable.append(UnusableValue(concept, effective, reason, reference, shown))

    def refuse_future(self, observation: Observation, effective: datetime) -> None:
        """Every value of an observation timed beyond the clock-skew tolerance: unusable, with a note."""
        reference = reference_of(observation)
        for part in observation.parts():
            concept, _ = _concept(part.code, self.kb)
            if concept is not None and concept != "bp_panel" and not part.data_absent:
                self.notes.add(f"{concept} recorded in the future not used")
                self.refuse(concept, effective, reference, FUTURE_REASON)

    def refuse_untimed(self, observation: Observation) -> None:
        """An observation of a known concept whose time is missing or unreadable: present, not usable."""
        reference = reference_of(observation)
        unreadable = any(p.field.startswith(("effective", "issued")) for p in observation.problems)
        reason = "its time could not be read" if unreadable else "it has no time"
        self.notes.add("an observation without a readable effective time was not used")
        for part in observation.parts():
            concept, _ = _concept(part.code, self.kb)
            if concept is not None and concept != "bp_panel" and part.has_value():
                self.refuse(concept, None, reference, reason)

    def read_one(self, observation: Observation, effective: datetime) -> tuple[list[Measurement], O2Device | None]:
        """The measurements of one observation (its value and its components) and the O2 device it names."""
        reference = reference_of(observation)
        found: list[Measurement] = []
        devices: list[O2Device] = []
        for part in observation.parts():
            concept, code = _concept(part.code, self.kb)
            if concept is None or part.data_absent:
                continue
            if concept == "o2_device":
                device = self.device(part, effective, reference)
                devices.extend([device] if device is not None else [])
            elif concept in ("consciousness", "neuro_event"):
                self.neuro.extend(self.kb.neuro_sign(concept, part, effective, reference))
            elif concept == "blood_culture":
                self.cultures.extend(_culture(observation, part, effective, reference))
            elif concept not in _NOT_NUMERIC:
                measurement = self.measure(part, concept, code, effective, reference)
                found.extend([measurement] if measurement is not None else [])
        computed = _computed_map(found, effective, reference)
        flag = next((f for f in FLAGS if f in observation.interpretation), None)
        if flag is not None:
            found = [replace(m, flag=flag) for m in found]
        return found + computed, (devices[0] if devices else None)

    def measure(
        self, part: ObservationValue, concept: str, code: str | None, effective: datetime, reference: str | None
    ) -> Measurement | None:
        """One value in canonical units, or None (no value; or refused: comparator, unknown unit, impossible)."""
        unit = canonical_unit(concept)
        if unit is None:
            return None
        quantity = part.quantity
        if quantity is None or quantity.value is None:
            if part.integer is not None and concept in SCORES:
                return Measurement(concept, float(part.integer), unit, effective, reference, code)
            if part.problems:
                self.notes.add(f"{concept} with a value that could not be read not used")
                self.refuse(concept, effective, reference, part.problems[0].reason.replace("not ", "value is not ", 1))
            elif part.has_value():
                self.notes.add(f"{concept} given as another type than a quantity not used")
                self.refuse(concept, effective, reference, "value is not a quantity")
            return None
        checked = _checked(concept, quantity, self.plausible.get(concept))
        if isinstance(checked, Refusal):
            self.notes.add(checked.note)
            self.refuse(concept, effective, reference, checked.reason, checked.shown)
            return None
        return Measurement(concept, checked, unit, effective, reference, code)

    def device(self, part: ObservationValue, effective: datetime, reference: str | None) -> O2Device | None:
        """The O2 device a 107117-4 value names; an unrecognised non-empty value that does not say "no oxygen" is
        oxygen given by an unknown device (never discarded); one that does is unusable."""
        concept = part.concept
        texts: list[str] = []
        if concept is not None:
            for coding in concept.coding:
                device = self.kb.o2_device(coding.system, coding.code, coding.display)
                if device is not None:
                    return device
            texts.extend([concept.text] if concept.text else [])
        texts.extend([part.string] if part.string else [])
        for text in texts:
            device = self.kb.o2_device(None, None, text)
            if device is not None:
                return device
        if not texts and not (concept is not None and concept.coding):
            return None
        if any(_says_no_oxygen(text) for text in texts):
            self.notes.add("an oxygen delivery method the service does not recognise was not used")
            self.refuse("o2_device", effective, reference, "oxygen delivery method not recognised")
            return None
        self.notes.add("an oxygen delivery method the service does not recognise was read as oxygen, device unknown")
        return O2Device.unknown


def _concept(codeable: CodeableConcept | None, kb: Lookups) -> tuple[str | None, str | None]:
    """The concept of a code: its first known coding, else what its text names (an ICE score by name)."""
    if codeable is None:
        return None, None
    for coding in codeable.coding:
        concept = kb.observation_concept(coding.system, coding.code)
        if concept is not None:
            return concept, coding.code
    return kb.concept_by_text(codeable), None


def _culture(
    observation: Observation, part: ObservationValue, effective: datetime, reference: str | None
) -> list[CultureResult]:
    """A blood culture: positive when its value names an organism (coded or text) and no negative word."""
    texts = [t for t in (part.string, *_concept_texts(part.concept)) if t]
    if not texts:
        return []
    words = " ".join(normalise(t) for t in texts)
    if any(phrase in words for phrase in NOT_GROWTH) or "NEG" in observation.interpretation:
        return [CultureResult(effective, False, None, reference)]
    organism = texts[0][:80]
    return [CultureResult(effective, True, organism, reference, observation.status == "preliminary")]


def _concept_texts(codeable: CodeableConcept | None) -> list[str]:
    if codeable is None:
        return []
    return [t for t in (codeable.text, *(c.display for c in codeable.coding)) if t]


def _spellings(quantity: Quantity) -> tuple[str | None, ...]:
    return quantity_spellings(quantity.unit, quantity.system, quantity.code)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a quantity cannot be used: a quality note (no value), the card's reason, the value as given."""

    note: str
    reason: str
    shown: str | None = None


def _checked(concept: str, quantity: Quantity, plausible: PlausibleRange | None) -> float | Refusal:
    """The value in canonical units, or why it cannot be used: a comparator, an unknown unit, a UCUM code and a
    unit text that disagree, a percentage outside 0-100, an FiO2 below room air, or a value outside the
    concept's plausible range (cards/plausibility.yaml). The note never names the value; the card may."""
    if quantity.comparator is not None:
        comparator = quantity.comparator
        return Refusal(f"{concept} given with a comparator ({comparator}) not used",
                       f"value has a comparator ({comparator})", _as_given(quantity))
    spellings = _spellings(quantity)
    if conflicting_spellings(concept, spellings):
        return Refusal(f"{concept} whose unit code and unit text disagree not used",
                       f"its unit code {quantity.code!r} and unit text {quantity.unit!r} disagree",
                       _as_given(quantity))
    assert quantity.value is not None  # noqa: S101 - the caller checked it
    value = to_canonical(concept, quantity.value, spellings)
    if value is None:
        unit = _unit_text(quantity)
        return Refusal(f"{concept} with unit {unit!r} not used (unit not known to the service)",
                       f"unit {unit!r} is not known", _as_given(quantity))
    if concept in _PERCENTAGES and not 0 <= value <= 100:
        return Refusal(f"{concept} outside 0-100 % not used (value and unit disagree)",
                       "outside 0-100 %: value and unit disagree", _as_given(quantity))
    if concept == "fio2" and value < ROOM_AIR_FIO2_PERCENT:
        return Refusal(f"{concept} below 21 % not used (probably a fraction sent as percent)",
                       FIO2_BELOW_ROOM_AIR, _as_given(quantity))
    if plausible is not None and not plausible.contains(value):
        unit = unit_display(plausible.unit)
        converted = _shown(value, plausible.unit)
        same_unit = quantity.value is not None and abs(quantity.value - value) < 1e-9
        return Refusal(f"{concept} outside its plausible range not used",
                       f"outside {plausible.low:g}–{plausible.high:g} {unit}".rstrip(),
                       converted if same_unit else f"{_as_given(quantity)} ({converted})")
    return value


def _shown(value: float, unit: str) -> str:
    """A value as a clinician writes it: one decimal at most ("3.8 °C", "1000 °C", "1e+308 °C")."""
    return f"{round(value, 1):g} {unit_display(unit)}".rstrip()


def _as_given(quantity: Quantity) -> str:
    """The quantity as the chart wrote it ("38.9 [degF]"), for the card."""
    value = "" if quantity.value is None else f"{quantity.value:g}"
    unit = quantity.unit or quantity.code or ""
    return f"{value} {unit}".strip()


def _says_no_oxygen(text: str) -> bool:
    """Whether an unrecognised delivery-method text says that no oxygen is given ("none", "off", "no O2")."""
    words = normalise(text)
    return words in NO_OXYGEN_TEXTS or words.startswith(("no ", "not "))


def _unit_text(quantity: Quantity) -> str:
    text = quantity.code if quantity.code is not None else quantity.unit
    return "(none)" if text is None else str(text)[:_UNIT_NOTE_MAX]


def _computed_map(found: list[Measurement], effective: datetime, reference: str | None) -> list[Measurement]:
    """A computed MAP when one observation has systolic and diastolic components but no measured MAP."""
    by_concept = {m.concept: m for m in found}
    systolic, diastolic = by_concept.get("systolic"), by_concept.get("diastolic")
    if systolic is None or diastolic is None or "map" in by_concept:
        return []
    value = (systolic.value + 2 * diastolic.value) / 3
    return [Measurement("map", round(value, 1), "mm[Hg]", effective, reference, COMPUTED_MAP)]


def _o2_part(
    found: list[Measurement], device: O2Device | None, effective: datetime, reference: str | None
) -> O2Part | None:
    flow = max((m.value for m in found if m.concept == "o2_flow"), default=None)
    fio2 = max((m.value for m in found if m.concept == "fio2"), default=None)
    if device is None and flow is None and fio2 is None:
        return None
    return O2Part(effective, reference, device, flow, fio2)
