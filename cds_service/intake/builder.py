"""Raw FHIR JSON (decoded) -> PatientRecord: filtered, read into intake types, de-duplicated by type and id.

    raw dicts --pre-filter (a few keys)--> intake.read (only the elements rules read) --> PatientRecord lists

Pre-filter (reading a few keys of a dict is cheaper than reading the resource, and a heavy chart has thousands
of Observations): an Observation is left unread when it is cancelled or entered-in-error, when none of its
codings (components included) is known to the knowledge base, or when its time (effective[x], else issued) is
older than OBSERVATION_LOOKBACK. With a `ConceptLookback`, an Observation older than its concept's window
(bedside: the grading window; labs: lab_max_age_days) is read only if needed for an exact "last seen" time (see
`finish`). A Condition is read only when one of its codes is known to the knowledge base. Medication*,
Procedure, Patient and Encounter are always read. Resources of other types are ignored.

A resource whose identifying element (an Observation's, Condition's or Procedure's code; a medication
resource's medication[x]) is present but unreadable is set aside (`record.set_aside`): it is named on the
data-gap card when a rule could have read it, and logged (type, id, field: never its content) otherwise.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cds_service.domain.facts import DataGap
from cds_service.intake import read
from cds_service.intake.read import READERS, as_list, as_object
from cds_service.intake.record import PatientRecord, SetAside
from cds_service.intake.times import parse_time

log = logging.getLogger(__name__)

#: Observations older than this before `now` are not read (the longest rule window is 7 days of labs) ...
OBSERVATION_LOOKBACK = timedelta(days=8)
#: ... except body weight and height, which dose calculations take from the latest charted value.
LONG_LOOKBACK: dict[str, timedelta] = {"body_weight": timedelta(days=90), "body_height": timedelta(days=365)}
_LONGEST_LOOKBACK = max(LONG_LOOKBACK.values())
#: Concepts read as laboratory results (looked back `lab_max_age_days`); every other concept is a bedside
#: observation (vital sign, oxygen, neurological score) looked back over the grading window.
LAB_CONCEPTS = frozenset(
    {
        "crp",
        "hs_crp",
        "ferritin",
        "il6",
        "ldh",
        "creatinine",
        "platelets",
        "fibrinogen",
        "d_dimer",
        "neutrophils",
        "blood_culture",
        "lactate",
        "cortisol",
        "body_weight",
        "body_height",
    }
)
#: Observation categories the rules read; an unreadable Observation of another category is logged, not carded.
RULE_CATEGORIES = frozenset({"vital-signs", "laboratory", "survey", "exam", "procedure"})
_DROPPED_OBSERVATION_STATUSES = frozenset({"cancelled", "entered-in-error"})
_MEDICATION_TYPES = frozenset(
    {"MedicationRequest", "MedicationAdministration", "MedicationStatement", "MedicationDispense"}
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
    "Encounter": "encounters",
    "ServiceRequest": "service_requests",
}
_CHART_TYPES = frozenset({*_LISTS, "Patient", "Medication"})
_CODED_TYPES = frozenset({"Observation", "Condition", "Procedure"})


class ObservationKnowledge(Protocol):
    """What the pre-filter needs of the knowledge base."""

    def observation_concept(self, system: str | None, code: str | None) -> str | None: ...

    def observation_concept_by_text(self, texts: Iterable[str]) -> str | None: ...

    def condition_concept(self, system: str | None, code: str | None) -> tuple[str, int | None] | None: ...

    def condition_event(
        self, codings: Iterable[tuple[str | None, str | None]], texts: Iterable[str]
    ) -> object | None: ...


@dataclass(frozen=True, slots=True)
class ConceptLookback:
    """How far back Observations are read, per kind of concept (from settings and knowledge).

    An Observation older than its window is read only when it is the latest of one of its concepts (or newer
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
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        search = entry.get("search")
        if search is not None and (as_object(search) or {}).get("mode") == "outcome":
            continue
        kind = resource.get("resourceType")
        if kind == "Bundle":
            resources.extend(bundle_resources(resource))  # a batch-response nests Bundles
        elif kind != "OperationOutcome":
            resources.append(resource)
    return resources


def is_operation_outcome(body: Any) -> bool:
    """True for an OperationOutcome (how a 2.0 EHR says it failed to prefetch a key)."""
    return isinstance(body, dict) and body.get("resourceType") == "OperationOutcome"


def observation_time(raw: dict[str, Any]) -> datetime | None:
    """An Observation's latest time: effectiveDateTime/Instant, effectivePeriod end or start, else issued."""
    found = raw.get("effectivePeriod")
    period: dict[str, Any] = found if isinstance(found, dict) else {}
    for text in (raw.get("effectiveDateTime"), raw.get("effectiveInstant"), period.get("end"), period.get("start")):
        if text is not None:
            parsed = parse_time(text) if isinstance(text, str) else None
            return parsed.latest if parsed is not None else None
    issued = raw.get("issued")
    parsed = parse_time(issued) if isinstance(issued, str) else None
    return parsed.latest if parsed is not None else None


def _codings(concept: Any) -> list[tuple[str | None, str]]:
    """The (system, code) pairs of a raw CodeableConcept's codings that have a code (a list, not a generator:
    it runs for every Observation of a chart)."""
    obj = concept if isinstance(concept, dict) else as_object(concept)
    if obj is None:
        return []
    found = []
    for coding in as_list(obj.get("coding")):
        if isinstance(coding, dict):
            code = read.text_of(coding.get("code"))
            if code is not None:
                found.append((read.text_of(coding.get("system")), code))
    return found


def code_texts(concept: Any) -> list[str]:
    """The text and coding displays of a raw CodeableConcept (plain text accepted)."""
    if isinstance(concept, str):
        return [concept]
    obj = as_object(concept) or {}
    texts = [read.text_of(c.get("display")) for c in as_list(obj.get("coding")) if isinstance(c, dict)]
    return [t for t in [read.text_of(obj.get("text")), *texts] if t]


def condition_wanted(raw: dict[str, Any], knowledge: ObservationKnowledge | None) -> bool:
    """False for a Condition no rule could read: none of its codes is a CRS or ICANS diagnosis the knowledge
    base knows, and neither its codes nor its text name a neurological event (cards/icans.yaml)."""
    if knowledge is None:
        return True
    codings = _codings(raw.get("code"))
    if any(knowledge.condition_concept(system, code) is not None for system, code in codings):
        return True
    return knowledge.condition_event(codings, code_texts(raw.get("code"))) is not None


def observation_wanted(raw: dict[str, Any], knowledge: ObservationKnowledge | None, now: datetime | None) -> bool:
    """The cheap pre-filter: False for an Observation no rule could use (see the module docstring)."""
    return _observation_verdict(raw, knowledge, now)[0]


def _observation_verdict(
    raw: dict[str, Any], knowledge: ObservationKnowledge | None, now: datetime | None
) -> tuple[bool, datetime | None, set[str] | None]:
    """The pre-filter's verdict, with the time and the concepts it read on the way (None: not read), so the
    look-back window reads neither again."""
    status = raw.get("status")
    if isinstance(status, str) and status in _DROPPED_OBSERVATION_STATUSES:
        return False, None, None
    moment = observation_time(raw) if now is not None else None
    if now is not None and moment is not None and moment < now - OBSERVATION_LOOKBACK:
        # Older than the look-back: only a weight or height still counts. The time is read before the codes
        # (most of a long chart is old), and an Observation older than every look-back needs no code look-up.
        if knowledge is None or moment < now - _LONGEST_LOOKBACK:
            return False, moment, None
        concepts = observation_concepts(raw, knowledge)  # empty exactly when no code or text is known
        return any(moment >= now - LONG_LOOKBACK[c] for c in concepts if c in LONG_LOOKBACK), moment, concepts
    if knowledge is None:
        return True, moment, None
    concepts = observation_concepts(raw, knowledge)
    return bool(concepts), moment, concepts


def observation_concepts(raw: dict[str, Any], knowledge: ObservationKnowledge) -> set[str]:
    """The knowledge-base concepts named by an Observation's codings (components included), or its code's text."""
    codings = _codings(raw.get("code"))
    components = raw.get("component")
    if components is not None:
        for component in as_list(components):
            if isinstance(component, dict):
                codings.extend(_codings(component.get("code")))
    found = {c for system, code in codings if (c := knowledge.observation_concept(system, code)) is not None}
    if not found:
        by_text = knowledge.observation_concept_by_text(code_texts(raw.get("code")))
        if by_text is not None:
            found.add(by_text)
    return found


def _carries_value(raw: dict[str, Any]) -> bool:
    """Whether an Observation (or one of its components) has a value[x]."""
    parts = [raw, *(c for c in as_list(raw.get("component")) if isinstance(c, dict))]
    return any(key.startswith("value") for part in parts for key in part)


def entered_in_error(raw: dict[str, Any]) -> bool:
    if raw.get("status") == "entered-in-error":  # equality never raises, whatever the JSON type
        return True
    return "entered-in-error" in read.codes_of(raw.get("verificationStatus"))


_READABLE_SHAPES = (dict, list, str)


def _unreadable_identity(raw: dict[str, Any], resource_type: str) -> tuple[str, str] | None:
    """(field, reason) when the element saying what a resource is about is present but of a shape no reader
    accepts (a number, a boolean): an object, a list or a text is always read (`read.concept_of`)."""
    if resource_type in _MEDICATION_TYPES:
        concept, reference = raw.get("medicationCodeableConcept"), raw.get("medicationReference")
        if concept is None and reference is None:
            return None
        if isinstance(concept, _READABLE_SHAPES) or isinstance(reference, _READABLE_SHAPES):
            return None
        field = "medicationCodeableConcept" if concept is not None else "medicationReference"
        return field, "not a CodeableConcept or Reference the service can read"
    if resource_type in _CODED_TYPES:
        code = raw.get("code")
        if code is not None and not isinstance(code, _READABLE_SHAPES):
            return "code", "not a CodeableConcept"
    return None


# ---------------------------------------------------------------- building


class RecordBuilder:
    """Adds raw resources to a PatientRecord: filtered, read, de-duplicated by type and id."""

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
        if not isinstance(resource_type, str) or resource_type not in _CHART_TYPES:
            return
        if entered_in_error(raw) or self._duplicate(resource_type, raw.get("id")):
            return
        if self._set_aside(raw, resource_type):
            return
        if resource_type == "Observation" and self._prefilter and not self._observation_wanted(raw):
            return
        if resource_type == "Condition" and self._prefilter and not condition_wanted(raw, self._knowledge):
            return
        self._read_and_place(raw, resource_type)

    def finish(self) -> None:
        """Read the Observations held back as older than their concept's window that are still needed.

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
            self._read_and_place(self._older[index][0], "Observation")
        self._older.clear()
        self._report_cap()

    def _observation_wanted(self, raw: dict[str, Any]) -> bool:
        wanted, moment, concepts = _observation_verdict(raw, self._knowledge, self._now)
        return wanted and not self._outside_concept_window(raw, moment, concepts)

    def _set_aside(self, raw: dict[str, Any], resource_type: str) -> bool:
        problem = _unreadable_identity(raw, resource_type)
        if problem is None:
            return False
        field, reason = problem
        categories = read.codes_of(raw.get("category"))
        could_matter = resource_type != "Observation" or not categories or bool(categories & RULE_CATEGORIES)
        if resource_type == "Condition":
            could_matter = False  # only coded CRS/ICANS diagnoses are read: an unreadable code is none of them
        item = SetAside(resource_type, read.text_of(raw.get("id")), field, reason, could_matter)
        self.record.set_aside.append(item)
        log.warning("set aside FHIR resource %s: %s %s", printable(item.reference, 120), field, reason)
        return True

    def _outside_concept_window(self, raw: dict[str, Any], moment: datetime | None, concepts: set[str] | None) -> bool:
        """Hold back (for `finish`) an Observation older than its concept's look-back window (`moment` and
        `concepts` as the pre-filter read them)."""
        if self._lookback is None or self._knowledge is None or self._now is None or moment is None:
            return False
        if concepts is None:
            concepts = observation_concepts(raw, self._knowledge)
        if moment >= self._now - self._lookback.window(concepts):
            return False
        self._older.append((raw, concepts, moment))
        return True

    def _read_and_place(self, raw: dict[str, Any], resource_type: str) -> None:
        if resource_type == "Observation" and self._over_observation_cap():
            return
        resource = READERS[resource_type](raw)
        if resource_type == "Patient":
            if self.record.patient is None:
                self.record.patient = resource
        elif resource_type == "Medication":
            if resource.id:
                self.record.medications.setdefault(f"Medication/{resource.id}", resource)
        else:
            getattr(self.record, _LISTS[resource_type]).append(resource)

    def _over_observation_cap(self) -> bool:
        """True (and counted) once `max_observations` were read: a bound on CPU per call (the searches are
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
                    f"only the newest {self._max_observations} observations were read; "
                    f"{self._observations_over} older ones were not",
                    "too-large",
                )
            )

    def _duplicate(self, resource_type: str, resource_id: Any) -> bool:
        if not isinstance(resource_id, str):
            return False
        key = (resource_type, resource_id)
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


