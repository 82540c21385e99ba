"""Observations -> Measurements in canonical units, and the oxygen-support parts they carry.

Read: status final, amended, corrected or preliminary (registered, cancelled, entered-in-error and unknown are
not used); time from effectiveDateTime, effectivePeriod (end, else start) or effectiveInstant (an observation
without one is not used, with a note); the value from valueQuantity only (valueInteger too for dimensionless
scores; valueCodeableConcept or valueString for the oxygen delivery method); dataAbsentReason: no value.

The concept comes from the first coding of Observation.code the knowledge base knows, so a US Core
pulse-oximetry resource coded both 59408-5 and 2708-6 is one SpO2 measurement. Components are read the same
way: blood-pressure panel (systolic, diastolic, MAP) and pulse-oximetry (O2 flow, FiO2) components. A panel with
systolic and diastolic but no measured MAP gets a computed MAP, (SBP + 2 x DBP) / 3, with code "computed-map".
A value with an unknown unit, with a comparator (`<5`), or an SpO2 or FiO2 outside 0-100 % (40 with unit "1") is
not used, and a quality note names the concept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cds_service.clinical.exposure import reference_of
from cds_service.clinical.facts_time import Notes, effective_time
from cds_service.clinical.model import Measurement, O2Device
from cds_service.clinical.units import SCORES, canonical_unit, quantity_spellings, to_canonical

if TYPE_CHECKING:
    from cds_service.fhir.record import Observation, PatientRecord
    from cds_service.knowledge.base import KnowledgeBase

USED_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})
COMPUTED_MAP = "computed-map"
_NOT_NUMERIC = frozenset({"bp_panel", "o2_device"})
_PERCENTAGES = frozenset({"spo2", "fio2"})  # a percentage outside 0-100 means the unit is wrong: not guessed
_UNIT_NOTE_MAX = 24


@dataclass(frozen=True, slots=True)
class O2Part:
    """What one observation says about oxygen support: a device, a flow (L/min), an FiO2 (%)."""

    effective: datetime
    reference: str | None
    device: O2Device | None = None
    flow_l_min: float | None = None
    fio2_percent: float | None = None


class Lookups:
    """The knowledge base's observation and O2-device recognisers, memoised for one extraction.

    A chart of thousands of observations repeats a handful of codes and device texts: each is resolved once.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self._concepts: dict[tuple[str | None, str | None], str | None] = {}
        self._devices: dict[tuple[str | None, str | None, str | None], O2Device | None] = {}

    def observation_concept(self, system: str | None, code: str | None) -> str | None:
        """kb.observation_concept, memoised."""
        key = (system, code)
        if key not in self._concepts:
            self._concepts[key] = self._kb.observation_concept(system, code)
        return self._concepts[key]

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


def read_observations(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> ObservationFacts:
    """Measurements and oxygen-support parts of every usable Observation of the record (linear)."""
    lookups = Lookups(kb)
    measurements: list[Measurement] = []
    o2_parts: list[O2Part] = []
    for observation in record.observations:
        if observation.status not in USED_STATUSES:
            continue
        start, end = effective_time(observation, "effective", notes)
        effective = end or start
        if effective is None:
            notes.add("an observation without an effective time was not used")
            continue
        found, device = _read_one(observation, lookups, effective, notes)
        measurements.extend(found)
        part = _o2_part(found, device, effective, reference_of(observation))
        if part is not None:
            o2_parts.append(part)
    return ObservationFacts(measurements, o2_parts)


def _read_one(
    observation: Observation, kb: Lookups, effective: datetime, notes: Notes
) -> tuple[list[Measurement], O2Device | None]:
    """The measurements of one observation (its value and its components) and the O2 device it names."""
    reference = reference_of(observation)
    found: list[Measurement] = []
    devices: list[O2Device] = []
    holders = [observation, *(observation.component or [])]
    for holder in holders:
        concept, code = _concept(holder.code, kb)
        if concept is None or holder.dataAbsentReason is not None:
            continue
        if concept == "o2_device":
            device = _device(holder, kb, notes)
            devices.extend([device] if device is not None else [])
        elif concept not in _NOT_NUMERIC:
            measurement = _measure(holder, concept, code, effective, reference, notes)
            found.extend([measurement] if measurement is not None else [])
    computed = _computed_map(found, effective, reference)
    return found + computed, (devices[0] if devices else None)


def _concept(codeable: Any, kb: Lookups) -> tuple[str | None, str | None]:
    for coding in (codeable.coding or []) if codeable is not None else []:
        concept = kb.observation_concept(coding.system, coding.code)
        if concept is not None:
            return concept, coding.code
    return None, None


def _measure(
    holder: Any, concept: str, code: str | None, effective: datetime, reference: str | None, notes: Notes
) -> Measurement | None:
    """One value in canonical units, or None (no numeric value, comparator, or an unknown unit: noted)."""
    unit = canonical_unit(concept)
    quantity = getattr(holder, "valueQuantity", None)
    integer = getattr(holder, "valueInteger", None)
    if unit is None:
        return None
    if quantity is None or quantity.value is None:
        if integer is not None and concept in SCORES:
            return Measurement(concept, float(integer), unit, effective, reference, code)
        return None
    if quantity.comparator is not None:
        notes.add(f"{concept} given with a comparator ({quantity.comparator}) not used")
        return None
    value = to_canonical(concept, quantity.value, quantity_spellings(quantity.unit, quantity.system, quantity.code))
    if value is None:
        notes.add(f"{concept} with unit {_unit_text(quantity)!r} not used (unit not known to the service)")
        return None
    if concept in _PERCENTAGES and not 0 <= value <= 100:
        notes.add(f"{concept} outside 0-100 % not used (value and unit disagree)")
        return None
    return Measurement(concept, value, unit, effective, reference, code)


def _unit_text(quantity: Any) -> str:
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


def _device(holder: Any, kb: Lookups, notes: Notes) -> O2Device | None:
    """The O2 device a 107117-4 value names (coded, its display, its text, or a valueString), or None."""
    concept = getattr(holder, "valueCodeableConcept", None)
    texts: list[str] = []
    if concept is not None:
        for coding in concept.coding or []:
            device = kb.o2_device(coding.system, coding.code, coding.display)
            if device is not None:
                return device
        texts.extend([concept.text] if concept.text else [])
    value_string = getattr(holder, "valueString", None)
    texts.extend([value_string] if value_string else [])
    for text in texts:
        device = kb.o2_device(None, None, text)
        if device is not None:
            return device
    if concept is not None or texts:
        notes.add("an oxygen delivery method the service does not recognise was not used")
    return None


def _o2_part(
    found: list[Measurement], device: O2Device | None, effective: datetime, reference: str | None
) -> O2Part | None:
    flow = max((m.value for m in found if m.concept == "o2_flow"), default=None)
    fio2 = max((m.value for m in found if m.concept == "fio2"), default=None)
    if device is None and flow is None and fio2 is None:
        return None
    return O2Part(effective, reference, device, flow, fio2)
