"""Decoded FHIR JSON -> intake types: liberal in what is accepted, exact in what is read.

Only the elements the rules read are looked at; nothing else can drop a resource. Each element is read when it
is readable, whatever small liberty the sender took:

    a single object where a list is expected       read as a one-item list (the CDS Hooks sandbox's category)
    a list where a single object is expected        its first object
    a number written as a string ("38.5")           read as the number
    a code written as a number (8310)               read as its text
    a boolean written as "true" / "false"           read as the boolean
    a CodeableConcept written as plain text         read as its text

An element present but unreadable (a time that is not a FHIR time, a value that is not a number, an object
that is a number) is left out and recorded as a `FieldProblem` on the resource: the rules then decide, per
element, whether the resource can still be used (docs/FINDINGS.md, "What the intake reads").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from cds_service.intake.times import parse_time
from cds_service.intake.types import (
    CodeableConcept,
    Coding,
    Condition,
    Dosage,
    Encounter,
    FhirTime,
    FieldProblem,
    Medication,
    MedicationAdministration,
    MedicationDispense,
    MedicationRequest,
    MedicationStatement,
    Observation,
    ObservationValue,
    OtherOrder,
    Patient,
    Period,
    Procedure,
    Quantity,
    Reference,
    ServiceRequest,
)

_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
#: value[x] types an Observation may carry that the rules do not read (present, so not "no value").
_OTHER_VALUES = (
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
)


class Problems:
    """The FieldProblems of one resource being read."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field: str, reason: str) -> None:
        self.items.append(FieldProblem(field, reason))

    def done(self) -> tuple[FieldProblem, ...]:
        return tuple(self.items)


# ---------------------------------------------------------------- primitives


def as_list(value: Any) -> list[Any]:
    """A JSON array as a list; a single object (or other value) as a one-item list; absent as empty."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def as_object(value: Any) -> dict[str, Any] | None:
    """A JSON object; the first object of an array; else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return next((item for item in value if isinstance(item, dict)), None)
    return None