def add_draft_orders(record: PatientRecord, bundle: dict[str, Any] | None) -> None:
    """Read context.draftOrders into `record.draft_orders` (any order type) and `record.medications`.

    A draft is read whatever its status and intent say (the CDS Hooks sandbox sends drafts without `intent`):
    being in draftOrders is what makes it a draft order.
    """
    for raw in bundle_resources(bundle):
        resource_type = raw.get("resourceType")
        if not isinstance(resource_type, str) or entered_in_error(raw):
            continue
        if resource_type == "Medication":
            found = read.medication(raw)
            if found.id:
                record.medications.setdefault(f"Medication/{found.id}", found)
        elif resource_type == "MedicationRequest":
            record.draft_orders.append(read.medication_request(raw))
        elif resource_type == "ServiceRequest":
            record.draft_orders.append(read.service_request(raw))
        else:
            record.draft_orders.append(read.other_order(raw))


def record_from_resources(
    resources: Iterable[Any],
    *,
    knowledge: ObservationKnowledge | None,
    now: datetime | None,
    patient_id: str | None = None,
    draft_orders: dict[str, Any] | None = None,
    prefilter: bool = True,
) -> PatientRecord:
    """A PatientRecord from decoded FHIR JSON resources (Bundles unpacked), without any I/O.

    For fixtures, the CLI and tests: `record_from_resources(bundle_resources(bundle), knowledge=kb, now=now)`.
    `prefilter=False` reads every Observation whatever its code and age.
    """
    record = PatientRecord(patient_id=patient_id)
    builder = RecordBuilder(record, knowledge, now, prefilter=prefilter)
    for raw in resources:
        builder.add_all(bundle_resources(raw))
    builder.finish()
    add_draft_orders(record, draft_orders)
    if record.patient_id is None and record.patient is not None:
        record.patient_id = record.patient.id
    return record


def printable(value: Any, limit: int) -> str:
    """`value` as one short log-safe line: no control characters (no forged log lines), at most `limit` chars."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value)[:limit])
    return text + ("..." if len(str(value)) > limit else "")

