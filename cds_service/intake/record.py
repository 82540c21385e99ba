"""PatientRecord: the typed FHIR data of one hook call, what could not be read, and what was set aside."""

from __future__ import annotations

from dataclasses import dataclass, field

from cds_service.domain.facts import DataGap
from cds_service.intake.types import (
    Condition,
    DraftResource,
    Encounter,
    Medication,
    MedicationAdministration,
    MedicationDispense,
    MedicationRequest,
    MedicationStatement,
    Observation,
    Patient,
    Procedure,
    ServiceRequest,
)


@dataclass(frozen=True, slots=True)
class SetAside:
    """A resource not used because an element that says what it is about could not be read.

    `could_matter` is False when no rule would have read it whatever it said (an Observation of a category the
    rules never read): such a resource is logged, not named on a card.
    """

    resource_type: str
    resource_id: str | None
    field: str  # "code", "medicationCodeableConcept", "resourceType"
    reason: str  # "not a CodeableConcept"
    could_matter: bool = True

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.resource_id}" if self.resource_id else f"a {self.resource_type}"


@dataclass
class PatientRecord:
    patient_id: str | None
    patient: Patient | None = None
    medication_requests: list[MedicationRequest] = field(default_factory=list)
    medication_administrations: list[MedicationAdministration] = field(default_factory=list)
    medication_statements: list[MedicationStatement] = field(default_factory=list)
    medication_dispenses: list[MedicationDispense] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)
    service_requests: list[ServiceRequest] = field(default_factory=list)  # orders on the chart (not drafts)
    draft_orders: list[DraftResource] = field(default_factory=list)
    selections: tuple[str, ...] = ()
    medications: dict[str, Medication] = field(default_factory=dict)  # "Medication/123" -> Medication
    gaps: list[DataGap] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)
