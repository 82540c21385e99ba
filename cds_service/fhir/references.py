"""medicationReference resolution for MedicationRequest, -Administration, -Statement and -Dispense.

A reference is resolved, in order, as a contained resource (`#id`, handled by
`PatientRecord.medication_concept`), as a Medication already in the record (from prefetch, a fetched search or
draftOrders), or by reading `{fhirServer}/Medication/{id}`; all reads of one call run concurrently, inside the
call's deadline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from cds_service.intake.record import PatientRecord
from cds_service.intake.types import MedicationResource, OtherOrder, ServiceRequest
from cds_service.security.fhir_guard import within_base

_FHIR_ID = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9\-.]{1,64}")  # FHIR id datatype; "." and ".." refused


def medication_key(reference: str, fhir_server: str | None) -> str | None:
    """`Medication/{id}` for a relative reference or an absolute one on `fhir_server`, else None."""
    if not reference or reference.startswith("#"):
        return None
    if "://" in reference:
        if fhir_server is None or not within_base(reference, fhir_server):
            return None  # another server or base: never sent the EHR's token
        reference = reference.split("/_history/")[0]
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "Medication" or not _FHIR_ID.fullmatch(parts[-1]):
        return None  # not a FHIR id ("..", a query, ...): nothing is fetched
    return f"Medication/{parts[-1]}"


def _holders(record: PatientRecord) -> Iterable[MedicationResource]:
    yield from record.medication_requests
    yield from record.medication_administrations
    yield from record.medication_statements
    yield from record.medication_dispenses
    yield from (d for d in record.draft_orders if not isinstance(d, ServiceRequest | OtherOrder))


def foreign_medications(record: PatientRecord, fhir_server: str | None) -> list[tuple[str, str]]:
    """(resource reference, host) of each medication resource whose medicationReference is an absolute URL on
    another server than fhirServer: never read (the EHR's token goes nowhere else), so named on a card."""
    found: list[tuple[str, str]] = []
    for resource in _holders(record):
        reference = resource.medication_reference.reference if resource.medication_reference else None
        if not reference or "://" not in reference:
            continue
        if fhir_server is not None and within_base(reference, fhir_server):
            continue
        owner = f"{resource.resource_type}/{resource.id}" if resource.id else f"a {resource.resource_type}"
        found.append((owner, urlsplit(reference).netloc))
    return found


def unresolved_medications(record: PatientRecord, fhir_server: str | None) -> list[str]:
    """The "Medication/{id}" keys referenced by the record's medication resources and not yet in
    `record.medications`.
    """
    wanted: list[str] = []
    for resource in _holders(record):
        reference = resource.medication_reference.reference if resource.medication_reference else None
        key = medication_key(reference, fhir_server) if reference else None
        if key is not None and key not in record.medications and key not in wanted:
            wanted.append(key)
    return wanted
