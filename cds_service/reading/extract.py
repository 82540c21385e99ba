"""extract_facts: PatientRecord + knowledge base + now -> Facts (pure, linear in the size of the record).

    record ─┬─ exposure.py           exposures (administrations, orders, statements, dispenses, procedures)
            ├─ medication_facts.py   draft orders (+ draft exposures), vasopressors, treatments, diagnoses
            ├─ observations.py       measurements in canonical units (units.py) and oxygen parts
            └─ oxygen.py             O2 support records from those parts

Every tuple of Facts is sorted, so the order of the record's resources changes nothing. Quality notes say what
was not used and why, naming concepts, units and counts, never patient data; each refused observation value is
also an UnusableValue in Facts.unusable ("present but unreadable", so no rule reads its concept as normal).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from cds_service.domain.facts import (
    DiagnosisFact,
    Exposure,
    Facts,
    Measurement,
    O2Support,
    TreatmentGiven,
    UnusableValue,
    VasopressorUse,
)
from cds_service.reading.exposure import recorded_exposures
from cds_service.reading.medications import diagnoses, draft_orders, treatments_given, vasopressor_uses
from cds_service.reading.observations import read_observations
from cds_service.reading.oxygen import o2_support
from cds_service.reading.times import Notes, sort_key_time, to_date

if TYPE_CHECKING:
    from cds_service.fhir.record import PatientRecord
    from cds_service.knowledge.base import KnowledgeBase

T = TypeVar("T")


def extract_facts(record: PatientRecord, kb: KnowledgeBase, now: datetime) -> Facts:
    """The facts of one patient record at `now` (an aware datetime), in canonical units and sorted."""
    if now.tzinfo is None:
        raise ValueError("extract_facts needs an aware `now`")
    notes = Notes()
    exposures = recorded_exposures(record, kb, now, notes)
    orders, draft_exposures = draft_orders(record, kb, notes)
    observed = read_observations(record, kb, notes, now)
    if record.skipped:
        count = len(record.skipped)
        notes.add(f"{count} malformed resource{' was' if count == 1 else 's were'} skipped")
    return Facts(
        now=now,
        patient_id=record.patient_id,
        birth_date=_birth_date(record, notes),
        exposures=_sorted(exposures + draft_exposures, _exposure_key),
        measurements=_sorted(observed.measurements, _measurement_key),
        o2_support=_sorted(o2_support(observed.o2_parts), _o2_key),
        vasopressors=_sorted(vasopressor_uses(record, kb, notes), _vasopressor_key),
        treatments=_sorted(treatments_given(record, kb, notes), _treatment_key),
        diagnoses=_sorted(diagnoses(record, kb, notes), _diagnosis_key),
        draft_orders=tuple(sorted(orders, key=lambda d: (d.reference, d.resource_type))),
        data_gaps=tuple(record.gaps),
        quality_notes=notes.render(),
        skipped_count=len(record.skipped),
        unusable=_sorted(observed.unusable, _unusable_key),
    )


def _birth_date(record: PatientRecord, notes: Notes) -> date | None:
    raw = getattr(record.patient, "birthDate", None) if record.patient is not None else None
    if isinstance(raw, str):
        notes.add("the birth date is partial: age is counted from its first day")
    return to_date(raw)


def _sorted(items: Iterable[T], key: Any) -> tuple[T, ...]:
    return tuple(sorted(items, key=key))


def _exposure_key(e: Exposure) -> tuple[Any, ...]:
    return (e.drug_id, sort_key_time(e.last), sort_key_time(e.start), e.source, e.reference or "", e.matched_by)


def _measurement_key(m: Measurement) -> tuple[Any, ...]:
    return (m.effective, m.concept, m.reference or "", m.code or "", m.value)


def _o2_key(s: O2Support) -> tuple[Any, ...]:
    return (s.effective, s.device.value, s.reference or "", s.flow_l_min or 0.0)


def _vasopressor_key(v: VasopressorUse) -> tuple[Any, ...]:
    return (sort_key_time(v.start), v.vasopressor_id, v.reference or "", sort_key_time(v.end))


def _treatment_key(t: TreatmentGiven) -> tuple[Any, ...]:
    return (sort_key_time(t.time), t.treatment_id, t.reference or "")


def _unusable_key(u: UnusableValue) -> tuple[Any, ...]:
    return (sort_key_time(u.effective), u.concept, u.reference or "", u.reason)


def _diagnosis_key(d: DiagnosisFact) -> tuple[Any, ...]:
    return (d.concept, d.code, sort_key_time(d.onset), d.reference or "")
