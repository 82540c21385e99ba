"""build_record: HookRequest -> PatientRecord, from prefetch and, for what the EHR left out, its FHIR server.

Per prefetch key of the service (CDS Hooks 2.0 "Prefetch"):

    present, a resource or Bundle  -> used (a `next` link is followed on fhirServer, up to fhir_max_pages)
    present, null                  -> "no data", a valid answer
    present, an OperationOutcome   -> the EHR failed: treated as missing
    missing                        -> GET {fhirServer}/{rendered template} with the fhirAuthorization token

All reads of one call run concurrently on the shared gateway under one deadline
(settings.fhir_deadline_seconds), then the medicationReferences still unresolved are read as
`{fhirServer}/Medication/{id}` within the same deadline. A key that could not be read becomes a `DataGap` in
clinician words and evaluation goes on; only when no key at all could be obtained is `PreconditionFailed`
(412) raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import OPTIONAL_KEYS, ServiceDefinition
from cds_service.domain.facts import DataGap
from cds_service.errors import PreconditionFailed
from cds_service.fhir.client import REASON_WORDS, FhirGateway
from cds_service.fhir.fetching import KeyOutcome, Reader, next_link, read_one, read_pages, run_until
from cds_service.fhir.references import foreign_medications, unresolved_medications
from cds_service.fhir.templates import missing_tokens, render_template
from cds_service.intake.builder import (
    ConceptLookback,
    ObservationKnowledge,
    RecordBuilder,
    add_draft_orders,
    bundle_resources,
    is_operation_outcome,
)
from cds_service.intake.record import PatientRecord
from cds_service.settings import Settings

log = logging.getLogger(__name__)

MEDICATIONS_KEY = "medications"

#: prefetch key -> what it holds, in words a clinician reads ("... could not be read (...)").
KEY_WORDS: dict[str, str] = {
    "patient": "the patient's demographics (age)",
    "medicationRequests": "medication orders",
    "medicationAdministrations": "medication administrations",
    "medicationStatements": "medication history",
    "medicationDispenses": "medication dispensing records",
    "procedures": "procedures (including CAR-T infusions)",
    "conditions": "diagnoses",
    "vitalSigns": "vital signs and neurological assessments",
    "encounters": "encounters (whether the patient is an inpatient)",
    "serviceRequests": "orders on the chart (cultures already ordered)",
    "labs": "laboratory results",
    MEDICATIONS_KEY: "some medications named by reference",
}
_NO_SERVER = "the EHR sent neither the data nor a FHIR server to read it from"
_MISSING = object()


async def build_record(
    request: HookRequest,
    service: ServiceDefinition,
    gateway: FhirGateway,
    *,
    fhir_allowed: bool,
    knowledge: ObservationKnowledge | None,
    settings: Settings,
    now: datetime | None = None,
) -> PatientRecord:
    """The PatientRecord of one hook call (see the module docstring). Raises `PreconditionFailed`.

    Queries issued: `GET {fhirServer}/{template}` for each missing key (e.g.
    `{fhirServer}/Observation?patient=123&category=vital-signs&_sort=-date&_count=200`), the `next` links of
    those searches and of paginated prefetch Bundles, and `GET {fhirServer}/Medication/{id}` for references.
    `fhir_allowed` is the caller's SSRF decision on fhirServer: when False, nothing is read from it.
    """
    now = now or datetime.now(UTC)
    loop = asyncio.get_running_loop()
    reader = _reader(request, gateway, settings, loop.time() + settings.fhir_deadline_seconds, fhir_allowed)
    outcomes, jobs = _plan(request, service, reader, fhir_allowed)
    await run_until(reader.deadline if reader else loop.time(), jobs)
    # An order hook's draft orders are data too: the order-time checks need nothing else, so no 412 for them.
    if not any(o.obtained for o in outcomes) and not _has_draft_orders(request):
        raise PreconditionFailed(_nothing_obtained_message(outcomes), expression=["prefetch", "fhirServer"])

    record = PatientRecord(
        patient_id=request.context.patientId, selections=tuple(request.context.selections or ())
    )
    add_draft_orders(record, request.context.draftOrders)
    builder = RecordBuilder(
        record, knowledge, now, lookback=_lookback(knowledge, settings), max_observations=settings.max_observations
    )
    # Reading is CPU-bound (~10 us per resource). A heavy chart is read in a worker thread so the event loop keeps
    # serving other calls; a typical one inline, since the thread hop lets later calls overtake and stretches the
    # latency tail under load (docs/PERFORMANCE.md).
    if sum(len(o.resources) for o in outcomes) > INLINE_PARSE_MAX_RESOURCES:
        await asyncio.to_thread(_add_outcomes, builder, outcomes)
    else:
        _add_outcomes(builder, outcomes)
    medication_outcome = await _resolve_medications(record, builder, reader, request.fhirServer, fhir_allowed)
    for outcome in [*outcomes, medication_outcome]:
        if outcome is not None and outcome.reason is not None:
            record.gaps.append(data_gap(outcome))
    record.gaps.extend(foreign_medication_gaps(record, request.fhirServer))
    if record.patient_id is None and record.patient is not None:
        record.patient_id = record.patient.id
    return record


INLINE_PARSE_MAX_RESOURCES = 2000  # raw resources; above this the pre-filter and reading run in a thread


def _has_draft_orders(request: HookRequest) -> bool:
    entries = (request.context.draftOrders or {}).get("entry")
    return isinstance(entries, list) and any(isinstance(e, dict) and e.get("resource") for e in entries)


def _add_outcomes(builder: RecordBuilder, outcomes: list[KeyOutcome]) -> None:
    for outcome in outcomes:
        builder.add_all(outcome.resources)
    builder.finish()


def _lookback(knowledge: ObservationKnowledge | None, settings: Settings) -> ConceptLookback | None:
    """Per-concept look-back: bedside observations over the grading window, labs over lab_max_age_days."""
    lab_days = getattr(getattr(knowledge, "thresholds", None), "lab_max_age_days", None)
    if lab_days is None:
        return None
    labs = timedelta(days=float(getattr(lab_days, "value", lab_days)))  # a Threshold(value, source) or a number
    return ConceptLookback(bedside=timedelta(hours=settings.grading_window_hours), labs=labs)


def _reader(
    request: HookRequest, gateway: FhirGateway, settings: Settings, deadline: float, fhir_allowed: bool
) -> Reader | None:
    if not request.fhirServer or not fhir_allowed:
        return None
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    return Reader(gateway, request.fhirServer, token, settings.fhir_max_pages, deadline)


def _plan(
    request: HookRequest, service: ServiceDefinition, reader: Reader | None, fhir_allowed: bool
) -> tuple[list[KeyOutcome], list[tuple[KeyOutcome, Awaitable[None]]]]:
    """One outcome per prefetch key, and the reads still to make for them."""
    prefetch = request.prefetch or {}
    outcomes: list[KeyOutcome] = []
    jobs: list[tuple[KeyOutcome, Awaitable[None]]] = []
    for key, template in service.prefetch.items():
        outcome = KeyOutcome(key)
        outcomes.append(outcome)
        value = prefetch.get(key, _MISSING)
        ehr_failed = is_operation_outcome(value) or not _usable(value)
        if ehr_failed:
            log.warning(
                "prefetch key %s: the EHR sent an error or no FHIR resource; reading it ourselves", key
            )
        elif value is not _MISSING:
            job = _use_prefetched(outcome, value, reader, fhir_allowed, request.fhirServer)
            if job is not None:
                jobs.append((outcome, job))
            continue
        job = _fetch_missing(outcome, template, request, reader, fhir_allowed, ehr_failed)
        if job is not None:
            jobs.append((outcome, job))
    return outcomes, jobs


def _usable(value: Any) -> bool:
    """A prefetch value the service can use: missing, null, or a FHIR resource (a Bundle included)."""
    if value is _MISSING or value is None:
        return True
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def _use_prefetched(
    outcome: KeyOutcome, value: Any, reader: Reader | None, fhir_allowed: bool, fhir_server: str | None
) -> Awaitable[None] | None:
    """Take a prefetched value; return the paging read when it is a Bundle with a `next` link."""
    outcome.obtained = True
    outcome.resources.extend(bundle_resources(value))
    following = next_link(value, fhir_server) if fhir_server else None
    if following is None:
        return None
    if reader is None:
        log.warning("prefetch key %s: a next link cannot be followed (no permitted FHIR server)", outcome.key)
        outcome.partial, outcome.reason = True, "not-allowed" if not fhir_allowed else "unreachable"
        return None
    return read_pages(reader, following, outcome, pages_done=1)


def _fetch_missing(
    outcome: KeyOutcome,
    template: str,
    request: HookRequest,
    reader: Reader | None,
    fhir_allowed: bool,
    ehr_failed: bool,
) -> Awaitable[None] | None:
    """The read of a key the EHR did not provide, or None (reason set in `outcome`) if none can be."""
    if request.fhirServer and not fhir_allowed:
        outcome.reason = "not-allowed"
        return None
    if reader is None:
        if outcome.key in OPTIONAL_KEYS and not ehr_failed:
            return None  # not sent and nowhere to read it from: the rules do without it
        outcome.reason, outcome.explanation = (
            ("ehr-error", None) if ehr_failed else ("unreachable", _NO_SERVER)
        )
        return None
    rendered = render_template(template, request.context)
    if rendered is None:
        tokens = ", ".join(missing_tokens(template, request.context))
        log.warning("prefetch key %s: not queried, no value for %s", outcome.key, tokens)
        outcome.reason, outcome.explanation = "not-found", "the hook context did not say whose data to read"
        return None
    return read_pages(reader, reader.url(rendered), outcome)


async def _resolve_medications(
    record: PatientRecord,
    builder: RecordBuilder,
    reader: Reader | None,
    fhir_server: str | None,
    fhir_allowed: bool,
) -> KeyOutcome | None:
    """Read every unresolved `Medication/{id}` concurrently: `GET {fhirServer}/Medication/{id}`."""
    keys = unresolved_medications(record, fhir_server)
    if not keys:
        return None
    outcome = KeyOutcome(MEDICATIONS_KEY)
    if reader is None:
        outcome.reason = "not-allowed" if fhir_server and not fhir_allowed else "unreachable"
        return outcome
    parts = [KeyOutcome(key) for key in keys]
    await run_until(
        reader.deadline, [(part, read_one(reader, key, part)) for part, key in zip(parts, keys, strict=True)]
    )
    for part in parts:
        builder.add_all(part.resources)
        if part.reason is not None and outcome.reason is None:
            outcome.reason = part.reason
    return outcome if outcome.reason else None


def foreign_medication_gaps(record: PatientRecord, fhir_server: str | None) -> list[DataGap]:
    """One DataGap per resource naming its medication on another server, e.g. "the medication of
    MedicationRequest/abc is on another server (pharmacy.example.org) and was not read"."""
    return [
        DataGap(
            key=MEDICATIONS_KEY,
            description=f"the medication of {owner} is on another server ({host[:80]}) and was not read",
            reason="not-allowed",
        )
        for owner, host in foreign_medications(record, fhir_server)
    ]


def data_gap(outcome: KeyOutcome) -> DataGap:
    """The DataGap of a key that fell short.

    E.g. "laboratory results could not be read (the FHIR server refused access)".
    """
    what = KEY_WORDS.get(outcome.key, outcome.key)
    why = outcome.explanation or REASON_WORDS.get(outcome.reason or "", outcome.reason or "unknown cause")
    verb = "could be read only in part" if outcome.partial else "could not be read"
    return DataGap(
        key=outcome.key, description=f"{what} {verb} ({why})", reason=outcome.reason or "server-error"
    )


def _nothing_obtained_message(outcomes: list[KeyOutcome]) -> str:
    reasons = sorted({o.explanation or REASON_WORDS.get(o.reason or "", "unknown") for o in outcomes})
    return (
        "No patient data could be obtained: the request did not carry the needed prefetch data and the FHIR "
        f"server could not be read ({'; '.join(reasons) or 'no prefetch keys'})."
    )
