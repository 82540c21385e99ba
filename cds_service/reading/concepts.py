"""What the knowledge base's recognisers see of a resource: its codings and texts (`ConceptInput`).

A medication resource's concept is its medicationCodeableConcept, or its medicationReference resolved as a
contained Medication (`#id`) or through `record.medications`; a resolved Medication contributes its code and its
ingredients' codes and names, and the reference's display its text.
"""

from __future__ import annotations

from cds_service.domain.concepts import CodingRef, ConceptInput
from cds_service.intake.record import PatientRecord
from cds_service.intake.types import CodeableConcept, Medication, MedicationResource


def concept_of(codeable: CodeableConcept | None) -> ConceptInput:
    """Codings and text of a CodeableConcept (for Procedure.code, ServiceRequest.code, a route...)."""
    if codeable is None:
        return ConceptInput()
    codings = tuple(CodingRef(c.system, c.code, c.display) for c in codeable.coding)
    return ConceptInput(codings=codings, texts=(codeable.text,) if codeable.text else ())


def medication_concept(record: PatientRecord, resource: MedicationResource) -> ConceptInput:
    """Codings and texts of the medication a Medication* resource names, with its Medication resolved."""
    codings: list[CodingRef] = []
    texts: list[str] = []
    _add(resource.medication_concept, codings, texts)
    reference = resource.medication_reference
    if reference is not None:
        if reference.display:
            texts.append(reference.display)
        found = _resolve(record, resource, reference.reference)
        if found is not None:
            _add(found.code, codings, texts)
            for ingredient in found.ingredient_concepts:
                _add(ingredient, codings, texts)
            texts.extend(found.ingredient_displays)
    return ConceptInput(codings=tuple(codings), texts=tuple(texts))


def _resolve(record: PatientRecord, owner: MedicationResource, reference: str | None) -> Medication | None:
    if not reference:
        return None
    if reference.startswith("#"):
        return next((m for m in owner.contained if m.id == reference[1:]), None)
    key = "/".join(reference.split("/_history/")[0].rstrip("/").split("/")[-2:])  # absolute or relative
    return record.medications.get(key)


def _add(concept: CodeableConcept | None, codings: list[CodingRef], texts: list[str]) -> None:
    if concept is None:
        return
    for coding in concept.coding:
        codings.append(CodingRef(system=coding.system, code=coding.code, display=coding.display))
        if coding.display:
            texts.append(coding.display)
    if concept.text:
        texts.append(concept.text)
