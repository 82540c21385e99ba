"""The typed FHIR intake: one small structure per resource type the rules read, holding only those fields.

Built by `intake.read` from decoded JSON, never by validating a whole resource against R4: an element no rule
reads is never looked at, so it can never drop a resource. Field names follow FHIR's element names in snake
case; choice elements keep their type in the name (`effective_time` for effectiveDateTime/effectiveInstant,
`effective_period` for effectivePeriod). Times are `FhirTime`s, already parsed; a time that could not be read
is None with a `FieldProblem` on the resource.

These types are immutable msgspec Structs (cheap to build: a heavy chart has thousands of Observations).
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class FieldProblem(msgspec.Struct, frozen=True, gc=False):
    """A field that was present but could not be read: its FHIR path and why (never its value)."""

    field: str  # "effectiveDateTime", "valueQuantity.value", "medicationCodeableConcept"
    reason: str  # "not a FHIR date-time", "not a number", "not an object"


class FhirTime(msgspec.Struct, frozen=True, gc=False):
    """A FHIR date, dateTime or instant: the earliest and latest instants it can mean, and its precision.

    "2026-11-24T10:05:00+01:00" has earliest == latest; "2026-11-24" spans that day (UTC, its latest instant
    pushed 14 h further for the time zones east of UTC); "2026-11" that month; "2026" that year.
    """

    earliest: datetime
    latest: datetime
    precision: str  # "year" | "month" | "day" | "time"
    zone_given: bool = True  # False: a time without a zone (not valid FHIR), read as UTC


class Coding(msgspec.Struct, frozen=True, gc=False):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(msgspec.Struct, frozen=True, gc=False):
    coding: tuple[Coding, ...] = ()
    text: str | None = None

    def codes(self) -> frozenset[str]:
        """The codes of its codings (for status-like concepts: clinicalStatus, verificationStatus)."""
        return frozenset(c.code for c in self.coding if c.code)


class Quantity(msgspec.Struct, frozen=True, gc=False):
    value: float | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None
    comparator: str | None = None


class Period(msgspec.Struct, frozen=True, gc=False):
    start: FhirTime | None = None
    end: FhirTime | None = None


class Reference(msgspec.Struct, frozen=True, gc=False):
    reference: str | None = None
    display: str | None = None


class Dosage(msgspec.Struct, frozen=True, gc=False):
    """Dosage (MedicationRequest.dosageInstruction, MedicationStatement.dosage) or
    MedicationAdministration.dosage, reduced to what the rules read."""

    text: str | None = None
    route: CodeableConcept | None = None
    as_needed: bool = False  # asNeededBoolean true or an asNeededCodeableConcept
    timing_events: tuple[FhirTime, ...] = ()
    bounds_period: Period | None = None
    dose: Quantity | None = None  # dose / doseAndRate[0].doseQuantity (exports write the latter on administrations)
    rate: Quantity | None = None  # rateQuantity / doseAndRate[0].rateQuantity


class Medication(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    code: CodeableConcept | None = None
    ingredient_concepts: tuple[CodeableConcept, ...] = ()
    ingredient_displays: tuple[str, ...] = ()  # itemReference.display of ingredients


class MedicationRequest(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    intent: str | None = None
    medication_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    contained: tuple[Medication, ...] = ()
    authored_on: FhirTime | None = None
    dosage: tuple[Dosage, ...] = ()
    validity_period: Period | None = None  # dispenseRequest.validityPeriod
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "MedicationRequest"


class MedicationAdministration(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    medication_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    contained: tuple[Medication, ...] = ()
    effective_time: FhirTime | None = None
    effective_period: Period | None = None
    dosage: Dosage | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "MedicationAdministration"


class MedicationStatement(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    medication_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    contained: tuple[Medication, ...] = ()
    effective_time: FhirTime | None = None
    effective_period: Period | None = None
    date_asserted: FhirTime | None = None
    dosage: tuple[Dosage, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "MedicationStatement"


class MedicationDispense(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    medication_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    contained: tuple[Medication, ...] = ()
    when_handed_over: FhirTime | None = None
    when_prepared: FhirTime | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "MedicationDispense"


MedicationResource = MedicationRequest | MedicationAdministration | MedicationStatement | MedicationDispense


class Procedure(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    performed_time: FhirTime | None = None
    performed_period: Period | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "Procedure"


class ObservationValue(msgspec.Struct, frozen=True, gc=False):
    """The value[x] of an Observation or of one of its components, with what the code names."""

    code: CodeableConcept | None = None
    quantity: Quantity | None = None
    integer: int | None = None
    string: str | None = None
    concept: CodeableConcept | None = None
    boolean: bool | None = None
    other_type: str | None = None  # "valueRange", "valueRatio"...: present, but not a type the rules read
    data_absent: bool = False  # dataAbsentReason: no value
    problems: tuple[FieldProblem, ...] = ()  # an unreadable value ("valueQuantity.value: not a number")

    def has_value(self) -> bool:
        """Whether a value[x] of any type is present (readable or not)."""
        return (
            self.quantity is not None
            or self.integer is not None
            or self.string is not None
            or self.concept is not None
            or self.boolean is not None
            or self.other_type is not None
            or bool(self.problems)
        )


class Observation(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    category_codes: frozenset[str] = frozenset()  # "vital-signs", "laboratory", "survey", "exam"...
    interpretation: frozenset[str] = frozenset()  # the laboratory's flags: "L", "LL", "H", "POS", "NEG"...
    effective_time: FhirTime | None = None
    effective_period: Period | None = None
    issued: FhirTime | None = None
    value: ObservationValue = ObservationValue()
    components: tuple[ObservationValue, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "Observation"

    def parts(self) -> tuple[ObservationValue, ...]:
        """The observation's own value (with its code) and each component, in order."""
        return (self.value, *self.components)


class Condition(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    code: CodeableConcept | None = None
    clinical_status: frozenset[str] = frozenset()
    verification_status: frozenset[str] = frozenset()
    onset_time: FhirTime | None = None
    onset_period: Period | None = None
    recorded_date: FhirTime | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "Condition"


class Patient(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    birth_date: FhirTime | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "Patient"


class Encounter(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    class_code: str | None = None  # Encounter.class.code: "IMP" (inpatient), "AMB", "EMER", "ACUTE"...
    period: Period | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "Encounter"


class ServiceRequest(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    status: str | None = None
    intent: str | None = None
    code: CodeableConcept | None = None
    authored_on: FhirTime | None = None
    problems: tuple[FieldProblem, ...] = ()
    resource_type: str = "ServiceRequest"


class OtherOrder(msgspec.Struct, frozen=True, gc=False):
    """A draft order of another type (NutritionOrder, DeviceRequest...): kept so it is counted, never graded."""

    resource_type: str
    id: str | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    problems: tuple[FieldProblem, ...] = ()


DraftResource = MedicationRequest | ServiceRequest | OtherOrder


def reference_of(resource: MedicationResource | Procedure | Observation | Condition | Patient | Encounter
                 | ServiceRequest | OtherOrder) -> str | None:
    """The "Type/id" of a resource, or None when it has no id."""
    return f"{resource.resource_type}/{resource.id}" if resource.id else None
