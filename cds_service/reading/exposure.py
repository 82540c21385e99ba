"""Exposure timeline: every catalogue drug that reached (or is ordered for) the patient, and when.

    MedicationAdministration  completed, in-progress, on-hold, stopped (a stopped infusion did reach the patient);
                              effectiveDateTime or effectivePeriod; in-progress without an end: ongoing
    MedicationRequest         active, completed, on-hold, stopped; intent order (original-, reflex-, filler-,
                              instance-order); last = validityPeriod end, else the latest boundsPeriod end or
                              timing event, else authoredOn; active with a last date still ahead: ongoing
    MedicationStatement       any status but not-taken, intended and entered-in-error; active: ongoing
    MedicationDispense        completed; whenHandedOver, else whenPrepared
    Procedure                 completed, in-progress (kb.identify_procedure on Procedure.code)

`last` is the latest time the drug reached the patient (an order: its last covered date), never after `now`;
an ongoing exposure's `last` is `now`. Draft orders are read in medication_facts.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cds_service.domain.concepts import CodingRef, ConceptInput
from cds_service.domain.facts import Exposure
from cds_service.reading.times import Notes, effective_time, period_bounds, to_aware

if TYPE_CHECKING:
    from cds_service.fhir.record import PatientRecord
    from cds_service.knowledge.base import KnowledgeBase

ADMINISTRATION_STATUSES = frozenset({"completed", "in-progress", "on-hold", "stopped"})
REQUEST_STATUSES = frozenset({"active", "completed", "on-hold", "stopped"})
ORDER_INTENTS = frozenset({"order", "original-order", "reflex-order", "filler-order", "instance-order"})
STATEMENT_IGNORED = frozenset({"not-taken", "intended", "entered-in-error"})
DISPENSE_STATUSES = frozenset({"completed"})
PROCEDURE_STATUSES = frozenset({"completed", "in-progress"})


def reference_of(resource: Any) -> str | None:
    """The "Type/id" of a resource, or None when it has no id."""
    resource_id = getattr(resource, "id", None)
    return f"{resource.get_resource_type()}/{resource_id}" if resource_id else None


def concept_of(codeable: Any) -> ConceptInput:
    """Codings and text of a CodeableConcept (for Procedure.code, ServiceRequest.code...)."""
    if codeable is None:
        return ConceptInput()
    codings = tuple(CodingRef(c.system, c.code, c.display) for c in codeable.coding or [])
    return ConceptInput(codings=codings, texts=(codeable.text,) if codeable.text else ())


def is_order(request: Any) -> bool:
    """Whether a MedicationRequest is an order (not a proposal, plan, directive or option)."""
    return getattr(request, "intent", None) in ORDER_INTENTS


def administration_times(admin: Any, now: datetime, notes: Notes) -> tuple[datetime | None, datetime | None, bool]:
    """(start, last, ongoing) of a MedicationAdministration; an in-progress one without an end is ongoing."""
    start, end = effective_time(admin, "effective", notes)
    ongoing = admin.status == "in-progress" and end is None
    return _clamp(start, now), (now if ongoing else _clamp(end or start, now)), ongoing


def request_last_date(request: Any, notes: Notes) -> datetime | None:
    """An order's last covered date: validityPeriod end, else the latest boundsPeriod end or timing event."""
    dispense = getattr(request, "dispenseRequest", None)
    _, validity_end = period_bounds(getattr(dispense, "validityPeriod", None), notes)
    if validity_end is not None:
        return validity_end
    ends = [moment for moment in _timing_ends(request, notes) if moment is not None]
    return max(ends) if ends else None


def _timing_ends(request: Any, notes: Notes) -> Iterator[datetime | None]:
    for dosage in getattr(request, "dosageInstruction", None) or []:
        timing = getattr(dosage, "timing", None)
        if timing is None:
            continue
        for event in timing.event or []:
            yield to_aware(event, notes)
        repeat = timing.repeat
        if repeat is not None:
            yield period_bounds(getattr(repeat, "boundsPeriod", None), notes)[1]


def _clamp(moment: datetime | None, now: datetime) -> datetime | None:
    return None if moment is None else min(moment, now)


