"""extract_facts: PatientRecord + knowledge base + now -> Facts (pure, linear in the size of the record).

    record ─┬─ exposure.py           exposures (administrations, orders, statements, dispenses, procedures)
            ├─ medications.py        draft orders (+ draft exposures), vasopressors, treatments, diagnoses
            ├─ observations.py       measurements in canonical units (units.py) and oxygen parts
            └─ oxygen.py             O2 support records from those parts

Every tuple of Facts is sorted, so the order of the record's resources changes nothing. Quality notes say what
was not used and why, naming concepts, units and counts, never patient data; each refused observation value is
also an UnusableValue in Facts.unusable ("present but unreadable", so no rule reads its concept as normal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TypeVar

from cds_service.domain.facts import (
    DiagnosisFact,
    EncounterFact,
    Exposure,
    Facts,
    Measurement,
    NeuroSign,
    O2Support,
    SetAsideResource,
    TreatmentGiven,
    UnusableValue,
    VasopressorUse,
)
from cds_service.intake.record import PatientRecord, SetAside
from cds_service.knowledge.base import KnowledgeBase
from cds_service.reading.exposure import recorded_exposures
from cds_service.reading.medications import (
    diagnoses,
    draft_orders,
    orders_on_chart,
    treatments_given,
    vasopressor_uses,
)
from cds_service.reading.neuro import neuro_events
from cds_service.reading.observations import read_observations
from cds_service.reading.oxygen import o2_support
from cds_service.reading.times import Notes, period_bounds, sort_key_time, to_date

T = TypeVar("T")
PARTIAL_BIRTH_DATE = "the birth date is partial: age is counted from its first day"
UNREADABLE_BIRTH_DATE = "the birth date could not be read: adult thresholds were used"
FUTURE_BIRTH_DATE = "the birth date is in the future (a typing error?): age unknown, adult thresholds were used"
_SET_ASIDE_KINDS = {
    "MedicationRequest": "medication",
    "MedicationAdministration": "medication",
    "MedicationStatement": "medication",
    "MedicationDispense": "medication",
    "Observation": "observation",
    "Procedure": "procedure",
    "Condition": "condition",
}


def extract_facts(record: PatientRecord, kb: KnowledgeBase, now: datetime) -> Facts:
    """The facts of one patient record at `now` (an aware datetime), in canonical units and sorted."""
    if now.tzinfo is None:
        raise ValueError("extract_facts needs an aware `now`")
    notes = Notes()
    exposures = recorded_exposures(record, kb, now, notes)
    orders, draft_exposures = draft_orders(record, kb, notes)
    observed = read_observations(record, kb, notes, now)
    return Facts(
        now=now,
        patient_id=record.patient_id,
        birth_date=_birth_date(record, notes, now.date()),
        birth_date_precision=record.patient.birth_date.precision
        if record.patient is not None and record.patient.birth_date is not None
        else None,
        exposures=_sorted(exposures + draft_exposures, _exposure_key),
        measurements=_sorted(observed.measurements, _measurement_key),
        o2_support=_sorted(o2_support(observed.o2_parts), _o2_key),
        vasopressors=_sorted(vasopressor_uses(record, kb, notes), _vasopressor_key),
        treatments=_sorted(treatments_given(record, kb, notes), _treatment_key),
        diagnoses=_sorted(diagnoses(record, kb, notes), _diagnosis_key),
        draft_orders=tuple(sorted(orders, key=lambda d: (d.reference, d.resource_type))),
        data_gaps=tuple(record.gaps),
        quality_notes=notes.render(),
        set_aside=tuple(_set_aside(item) for item in record.set_aside if item.could_matter),
        unusable=_sorted(observed.unusable, _unusable_key),
        neuro=_sorted([*observed.neuro, *neuro_events(record, kb, notes)], _neuro_key),
        cultures=tuple(sorted(observed.cultures, key=lambda c: (c.effective, c.reference or "", c.positive))),
        encounters=_encounters(record, notes),
        orders=tuple(sorted(orders_on_chart(record, kb, notes), key=lambda o: (o.resource_type, o.reference or "",
                                                                              o.text))),
    )


def _encounters(record: PatientRecord, notes: Notes) -> tuple[EncounterFact, ...]:
    found = []
    for encounter in record.encounters:
        start, end = period_bounds(encounter.period, notes)
        reference = f"Encounter/{encounter.id}" if encounter.id else None
        found.append(EncounterFact(encounter.class_code, encounter.status, start, end, reference))
    return tuple(sorted(found, key=lambda e: (sort_key_time(e.start), e.reference or "")))


def _birth_date(record: PatientRecord, notes: Notes, today: date) -> date | None:
    """The birth date, or None (age unknown: the card says "age unknown") when missing, unreadable or in the
    future: a newborn's thresholds for a typing error such as 2062 for 1962 would hide an adult's hypotension."""
    patient = record.patient
    if patient is None:
        return None
    if patient.birth_date is None:
        if any(p.field == "birthDate" for p in patient.problems):
            notes.add(UNREADABLE_BIRTH_DATE)
        return None
    if patient.birth_date.precision in ("year", "month"):
        notes.add(PARTIAL_BIRTH_DATE)
    born = to_date(patient.birth_date)
    if born is not None and born > today:
        notes.add(FUTURE_BIRTH_DATE)
        return None
    return born


def _set_aside(item: SetAside) -> SetAsideResource:
    return SetAsideResource(item.reference, item.field, item.reason, _SET_ASIDE_KINDS.get(item.resource_type, "other"))


def _sorted(items: Iterable[T], key: Callable[[T], tuple[object, ...]]) -> tuple[T, ...]:
    return tuple(sorted(items, key=key))


def _exposure_key(e: Exposure) -> tuple[object, ...]:
    return (e.drug_id, sort_key_time(e.last), sort_key_time(e.start), e.source, e.reference or "", e.matched_by)


def _measurement_key(m: Measurement) -> tuple[object, ...]:
    return (m.effective, m.concept, m.reference or "", m.code or "", m.value)


def _o2_key(s: O2Support) -> tuple[object, ...]:
    return (s.effective, s.device.value, s.reference or "", s.flow_l_min or 0.0)


def _vasopressor_key(v: VasopressorUse) -> tuple[object, ...]:
    return (sort_key_time(v.start), v.vasopressor_id, v.reference or "", sort_key_time(v.end))


def _treatment_key(t: TreatmentGiven) -> tuple[object, ...]:
    return (sort_key_time(t.time), t.treatment_id, t.reference or "")


def _unusable_key(u: UnusableValue) -> tuple[object, ...]:
    return (sort_key_time(u.effective), u.concept, u.reference or "", u.reason)


def _neuro_key(n: NeuroSign) -> tuple[object, ...]:
    return (sort_key_time(n.effective), n.domain, n.grade, n.reference or "", n.matched)


def _diagnosis_key(d: DiagnosisFact) -> tuple[object, ...]:
    return (d.concept, d.code, sort_key_time(d.onset), d.reference or "")
