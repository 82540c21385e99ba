"""PatientRecord: the parsed, typed FHIR R4 data of one hook call, and what could not be read.

Resources are fhir.resources R4B models. We use R4B deliberately: fhir.resources 8 has no R4 package, its default
(R5) models reject R4 MedicationRequests (medication[x] became a CodeableReference in R5), and R4B is
wire-compatible with R4 for every resource type this service reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.domain.concepts import CodingRef, ConceptInput
from cds_service.domain.facts import DataGap

__all__ = [
    "CodeableConcept",
    "Condition",
    "DataGap",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Patient",
    "PatientRecord",
    "Procedure",
    "ServiceRequest",
    "SkippedResource",
]


@dataclass(frozen=True, slots=True)
class SkippedResource:
    """A resource that failed validation: type, id and the error, never its content."""

    resource_type: str
    resource_id: str | None
    error: str


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
    draft_orders: list[Any] = field(
        default_factory=list
    )  # MedicationRequest | ServiceRequest | other R4B orders
    selections: tuple[str, ...] = ()
    medications: dict[str, Medication] = field(
        default_factory=dict
    )  # "Medication/123" -> resolved Medication
    gaps: list[DataGap] = field(default_factory=list)
    skipped: list[SkippedResource] = field(default_factory=list)

    def medication_concept(self, resource: Any) -> ConceptInput:
        """Codings and texts of the medication a Medication* resource names, with its Medication resolved.

        Looks at medicationCodeableConcept, or medicationReference resolved as a contained resource (`#id`)
        or through `self.medications`; a resolved Medication contributes its code and its ingredients' codes.
        """
        codings: list[CodingRef] = []
        texts: list[str] = []
        _add_concept(getattr(resource, "medicationCodeableConcept", None), codings, texts)
        reference = getattr(resource, "medicationReference", None)
        if reference is not None:
            if reference.display:
                texts.append(reference.display)
            medication = self._resolve_medication(resource, reference.reference)
            if medication is not None:
                _add_concept(medication.code, codings, texts)
                for ingredient in medication.ingredient or []:
                    _add_concept(getattr(ingredient, "itemCodeableConcept", None), codings, texts)
                    item_ref = getattr(ingredient, "itemReference", None)
                    if item_ref is not None and item_ref.display:
                        texts.append(item_ref.display)
        return ConceptInput(codings=tuple(codings), texts=tuple(texts))

    def _resolve_medication(self, owner: Any, reference: str | None) -> Medication | None:
        if not reference:
            return None
        if reference.startswith("#"):
            for contained in getattr(owner, "contained", None) or []:
                if getattr(contained, "id", None) == reference[1:] and isinstance(contained, Medication):
                    return contained
            return None
        key = "/".join(reference.rstrip("/").split("/")[-2:])  # absolute or relative -> "Medication/id"
        return self.medications.get(key)


def _add_concept(concept: CodeableConcept | None, codings: list[CodingRef], texts: list[str]) -> None:
    if concept is None:
        return
    for coding in concept.coding or []:
        codings.append(CodingRef(system=coding.system, code=coding.code, display=coding.display))
        if coding.display:
            texts.append(coding.display)
    if concept.text:
        texts.append(concept.text)