def text_of(value: Any) -> str | None:
    """A JSON string (stripped, None when empty); a number as its text; else None."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def number_of(value: Any) -> float | None:
    """A finite JSON number, or a string holding one ("38.5"); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def bool_of(value: Any) -> bool | None:
    """A JSON boolean, or "true"/"false" written as text; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _TRUE:
        return True
    if isinstance(value, str) and value in _FALSE:
        return False
    return None


def time_of(raw: dict[str, Any], key: str, problems: Problems) -> FhirTime | None:
    """The FhirTime of `raw[key]`; a present but unreadable one is a FieldProblem."""
    value = raw.get(key)
    if value is None:
        return None
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        problems.add(key, "not a FHIR date or date-time")
    return parsed


def coding_of(raw: Any) -> Coding | None:
    obj = as_object(raw)
    if obj is None:
        return None
    coding = Coding(text_of(obj.get("system")), text_of(obj.get("code")), text_of(obj.get("display")))
    return coding if coding.code or coding.display else None


def concept_of(raw: Any) -> CodeableConcept | None:
    """A CodeableConcept (codings without code or display are left out); plain text is read as its text."""
    if isinstance(raw, str):
        return CodeableConcept(text=raw.strip()) if raw.strip() else None
    obj = as_object(raw)
    if obj is None:
        return None
    codings = tuple(c for c in (coding_of(item) for item in as_list(obj.get("coding"))) if c is not None)
    concept = CodeableConcept(codings, text_of(obj.get("text")))
    return concept if concept.coding or concept.text else None


def concept_field(raw: dict[str, Any], key: str, problems: Problems) -> CodeableConcept | None:
    """`concept_of(raw[key])`; present but neither an object nor text: a FieldProblem."""
    value = raw.get(key)
    if value is None:
        return None
    concept = concept_of(value)
    if concept is None and not isinstance(value, dict | list | str):
        problems.add(key, "not a CodeableConcept")
    return concept


def quantity_of(raw: Any, field: str, problems: Problems) -> Quantity | None:
    """A Quantity; a bare number is a Quantity without unit; an unreadable value is a FieldProblem."""
    if isinstance(raw, int | float | str) and not isinstance(raw, bool):
        raw = {"value": raw}
    obj = as_object(raw)
    if obj is None:
        if raw is not None:
            problems.add(field, "not a Quantity")
        return None
    value = number_of(obj.get("value"))
    if value is None and obj.get("value") is not None:
        problems.add(f"{field}.value", "not a number")
    return Quantity(
        value,
        text_of(obj.get("unit")),
        text_of(obj.get("system")),
        text_of(obj.get("code")),
        text_of(obj.get("comparator")),
    )


def period_of(raw: Any, field: str, problems: Problems) -> Period | None:
    obj = as_object(raw)
    if obj is None:
        if raw is not None:
            problems.add(field, "not a Period")
        return None
    inner = Problems()
    period = Period(time_of(obj, "start", inner), time_of(obj, "end", inner))
    for item in inner.items:
        problems.add(f"{field}.{item.field}", item.reason)
    return period if period.start or period.end else None


def reference_of_raw(raw: Any) -> Reference | None:
    if isinstance(raw, str):
        return Reference(reference=raw.strip() or None)
    obj = as_object(raw)
    if obj is None:
        return None
    reference = Reference(text_of(obj.get("reference")), text_of(obj.get("display")))
    return reference if reference.reference or reference.display else None


def status_of(raw: dict[str, Any], key: str = "status") -> str | None:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def codes_of(raw: Any) -> frozenset[str]:
    """The codes of a CodeableConcept (or of a list of them): statuses and categories."""
    found: set[str] = set()
    for item in as_list(raw):
        concept = concept_of(item)
        if concept is not None:
            found.update(c.code for c in concept.coding if c.code)
    return frozenset(found)


def resource_id(raw: dict[str, Any]) -> str | None:
    return text_of(raw.get("id"))


# ---------------------------------------------------------------- medication resources


def medication(raw: dict[str, Any]) -> Medication:
    """A Medication: its code and its ingredients' codes (itemCodeableConcept) and names (itemReference)."""
    concepts: list[CodeableConcept] = []
    displays: list[str] = []
    for item in as_list(raw.get("ingredient")):
        if not isinstance(item, dict):
            continue
        concept = concept_of(item.get("itemCodeableConcept"))
        if concept is not None:
            concepts.append(concept)
        reference = reference_of_raw(item.get("itemReference"))
        if reference is not None and reference.display:
            displays.append(reference.display)
    return Medication(resource_id(raw), concept_of(raw.get("code")), tuple(concepts), tuple(displays))


def _contained(raw: dict[str, Any]) -> tuple[Medication, ...]:
    return tuple(
        medication(item)
        for item in as_list(raw.get("contained"))
        if isinstance(item, dict) and item.get("resourceType") == "Medication"
    )


def _medication_fields(
    raw: dict[str, Any], problems: Problems
) -> tuple[CodeableConcept | None, Reference | None, tuple[Medication, ...]]:
    concept = concept_field(raw, "medicationCodeableConcept", problems)
    reference = reference_of_raw(raw.get("medicationReference"))
    if reference is None and raw.get("medicationReference") is not None:
        problems.add("medicationReference", "not a Reference")
    return concept, reference, _contained(raw)


def dosage_of(raw: Any, field: str, problems: Problems) -> Dosage | None:
    """A Dosage or administration dosage; dose and rate also from doseAndRate (common in exports)."""
    obj = as_object(raw)
    if obj is None:
        return None
    timing = as_object(obj.get("timing")) or {}
    repeat = as_object(timing.get("repeat")) or {}
    parsed = (parse_time(event) if isinstance(event, str) else None for event in as_list(timing.get("event")))
    events = tuple(t for t in parsed if t is not None)
    dose_and_rate = as_object(obj.get("doseAndRate")) or {}
    dose_raw = obj.get("dose", dose_and_rate.get("doseQuantity"))
    rate_raw = obj.get("rateQuantity", dose_and_rate.get("rateQuantity"))
    as_needed = bool_of(obj.get("asNeededBoolean")) is True or obj.get("asNeededCodeableConcept") is not None
    return Dosage(
        text=text_of(obj.get("text")),
        route=concept_of(obj.get("route")),
        as_needed=as_needed,
        timing_events=events,
        bounds_period=period_of(repeat.get("boundsPeriod"), f"{field}.timing.repeat.boundsPeriod", problems),
        dose=quantity_of(dose_raw, f"{field}.dose", problems) if dose_raw is not None else None,
        rate=quantity_of(rate_raw, f"{field}.rate", problems) if rate_raw is not None else None,
    )


