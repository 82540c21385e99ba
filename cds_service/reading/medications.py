"""Vasopressors, CRS treatments, CRS/ICANS diagnoses and the draft orders of an order hook.

- Vasopressors (kb.identify_vasopressor): a MedicationAdministration in progress (end None unless its period
  has one), or completed, stopped or on hold with an effectivePeriod (start and end from the period); an active
  MedicationRequest with an order intent that is not as needed (start authoredOn, end None). A completed
  single-time administration is a bolus, not a running vasopressor. Neither counts when its route or the
  medication's words name a local or non-infusion use (NON_SYSTEMIC_STEMS, NON_SYSTEMIC_WORDS) or a local
  anaesthetic mixed with epinephrine (LOCAL_ANAESTHETICS).
- Treatments given (kb.identify_treatment, kinds anti-cytokine and corticosteroid): MedicationAdministration
  (the statuses that count as an exposure; time = start of the administration) and MedicationStatement
  (not not-taken, intended or entered-in-error). An order alone is not a treatment given.
- Diagnoses (kb.condition_concept on each coding of Condition.code): not entered-in-error; verificationStatus
  not refuted or entered-in-error (a CRS diagnosis: confirmed or absent, so not provisional, differential or
  unconfirmed); clinicalStatus active, recurrence, relapse or absent.
- Draft orders: each becomes a DraftOrder (selected when listed in context.selections), and a draft exposure
  when it names a catalogue drug.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from cds_service.domain.concepts import ConceptInput
from cds_service.domain.facts import DiagnosisFact, DraftOrder, Exposure, OrderOnChart, TreatmentGiven, VasopressorUse
from cds_service.intake.record import PatientRecord
from cds_service.intake.types import (
    CodeableConcept,
    Condition,
    DraftResource,
    MedicationAdministration,
    MedicationRequest,
    MedicationStatement,
    OtherOrder,
    ServiceRequest,
    reference_of,
)
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.text import normalise
from cds_service.reading.concepts import concept_of, medication_concept
from cds_service.reading.exposure import (
    ADMINISTRATION_STATUSES,
    STATEMENT_IGNORED,
    administration_status,
    is_order,
    request_status,
)
from cds_service.reading.times import Notes, effective_time, period_bounds, to_aware

TREATMENT_KINDS = frozenset({"anti-cytokine", "corticosteroid"})
EXCLUDED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
#: A CRS diagnosis is documented only when confirmed or without a verification status (review item 9):
#: provisional, differential and unconfirmed are hypotheses, not a documented CRS.
DOCUMENTED_VERIFICATION = frozenset({"confirmed"})
ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
#: Administration statuses of an infusion that ran and ended (or paused): counted over their effectivePeriod.
FINISHED_INFUSION = frozenset({"completed", "stopped", "on-hold"})

# Vasopressor names also appear in local and emergency uses that are not a running vasopressor (an IM epinephrine
# auto-injector for anaphylaxis, phenylephrine eye drops, lidocaine with epinephrine). These word lists are a
# reviewed design choice (clinical-safety review item 4), matched on normalised text (lower case, punctuation as
# spaces) of the route (coding displays and text) and of the medication (coding displays and text).
#: Route or form stems, matched anywhere in the text ("inhal" matches inhaled and inhalation).
NON_SYSTEMIC_STEMS = (
    "ophthalmic",
    "eye",
    "nasal",
    "inhal",
    "nebul",
    "topical",
    "intramuscular",
    "subcutaneous",
    "intradermal",
    "infiltration",
    "auto injector",
    "autoinjector",
)
#: Route abbreviations, matched only as whole words (intramuscular, subcutaneous).
NON_SYSTEMIC_WORDS = frozenset({"im", "sc"})
#: Local anaesthetics sold mixed with epinephrine: a medication text naming one is not a vasopressor.
LOCAL_ANAESTHETICS = ("lidocaine", "bupivacaine", "articaine", "prilocaine")


#: Local forms of a corticosteroid (a cream, eye drops, an inhaler, an enema...) that do not act systemically, so
#: they do not lift ASTCT's fever requirement (reviewed design choice; systemic routes, IM and SC included, count).
TOPICAL_STEMS = (
    "ophthalmic",
    "nasal",
    "inhal",
    "nebul",
    "topical",
    "cream",
    "ointment",
    "lotion",
    "enema",
    "rectal",
    "suppositor",
    "dermal",
    "intra articular",
    "intraarticular",
    "drops",
)
#: Short words matched only whole ("ear" is not in "clear").
TOPICAL_WORDS = frozenset({"eye", "ear", "otic", "gel", "foam"})


# ---------------------------------------------------------------- vasopressors


def vasopressor_uses(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> list[VasopressorUse]:
    """Running or finished vasopressor infusions and active continuous vasopressor orders (module docstring)."""
    uses: list[VasopressorUse] = []
    for admin in record.medication_administrations:
        if _infusion_status(admin):
            concept = medication_concept(record, admin)
            found = kb.identify_vasopressor(concept)
            route = admin.dosage.route if admin.dosage is not None else None
            if found is not None and not _local_use(concept, [route]):
                start, end = _administration_span(admin, notes)
                uses.append(VasopressorUse(found.id, found.is_vasopressin, start, end, reference_of(admin)))
    for request in record.medication_requests:
        if request_status(request) == "active" and is_order(request) and not _as_needed(request):
            concept = medication_concept(record, request)
            found = kb.identify_vasopressor(concept)
            if found is not None and not _local_use(concept, [d.route for d in request.dosage]):
                start = to_aware(request.authored_on, notes)
                uses.append(VasopressorUse(found.id, found.is_vasopressin, start, None, reference_of(request)))
    return uses


def _infusion_status(admin: MedicationAdministration) -> bool:
    """In progress; or completed, stopped or on hold with an effectivePeriod (a single-time dose is a bolus).

    No status, or status `unknown` (the sender does not know which applies): an infusion with a period that has no
    end is read as running, with a period as finished; a vasopressor is never hidden by an unknown status.
    """
    status = admin.status
    if status is None or status == "unknown":
        return admin.effective_period is not None
    return status == "in-progress" or (status in FINISHED_INFUSION and admin.effective_period is not None)


def _administration_span(admin: MedicationAdministration, notes: Notes) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a vasopressor administration; end None while it runs."""
    start, end = effective_time(admin.effective_time, admin.effective_period, notes)
    if admin.status in FINISHED_INFUSION:
        return start, end or start  # finished, its end not charted: it ran at least until its start
    return start, (end if admin.effective_period is not None else None)  # in progress since a single time


