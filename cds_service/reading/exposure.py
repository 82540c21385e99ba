"""Exposure timeline: every catalogue drug that reached (or is ordered for) the patient, and when.

    MedicationAdministration  completed, in-progress, on-hold, stopped (a stopped infusion did reach the patient);
                              effectiveDateTime or effectivePeriod; in-progress without an end: ongoing
    MedicationRequest         active, completed, on-hold, stopped; intent order (original-, reflex-, filler-,
                              instance-order); last = validityPeriod end, else the latest boundsPeriod end or
                              timing event, else authoredOn; active with a last date still ahead: ongoing
    MedicationStatement       any status but not-taken, intended and entered-in-error; active: ongoing
    MedicationDispense        completed; whenHandedOver, else whenPrepared
    Procedure                 completed, in-progress (kb.identify_procedure on Procedure.code)

A missing status or intent (spec-required, yet absent in real exports) never hides an exposure: see
NO_STATUS_ADMINISTRATION and `is_order` below.

`last` is the latest time the drug reached the patient (an order: its last covered date), never after `now`;
an ongoing exposure's `last` is `now`. Draft orders are read in medication_facts.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from cds_service.domain.facts import Exposure
from cds_service.intake.record import PatientRecord
from cds_service.intake.types import (
    MedicationAdministration,
    MedicationRequest,
    MedicationResource,
    Procedure,
    reference_of,
)
from cds_service.knowledge.base import DrugMatch, KnowledgeBase
from cds_service.reading.concepts import concept_of, medication_concept
from cds_service.reading.times import Notes, effective_time, period_bounds, to_aware

ADMINISTRATION_STATUSES = frozenset({"completed", "in-progress", "on-hold", "stopped"})
REQUEST_STATUSES = frozenset({"active", "completed", "on-hold", "stopped"})
ORDER_INTENTS = frozenset({"order", "original-order", "reflex-order", "filler-order", "instance-order"})
STATEMENT_IGNORED = frozenset({"not-taken", "intended", "entered-in-error"})
DISPENSE_STATUSES = frozenset({"completed"})
PROCEDURE_STATUSES = frozenset({"completed", "in-progress"})
#: Spec-required elements that may be absent (docs/FINDINGS.md, "What the intake reads"): safety first, a
#: record of a CRS drug reaching the patient counts as an exposure when the element that would say otherwise is
#: missing. An administration with no status is read as completed; an order with no status as active, and with
#: no intent as an order.
NO_STATUS_ADMINISTRATION = "completed"
NO_STATUS_REQUEST = "active"
NO_STATUS_NOTE = "a {kind} of {drug} without a status was counted as given"


def is_order(request: MedicationRequest) -> bool:
    """Whether a MedicationRequest is an order (not a proposal, plan, directive or option); no intent: an order."""
    return request.intent is None or request.intent in ORDER_INTENTS


def administration_status(admin: MedicationAdministration) -> str:
    """The status, read as completed when absent or `unknown`: an exposure is never hidden by a status the sender
    did not know."""
    if admin.status is None or admin.status == "unknown":
        return NO_STATUS_ADMINISTRATION
    return admin.status


def request_status(request: MedicationRequest) -> str:
    return request.status or NO_STATUS_REQUEST


def administration_times(
    admin: MedicationAdministration, now: datetime, notes: Notes
) -> tuple[datetime | None, datetime | None, bool]:
    """(start, last, ongoing) of a MedicationAdministration; an in-progress one without an end is ongoing."""
    start, end = effective_time(admin.effective_time, admin.effective_period, notes)
    ongoing = administration_status(admin) == "in-progress" and end is None
    return _clamp(start, now), (now if ongoing else _clamp(end or start, now)), ongoing


def request_last_date(request: MedicationRequest, notes: Notes) -> datetime | None:
    """An order's last covered date: validityPeriod end, else the latest boundsPeriod end or timing event."""
    _, validity_end = period_bounds(request.validity_period, notes)
    if validity_end is not None:
        return validity_end
    ends = [moment for moment in _timing_ends(request, notes) if moment is not None]
    return max(ends) if ends else None


def _timing_ends(request: MedicationRequest, notes: Notes) -> Iterator[datetime | None]:
    for dosage in request.dosage:
        for event in dosage.timing_events:
            yield to_aware(event, notes)
        yield period_bounds(dosage.bounds_period, notes)[1]


def _clamp(moment: datetime | None, now: datetime) -> datetime | None:
    return None if moment is None else min(moment, now)


# ---------------------------------------------------------------- per resource type


def _from_administrations(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for admin in record.medication_administrations:
        if administration_status(admin) not in ADMINISTRATION_STATUSES:
            continue
        match = kb.identify_drug(medication_concept(record, admin))
        if match is not None:
            if admin.status is None or admin.status == "unknown":
                notes.add(NO_STATUS_NOTE.format(kind="medication administration", drug=match.drug.generic_name))
            start, last, ongoing = administration_times(admin, now, notes)
            yield _exposure(match, admin, start, last, ongoing)


def _from_requests(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for request in record.medication_requests:
        status = request_status(request)
        if status not in REQUEST_STATUSES or not is_order(request):
            continue
        match = kb.identify_drug(medication_concept(record, request))
        if match is None:
            continue
        authored = to_aware(request.authored_on, notes)
        last_date = request_last_date(request, notes)
        ongoing = status == "active" and last_date is not None and last_date >= now
        last = now if ongoing else _clamp(last_date or authored, now)
        yield _exposure(match, request, _clamp(authored, now), last, ongoing)


def _from_statements(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for statement in record.medication_statements:
        if statement.status in STATEMENT_IGNORED:
            continue
        match = kb.identify_drug(medication_concept(record, statement))
        if match is None:
            continue
        start, end = effective_time(statement.effective_time, statement.effective_period, notes)
        start = start or to_aware(statement.date_asserted, notes)
        ongoing = statement.status == "active" and (end is None or end >= now)
        last = now if ongoing else _clamp(end or start, now)
        yield _exposure(match, statement, _clamp(start, now), last, ongoing)


def _from_dispenses(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for dispense in record.medication_dispenses:
        if (dispense.status or "completed") not in DISPENSE_STATUSES:
            continue
        match = kb.identify_drug(medication_concept(record, dispense))
        if match is not None:
            moment = _clamp(to_aware(dispense.when_handed_over or dispense.when_prepared, notes), now)
            yield _exposure(match, dispense, moment, moment, False)


def _from_procedures(record: PatientRecord, kb: KnowledgeBase, now: datetime, notes: Notes) -> Iterator[Exposure]:
    for procedure in record.procedures:
        if (procedure.status or "completed") not in PROCEDURE_STATUSES:
            continue
        match = kb.identify_procedure(concept_of(procedure.code))
        if match is None:
            continue
        start, end = effective_time(procedure.performed_time, procedure.performed_period, notes)
        ongoing = procedure.status == "in-progress" and end is None
        last = now if ongoing else _clamp(end or start, now)
        yield _exposure(match, procedure, _clamp(start, now), last, ongoing)


def _exposure(
    match: DrugMatch,
    resource: MedicationResource | Procedure,
    start: datetime | None,
    last: datetime | None,
    ongoing: bool,
) -> Exposure:
    return Exposure(
        drug_id=match.drug.id,
        source=resource.resource_type,
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