def medication_request(raw: dict[str, Any]) -> MedicationRequest:
    problems = Problems()
    concept, reference, contained = _medication_fields(raw, problems)
    dosages = tuple(
        d
        for index, item in enumerate(as_list(raw.get("dosageInstruction")))
        if (d := dosage_of(item, f"dosageInstruction[{index}]", problems)) is not None
    )
    dispense = as_object(raw.get("dispenseRequest")) or {}
    return MedicationRequest(
        id=resource_id(raw),
        status=status_of(raw),
        intent=status_of(raw, "intent"),
        medication_concept=concept,
        medication_reference=reference,
        contained=contained,
        authored_on=time_of(raw, "authoredOn", problems),
        dosage=dosages,
        validity_period=period_of(dispense.get("validityPeriod"), "dispenseRequest.validityPeriod", problems),
        problems=problems.done(),
    )


def medication_administration(raw: dict[str, Any]) -> MedicationAdministration:
    problems = Problems()
    concept, reference, contained = _medication_fields(raw, problems)
    return MedicationAdministration(
        id=resource_id(raw),
        status=status_of(raw),
        medication_concept=concept,
        medication_reference=reference,
        contained=contained,
        effective_time=time_of(raw, "effectiveDateTime", problems),
        effective_period=period_of(raw.get("effectivePeriod"), "effectivePeriod", problems),
        dosage=dosage_of(raw.get("dosage"), "dosage", problems),
        problems=problems.done(),
    )


def medication_statement(raw: dict[str, Any]) -> MedicationStatement:
    problems = Problems()
    concept, reference, contained = _medication_fields(raw, problems)
    dosages = tuple(
        d
        for index, item in enumerate(as_list(raw.get("dosage")))
        if (d := dosage_of(item, f"dosage[{index}]", problems)) is not None
    )
    return MedicationStatement(
        id=resource_id(raw),
        status=status_of(raw),
        medication_concept=concept,
        medication_reference=reference,
        contained=contained,
        effective_time=time_of(raw, "effectiveDateTime", problems),
        effective_period=period_of(raw.get("effectivePeriod"), "effectivePeriod", problems),
        date_asserted=time_of(raw, "dateAsserted", problems),
        dosage=dosages,
        problems=problems.done(),
    )


def medication_dispense(raw: dict[str, Any]) -> MedicationDispense:
    problems = Problems()
    concept, reference, contained = _medication_fields(raw, problems)
    return MedicationDispense(
        id=resource_id(raw),
        status=status_of(raw),
        medication_concept=concept,
        medication_reference=reference,
        contained=contained,
        when_handed_over=time_of(raw, "whenHandedOver", problems),
        when_prepared=time_of(raw, "whenPrepared", problems),
        problems=problems.done(),
    )


# ---------------------------------------------------------------- other resources


def procedure(raw: dict[str, Any]) -> Procedure:
    problems = Problems()
    return Procedure(
        id=resource_id(raw),
        status=status_of(raw),
        code=concept_field(raw, "code", problems),
        performed_time=time_of(raw, "performedDateTime", problems),
        performed_period=period_of(raw.get("performedPeriod"), "performedPeriod", problems),
        problems=problems.done(),
    )