# ---------------------------------------------------------------- per resource type


def _from_administrations(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for admin in record.medication_administrations:
        if admin.status not in ADMINISTRATION_STATUSES:
            continue
        match = kb.identify_drug(record.medication_concept(admin))
        if match is not None:
            start, last, ongoing = administration_times(admin, now, notes)
            yield _exposure(match, admin, start, last, ongoing)


def _from_requests(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for request in record.medication_requests:
        if request.status not in REQUEST_STATUSES or not is_order(request):
            continue
        match = kb.identify_drug(record.medication_concept(request))
        if match is None:
            continue
        authored = to_aware(request.authoredOn, notes)
        last_date = request_last_date(request, notes)
        ongoing = request.status == "active" and last_date is not None and last_date >= now
        last = now if ongoing else _clamp(last_date or authored, now)
        yield _exposure(match, request, _clamp(authored, now), last, ongoing)


def _from_statements(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for statement in record.medication_statements:
        if statement.status in STATEMENT_IGNORED:
            continue
        match = kb.identify_drug(record.medication_concept(statement))
        if match is None:
            continue
        start, end = effective_time(statement, "effective", notes)
        start = start or to_aware(statement.dateAsserted, notes)
        ongoing = statement.status == "active" and (end is None or end >= now)
        last = now if ongoing else _clamp(end or start, now)
        yield _exposure(match, statement, _clamp(start, now), last, ongoing)


def _from_dispenses(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for dispense in record.medication_dispenses:
        if dispense.status not in DISPENSE_STATUSES:
            continue
        match = kb.identify_drug(record.medication_concept(dispense))
        if match is not None:
            moment = _clamp(to_aware(dispense.whenHandedOver or dispense.whenPrepared, notes), now)
            yield _exposure(match, dispense, moment, moment, False)


def _from_procedures(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for procedure in record.procedures:
        if procedure.status not in PROCEDURE_STATUSES:
            continue
        match = kb.identify_procedure(concept_of(procedure.code))
        if match is None:
            continue
        start, end = effective_time(procedure, "performed", notes)
        ongoing = procedure.status == "in-progress" and end is None
        last = now if ongoing else _clamp(end or start, now)
        yield _exposure(match, procedure, _clamp(start, now), last, ongoing)


def _exposure(match: Any, resource: Any, start: datetime | None, last: datetime | None, ongoing: bool) -> Exposure:
    return Exposure(
        drug_id=match.drug.id,
        source=resource.get_resource_type(),
        reference=reference_of(resource),
        start=start,
        last=last,
        matched_by=match.matched_by,
        ongoing=ongoing,
    )


def recorded_exposures(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> list[Exposure]:
    """Exposures to catalogue drugs from the chart's medication resources and procedures (no drafts)."""
    sources: Iterable[Iterator[Exposure]] = (
        _from_administrations(record, kb, now, notes),
        _from_requests(record, kb, now, notes),
        _from_statements(record, kb, now, notes),
        _from_dispenses(record, kb, now, notes),
        _from_procedures(record, kb, now, notes),
    )
    return [exposure for source in sources for exposure in source]


# ---------------------------------------------------------------- helpers for the rules


def exposure_moment(exposure: Exposure, now: datetime) -> datetime | None:
    """When an exposure counts from: now while ongoing, else its last (or only) time, never after now."""
    if exposure.ongoing:
        return now
    moment = exposure.last or exposure.start
    return None if moment is None else min(moment, now)


def days_since(exposure: Exposure, now: datetime) -> int | None:
    """Whole days since the exposure (0 while ongoing or today); None when its time is unknown."""
    moment = exposure_moment(exposure, now)
    return None if moment is None else max(0, (now - moment) // timedelta(days=1))


def in_window(exposure: Exposure, drug: Any, now: datetime) -> bool:
    """Whether `now` is at most `drug.exposure_window_days` after the exposure (False for a draft or no time)."""
    moment = exposure_moment(exposure, now)
    if exposure.is_draft or moment is None:
        return False
    return now - moment <= timedelta(days=int(drug.exposure_window_days))
