"""What the recogniser sees of a medication or procedure: codings and free text, nothing FHIR-specific.

The FHIR layer turns a MedicationRequest/Administration/Statement/Dispense (with its resolved Medication,
ingredients included) or a Procedure into a `ConceptInput`; the knowledge layer says which catalogue entry it is.
"""

from __future__ import annotations

from dataclasses import dataclass

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
NDC = "http://hl7.org/fhir/sid/ndc"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"  # HL7 terminology (THO) URI
CPT = "http://www.ama-assn.org/go/cpt"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class CodingRef:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class ConceptInput:
    """Codings and texts of one medication (or procedure), in the order the resource gave them."""

    codings: tuple[CodingRef, ...] = ()
    texts: tuple[str, ...] = ()