def _as_needed(request: MedicationRequest) -> bool:
    """Whether any dosage instruction of an order is as needed (asNeededBoolean or asNeededCodeableConcept)."""
    return any(d.as_needed for d in request.dosage)


def _local_use(concept: ConceptInput, routes: list[CodeableConcept | None]) -> bool:
    """Whether the route or the medication's words say a local, non-infusion use or a local-anaesthetic mix."""
    route_texts = [t for route in routes if route is not None for t in _words_of(concept_of(route))]
    medication_texts = _words_of(concept)
    if any(any(name in text for name in LOCAL_ANAESTHETICS) for text in medication_texts):
        return True
    return any(_non_systemic(text) for text in [*route_texts, *medication_texts])


def _non_systemic(text: str) -> bool:
    return any(stem in text for stem in NON_SYSTEMIC_STEMS) or bool(NON_SYSTEMIC_WORDS & set(text.split()))


def _words_of(concept: ConceptInput) -> list[str]:
    """The normalised coding displays and texts of a concept."""
    texts = [*(c.display for c in concept.codings if c.display), *concept.texts]
    return [normalise(t) for t in texts if t]


# ---------------------------------------------------------------- treatments


def treatments_given(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> list[TreatmentGiven]:
    """Anti-cytokine and corticosteroid treatments that reached the patient."""
    given: list[TreatmentGiven] = []
    for admin in record.medication_administrations:
        if administration_status(admin) in ADMINISTRATION_STATUSES:
            start = effective_time(admin.effective_time, admin.effective_period, notes)[0]
            route = admin.dosage.route if admin.dosage is not None else None
            given.extend(_treatment(record, kb, admin, start, [route]))
    for statement in record.medication_statements:
        if statement.status not in STATEMENT_IGNORED:
            start = effective_time(statement.effective_time, statement.effective_period, notes)[0]
            start = start or to_aware(statement.date_asserted, notes)
            given.extend(_treatment(record, kb, statement, start, [d.route for d in statement.dosage]))
    return given


def _treatment(
    record: PatientRecord,
    kb: KnowledgeBase,
    resource: MedicationAdministration | MedicationStatement,
    time: datetime | None,
    routes: list[CodeableConcept | None],
) -> Iterator[TreatmentGiven]:
    concept = medication_concept(record, resource)
    found = kb.identify_treatment(concept)
    if found is None or found.kind not in TREATMENT_KINDS:
        return
    if found.kind == "corticosteroid" and _topical(concept, routes):
        return  # hydrocortisone cream or an inhaled steroid does not lift the fever requirement
    ongoing = isinstance(resource, MedicationStatement) and resource.status == "active"
    yield TreatmentGiven(found.id, found.kind, time, reference_of(resource), ongoing)


def _topical(concept: ConceptInput, routes: list[CodeableConcept | None]) -> bool:
    texts = [t for route in routes if route is not None for t in _words_of(concept_of(route))] + _words_of(concept)
    return any(any(stem in text for stem in TOPICAL_STEMS) or TOPICAL_WORDS & set(text.split()) for text in texts)


# ---------------------------------------------------------------- diagnoses


def diagnoses(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> list[DiagnosisFact]:
    """CRS, ICANS (and seizure, when the knowledge base lists codes) diagnoses that stand."""
    facts: list[DiagnosisFact] = []
    for condition in record.conditions:
        if not condition_stands(condition) or condition.code is None:
            continue
        for coding in condition.code.coding:
            found = kb.condition_concept(coding.system, coding.code)
            if found is not None:
                concept, grade = found
                if concept == "crs" and not _confirmed(condition):
                    break
                onset = condition_onset(condition, notes)
                facts.append(DiagnosisFact(concept, coding.code or "", grade, onset, reference_of(condition)))
                break
    return facts


def condition_stands(condition: Condition) -> bool:
    """Not refuted or entered in error, and clinically active (or with no clinical status)."""
    if condition.verification_status & EXCLUDED_VERIFICATION:
        return False
    clinical = condition.clinical_status
    return not clinical or bool(clinical & ACTIVE_CLINICAL)


def _confirmed(condition: Condition) -> bool:
    """Whether a condition's verification status is confirmed or absent (a documented diagnosis)."""
    verification = condition.verification_status
    return not verification or bool(verification & DOCUMENTED_VERIFICATION)


def condition_onset(condition: Condition, notes: Notes) -> datetime | None:
    onset = to_aware(condition.onset_time, notes) or period_bounds(condition.onset_period, notes)[0]
    return onset or to_aware(condition.recorded_date, notes)


# ---------------------------------------------------------------- draft orders


def draft_orders(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> tuple[list[DraftOrder], list[Exposure]]:
    """DraftOrder entries for every draft order, and a draft Exposure for each naming a catalogue drug."""
    selected = {_tail(s) for s in record.selections}
    orders: list[DraftOrder] = []
    exposures: list[Exposure] = []
    for index, resource in enumerate(record.draft_orders):
        concept = _draft_concept(record, resource)
        reference = reference_of(resource) or f"{resource.resource_type}/#{index}"
        match = kb.identify_drug(concept)
        treatment = kb.identify_treatment(concept)
        orders.append(
            DraftOrder(
                reference=reference,
                resource_type=resource.resource_type,
                drug_id=match.drug.id if match else None,
                treatment_id=treatment.id if treatment else None,
                codes=tuple(f"{c.system or ''}|{c.code}" for c in concept.codings if c.code),
                text=_text(concept),
                selected=_tail(reference) in selected,
                display=_display(concept),
            )
        )
        if match is not None:
            authored = None if isinstance(resource, OtherOrder) else resource.authored_on
            start = to_aware(authored, notes)
            exposures.append(
                Exposure(match.drug.id, "draft-order", reference, start, None, match.matched_by, is_draft=True)
            )
    return orders, exposures


def _draft_concept(record: PatientRecord, resource: DraftResource) -> ConceptInput:
    if isinstance(resource, MedicationRequest):
        return medication_concept(record, resource)
    return concept_of(resource.code)


def _text(concept: ConceptInput) -> str:
    """The normalised display texts of an order, each once, joined by " / "."""
    texts = [normalise(t) for t in (*(c.display for c in concept.codings if c.display), *concept.texts)]
    return " / ".join(dict.fromkeys(t for t in texts if t))


def _display(concept: ConceptInput) -> str:
    """The order's own text as written (CodeableConcept.text first, else the first coding display)."""
    texts = [*concept.texts, *(c.display for c in concept.codings if c.display)]
    return next((t.strip() for t in texts if t and t.strip()), "")


def _tail(reference: str) -> str:
    """The "Type/id" of a relative or absolute reference."""
    return "/".join(reference.rstrip("/").split("/")[-2:])


# ---------------------------------------------------------------- orders on the chart

#: Statuses of an order still to be carried out.
PENDING_ORDER_STATUSES = frozenset({"active", "on-hold", "draft"})


def orders_on_chart(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> list[OrderOnChart]:
    """Active, on-hold and draft orders (MedicationRequest and ServiceRequest), and every draft order of the
    context: what a suggestion must not repeat."""
    found: list[OrderOnChart] = []
    requests: list[MedicationRequest | ServiceRequest] = [
        *(r for r in record.medication_requests if (r.status or "active") in PENDING_ORDER_STATUSES and is_order(r)),
        *(r for r in record.service_requests if (r.status or "active") in PENDING_ORDER_STATUSES),
    ]
    for resource in [*requests, *(d for d in record.draft_orders if not isinstance(d, OtherOrder))]:
        concept = _draft_concept(record, resource)
        treatment = kb.identify_treatment(concept)
        found.append(
            OrderOnChart(
                resource_type=resource.resource_type,
                treatment_id=treatment.id if treatment else None,
                codes=tuple(f"{c.system or ''}|{c.code}" for c in concept.codings if c.code),
                text=_text(concept),
                authored=to_aware(resource.authored_on, notes),
                reference=reference_of(resource),
            )
        )
    return found
