"""R4 JSON -> R4B models, tolerant of one bad resource, and cheap about the ones no rule reads.

    raw dicts --pre-filter (no validation)--> model_validate (R4B) --> PatientRecord lists

Why R4B: fhir.resources 8 has no R4 package, and its default (R5) models reject R4 MedicationRequests
(medication[x] became a CodeableReference in R5); R4B is wire-compatible with R4 for every type read here.
This module and record.py are the only importers of fhir.resources.

Pre-filter (validating an Observation costs far more than reading a few keys of its dict, and a heavy chart
has thousands): an Observation is dropped unparsed when it is cancelled or entered-in-error, when none of its
codings (components included, for blood-pressure panels) is known to the knowledge base, or when its time
(effective[x], else issued) is older than the look-back window. An unparseable time keeps it. With a
`ConceptLookback` (build_record passes one), an Observation older than its concept's window (bedside: the
grading window; labs: lab_max_age_days) is parsed only if needed for an exact "last seen" time (see `finish`).
A Condition is parsed only when one of its codes is known to the knowledge base (`condition_concept`: the CRS
and ICANS diagnoses the rules read). Medication*, Procedure and Patient are always parsed.
A resource failing validation is skipped, recorded in
`record.skipped` and logged with its type, id and the field paths of the error (never values). Unknown
resource types are ignored; entered-in-error resources are dropped.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

# R4B, not R4 or R5: see the module docstring.
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cds_service.fhir.record import (
    Condition,
    DataGap,
    Medication,
    MedicationAdministration,
    MedicationDispense,
    MedicationRequest,
    MedicationStatement,
    Observation,
    Patient,
    PatientRecord,
    Procedure,
    SkippedResource,
)

log = logging.getLogger(__name__)

#: Observations older than this before `now` are not parsed (the longest rule window is 7 days of labs).
OBSERVATION_LOOKBACK = timedelta(days=8)
#: Concepts read as laboratory results (looked back `lab_max_age_days`); every other concept is a bedside
#: observation (vital sign, oxygen, neurological score) looked back over the grading window.
LAB_CONCEPTS = frozenset(
    {"crp", "hs_crp", "ferritin", "il6", "ldh", "creatinine", "platelets", "fibrinogen", "d_dimer", "neutrophils"}
)

#: resource type -> PatientRecord list attribute
_LISTS: dict[str, str] = {
    "MedicationRequest": "medication_requests",
    "MedicationAdministration": "medication_administrations",
    "MedicationStatement": "medication_statements",
    "MedicationDispense": "medication_dispenses",
    "Procedure": "procedures",
    "Observation": "observations",
    "Condition": "conditions",
}
_MODELS: dict[str, Any] = {
    "Patient": Patient,
    "Medication": Medication,
    "MedicationRequest": MedicationRequest,
    "MedicationAdministration": MedicationAdministration,
    "MedicationStatement": MedicationStatement,
    "MedicationDispense": MedicationDispense,
    "Procedure": Procedure,
    "Observation": Observation,
    "Condition": Condition,
}
_DROPPED_OBSERVATION_STATUSES = frozenset({"cancelled", "entered-in-error"})
_FHIR_TIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class ObservationKnowledge(Protocol):
    """What the pre-filter needs of the knowledge base."""

    def observation_concept(self, system: str | None, code: str | None) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ConceptLookback:
    """How far back Observations are parsed, per kind of concept (from settings and knowledge).

    An Observation older than its window is parsed only when it is the latest of one of its concepts (or newer
    than that concept's latest one carrying a value), so "last seen" times stay exact.
    """

    bedside: timedelta  # settings.grading_window_hours
    labs: timedelta  # kb.thresholds.lab_max_age_days

    def window(self, concepts: Iterable[str]) -> timedelta:
        """The longest window among an Observation's concepts."""
        return max((self.labs if c in LAB_CONCEPTS else self.bedside for c in concepts), default=self.labs)


# ---------------------------------------------------------------- raw-dict helpers


def bundle_resources(body: Any) -> list[dict[str, Any]]:
    """The resources of a Bundle (nested Bundles unpacked, no search outcomes); `[body]` for a resource."""
    if not isinstance(body, dict):
        return []
    if body.get("resourceType") != "Bundle":
        return [body] if body.get("resourceType") != "OperationOutcome" else []
    resources = []
    for entry in as_list(body.get("entry")):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        if as_dict(entry.get("search")).get("mode") == "outcome":
            continue
        resources.extend(bundle_resources(entry["resource"]))  # a batch-response nests Bundles
    return resources


def is_operation_outcome(body: Any) -> bool:
    """True for an OperationOutcome (how a 2.0 EHR says it failed to prefetch a key)."""
    return isinstance(body, dict) and body.get("resourceType") == "OperationOutcome"


def parse_fhir_time(text: Any) -> datetime | None:
    """The latest instant a FHIR date, dateTime or instant can mean (a date: the end of that day), or None."""
    match = _FHIR_TIME.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour = match.group(1, 2, 3, 4)
    try:
        if month is None:
            return datetime(int(year) + 1, 1, 1, tzinfo=UTC)
        if day is None:
            start = datetime(int(year), int(month), 1, tzinfo=UTC)
            return (start + timedelta(days=32)).replace(day=1)
        if hour is None:
            return datetime(int(year), int(month), int(day), tzinfo=UTC) + timedelta(days=1, hours=14)
        moment = datetime.fromisoformat(text)  # Python 3.11 reads "Z", offsets and fractions
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except ValueError:
        return None


def observation_time(raw: dict[str, Any]) -> datetime | None:
    """An Observation's latest time: effectiveDateTime/Instant, effectivePeriod end or start, else issued."""
    period = raw.get("effectivePeriod") if isinstance(raw.get("effectivePeriod"), dict) else {}
    for text in (
        raw.get("effectiveDateTime"),
        raw.get("effectiveInstant"),
        period.get("end"),
        period.get("start"),
    ):
        if text is not None:
            return parse_fhir_time(text)
    return parse_fhir_time(raw.get("issued")) if raw.get("issued") is not None else None


def _observation_codings(raw: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    concepts = [raw.get("code")]
    concepts += [c.get("code") for c in as_list(raw.get("component")) if isinstance(c, dict)]
    for concept in concepts:
        for coding in as_list(as_dict(concept).get("coding")):
            system, code = (coding.get("system"), coding.get("code")) if isinstance(coding, dict) else (None, None)
            if isinstance(code, str) and (system is None or isinstance(system, str)):
                yield system, code


def condition_wanted(raw: dict[str, Any], knowledge: Any) -> bool:
    """False for a Condition none of whose codes the knowledge base knows (no rule could read it)."""
    known = getattr(knowledge, "condition_concept", None)
    if known is None:
        return True
    concept = raw.get("code")
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings if isinstance(codings, list) else []:
        system, code = (coding.get("system"), coding.get("code")) if isinstance(coding, dict) else (None, None)
        if isinstance(code, str) and isinstance(system, str | None) and known(system, code) is not None:
            return True
    return False


def observation_wanted(
    raw: dict[str, Any], knowledge: ObservationKnowledge | None, now: datetime | None
) -> bool:
    """The cheap pre-filter: False for an Observation no rule could use (see the module docstring)."""
    status = raw.get("status")
    if isinstance(status, str) and status in _DROPPED_OBSERVATION_STATUSES:
        return False
    if knowledge is not None and not any(
        knowledge.observation_concept(system, code) is not None for system, code in _observation_codings(raw)
    ):
        return False
    if now is None:
        return True
    moment = observation_time(raw)
    return moment is None or moment >= now - OBSERVATION_LOOKBACK


def observation_concepts(raw: dict[str, Any], knowledge: ObservationKnowledge) -> set[str]:
    """The knowledge-base concepts named by an Observation's codings (components included)."""
    concepts = {knowledge.observation_concept(system, code) for system, code in _observation_codings(raw)}
    concepts.discard(None)
    return concepts  # type: ignore[return-value]


def _carries_value(raw: dict[str, Any]) -> bool:
    """Whether an Observation (or one of its components) has a value[x]."""
    parts = [raw, *(c for c in as_list(raw.get("component")) if isinstance(c, dict))]
    return any(key.startswith("value") for part in parts for key in part)


def _entered_in_error(raw: dict[str, Any]) -> bool:
    if raw.get("status") == "entered-in-error":  # equality never raises, whatever the JSON type
        return True
    codings = as_list(as_dict(raw.get("verificationStatus")).get("coding"))
    return any(isinstance(c, dict) and c.get("code") == "entered-in-error" for c in codings)


def printable(value: Any, limit: int) -> str:
    """`value` as one short log-safe line: no control characters (no forged log lines), at most `limit` chars."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value)[:limit])
    return text + ("..." if len(str(value)) > limit else "")


def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else empty: raw JSON is read before validation and may be any shape."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else empty."""
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------- validation


def validate_resource(raw: dict[str, Any], model: Any, record: PatientRecord) -> Any | None:
    """`model.model_validate(raw)`, or None after recording the failure in `record.skipped` and the log."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['type']}"
            for e in exc.errors(include_url=False, include_input=False)[:5]
        )
    except Exception as exc:  # fhir.resources/fhir_core raise KeyError, TypeError... on odd shapes
        error = type(exc).__name__  # the type only: messages can quote the resource's content
    resource_type, resource_id = str(raw.get("resourceType")), raw.get("id")
    record.skipped.append(
        SkippedResource(resource_type, resource_id if isinstance(resource_id, str) else None, error)
    )
    shown = f"{printable(resource_type, 40)}/{printable(resource_id, 80)}"
    log.warning("skipped invalid FHIR resource %s: %s", shown, error)
    return None


class RecordBuilder:
    """Adds raw resources to a PatientRecord: filtered, validated, de-duplicated by type and id."""

    def __init__(
        self,
        record: PatientRecord,
        knowledge: ObservationKnowledge | None,
        now: datetime | None,
        *,
        prefilter: bool = True,
        lookback: ConceptLookback | None = None,
        max_observations: int | None = None,
    ) -> None:
        self.record = record
        self._max_observations = max_observations
        self._observations_over = 0
        self._knowledge = knowledge
        self._now = now
        self._prefilter = prefilter
        self._lookback = lookback if knowledge is not None and now is not None and prefilter else None
        self._seen: set[tuple[str, str]] = set()
        self._older: list[tuple[dict[str, Any], set[str], datetime]] = []

    def add_all(self, raws: Iterable[Any]) -> None:
        """Add every resource of `raws` (dicts; anything else is ignored)."""
        for raw in raws:
            if isinstance(raw, dict):
                self.add(raw)

    def add(self, raw: dict[str, Any]) -> None:
        """Add one raw resource where it belongs, unless unknown, entered-in-error, filtered or repeated."""
        resource_type = raw.get("resourceType")
        model = _MODELS.get(resource_type) if isinstance(resource_type, str) else None
        if model is None or _entered_in_error(raw) or self._duplicate(resource_type, raw.get("id")):
            return
        prefiltered = resource_type == "Observation" and self._prefilter
        if prefiltered and not observation_wanted(raw, self._knowledge, self._now):
            return
        if prefiltered and self._outside_concept_window(raw):
            return
        if resource_type == "Condition" and self._prefilter and not condition_wanted(raw, self._knowledge):
            return
        self._validate_and_place(raw, model, resource_type)

    def finish(self) -> None:
        """Parse the Observations held back as older than their concept's window that are still needed.

        Per concept, the newest held-back ones down to the newest carrying a value: the latest time a concept
        was seen stays exact. Call once, after every `add`.
        """
        by_concept: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        for index, (_, concepts, moment) in enumerate(self._older):
            for concept in concepts:
                by_concept[concept].append((moment, index))
        needed: set[int] = set()
        for entries in by_concept.values():
            for _, index in sorted(entries, reverse=True):
                needed.add(index)
                if _carries_value(self._older[index][0]):
                    break
        for index in sorted(needed):
            self._validate_and_place(self._older[index][0], Observation, "Observation")
        self._older.clear()
        self._report_cap()

    def _outside_concept_window(self, raw: dict[str, Any]) -> bool:
        """Hold back (for `finish`) an Observation older than its concept's look-back window."""
        if self._lookback is None or self._knowledge is None or self._now is None:
            return False
        moment = observation_time(raw)
        if moment is None:
            return False
        concepts = observation_concepts(raw, self._knowledge)
        if moment >= self._now - self._lookback.window(concepts):
            return False
        self._older.append((raw, concepts, moment))
        return True

    def _validate_and_place(self, raw: dict[str, Any], model: Any, resource_type: str) -> None:
        if resource_type == "Observation" and self._over_observation_cap():
            return
        resource = validate_resource(raw, model, self.record)
        if resource is not None:
            self._place(resource_type, resource)

    def _over_observation_cap(self) -> bool:
        """True (and counted) once `max_observations` were validated: a bound on CPU per call (the searches are
        sorted newest first, so the newest are kept); `finish` reports what was left out as a data gap."""
        if self._max_observations is None or len(self.record.observations) < self._max_observations:
            return False
        self._observations_over += 1
        return True

    def _report_cap(self) -> None:
        if self._observations_over:
            self.record.gaps.append(
                DataGap(
                    "observations",
                    f"{self._observations_over} older observations beyond the {self._max_observations} read per "
                    "call were not read",
                    "too-large",
                )
            )

    def _duplicate(self, resource_type: Any, resource_id: Any) -> bool:
        if not isinstance(resource_id, str):
            return False
        key = (resource_type, resource_id)
        if key in self._seen:
            return True
        self._seen.add(key)
        return False

    def _place(self, resource_type: str, resource: Any) -> None:
        if resource_type == "Patient":
            if self.record.patient is None:
                self.record.patient = resource
        elif resource_type == "Medication":
            if resource.id:
                self.record.medications.setdefault(f"Medication/{resource.id}", resource)
        else:
            getattr(self.record, _LISTS[resource_type]).append(resource)


def add_draft_orders(record: PatientRecord, bundle: dict[str, Any] | None) -> None:
    """Parse context.draftOrders into `record.draft_orders` (any order type) and `record.medications`."""
    for raw in bundle_resources(bundle):
        resource_type = raw.get("resourceType")
        if not isinstance(resource_type, str) or _entered_in_error(raw):
            continue
        try:
            model = get_fhir_model_class(resource_type)
        except ValueError:
            continue  # not a FHIR type: ignored
        resource = validate_resource(raw, model, record)
        if resource is None:
            continue
        if resource_type == "Medication":
            if resource.id:
                record.medications.setdefault(f"Medication/{resource.id}", resource)
        else:
            record.draft_orders.append(resource)


def record_from_resources(
    resources: Iterable[Any],
    *,
    knowledge: ObservationKnowledge | None,
    now: datetime | None,
    patient_id: str | None = None,
    draft_orders: dict[str, Any] | None = None,
    prefilter: bool = True,
) -> PatientRecord:
    """A PatientRecord from raw R4 JSON resources (Bundles unpacked), without any I/O.

    For fixtures, the CLI and tests: `record_from_resources(bundle_resources(bundle), knowledge=kb, now=now)`.
    `prefilter=False` validates every Observation whatever its code and age.
    """
    record = PatientRecord(patient_id=patient_id)
    builder = RecordBuilder(record, knowledge, now, prefilter=prefilter)
    for raw in resources:
        builder.add_all(bundle_resources(raw))
    add_draft_orders(record, draft_orders)
    if record.patient_id is None and record.patient is not None:
        record.patient_id = record.patient.id
    return record