def _value(raw: dict[str, Any], code: CodeableConcept | None, prefix: str) -> ObservationValue:
    """The value[x] of an Observation or a component (`prefix` names it in FieldProblems)."""
    problems = Problems()
    quantity = None
    if raw.get("valueQuantity") is not None:
        quantity = quantity_of(raw["valueQuantity"], f"{prefix}valueQuantity", problems)
    integer = None
    if raw.get("valueInteger") is not None:
        number = number_of(raw["valueInteger"])
        if number is not None and number.is_integer():
            integer = int(number)
        else:
            problems.add(f"{prefix}valueInteger", "not an integer")
    other = next((key for key in _OTHER_VALUES if raw.get(key) is not None), None)
    return ObservationValue(
        code=code,
        quantity=quantity,
        integer=integer,
        string=text_of(raw.get("valueString")) if isinstance(raw.get("valueString"), str) else None,
        concept=concept_of(raw.get("valueCodeableConcept")),
        boolean=bool_of(raw.get("valueBoolean")),
        other_type=other,
        data_absent=raw.get("dataAbsentReason") is not None,
        problems=problems.done(),
    )


def observation(raw: dict[str, Any]) -> Observation:
    problems = Problems()
    code = concept_field(raw, "code", problems)
    components = tuple(
        _value(item, concept_of(item.get("code")), f"component[{index}].")
        for index, item in enumerate(as_list(raw.get("component")))
        if isinstance(item, dict)
    )
    return Observation(
        id=resource_id(raw),
        status=status_of(raw),
        code=code,
        category_codes=codes_of(raw.get("category")),
        interpretation=codes_of(raw.get("interpretation")),
        effective_time=time_of(raw, "effectiveDateTime", problems) or time_of(raw, "effectiveInstant", problems),
        effective_period=period_of(raw.get("effectivePeriod"), "effectivePeriod", problems),
        issued=time_of(raw, "issued", problems),
        value=_value(raw, code, ""),
        components=components,
        problems=problems.done(),
    )


def condition(raw: dict[str, Any]) -> Condition:
    problems = Problems()
    return Condition(
        id=resource_id(raw),
        code=concept_field(raw, "code", problems),
        clinical_status=codes_of(raw.get("clinicalStatus")),
        verification_status=codes_of(raw.get("verificationStatus")),
        onset_time=time_of(raw, "onsetDateTime", problems),
        onset_period=period_of(raw.get("onsetPeriod"), "onsetPeriod", problems),
        recorded_date=time_of(raw, "recordedDate", problems),
        problems=problems.done(),
    )


def patient(raw: dict[str, Any]) -> Patient:
    problems = Problems()
    return Patient(id=resource_id(raw), birth_date=time_of(raw, "birthDate", problems), problems=problems.done())


def encounter(raw: dict[str, Any]) -> Encounter:
    problems = Problems()
    klass = coding_of(raw.get("class"))
    return Encounter(
        id=resource_id(raw),
        status=status_of(raw),
        class_code=klass.code if klass is not None else None,
        period=period_of(raw.get("period"), "period", problems),
        problems=problems.done(),
    )


def service_request(raw: dict[str, Any]) -> ServiceRequest:
    problems = Problems()
    return ServiceRequest(
        id=resource_id(raw),
        status=status_of(raw),
        intent=status_of(raw, "intent"),
        code=concept_field(raw, "code", problems),
        authored_on=time_of(raw, "authoredOn", problems),
        problems=problems.done(),
    )


def other_order(raw: dict[str, Any]) -> OtherOrder:
    problems = Problems()
    return OtherOrder(
        resource_type=str(raw.get("resourceType")),
        id=resource_id(raw),
        status=status_of(raw),
        code=concept_field(raw, "code", problems),
        problems=problems.done(),
    )


#: resourceType -> reader, for the types the rules read from the chart.
READERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Patient": patient,
    "Medication": medication,
    "MedicationRequest": medication_request,
    "MedicationAdministration": medication_administration,
    "MedicationStatement": medication_statement,
    "MedicationDispense": medication_dispense,
    "Procedure": procedure,
    "Observation": observation,
    "Condition": condition,
    "Encounter": encounter,
    "ServiceRequest": service_request,
}
