"""The three CDS services this product offers, with their prefetch templates.

Templates use only the 2.0 "recommended query subset": type-level search, reference and token parameters,
`_count` and `_sort` (written `_sort=-date`, valid FHIR search, not the spec example's `sort:desc=date`).
The same templates are what `cds_service.fhir` renders and queries when the EHR leaves a key out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cds_service.cdshooks.models import ServiceDescriptor

_P = "{{context.patientId}}"

#: key -> FHIR query, shared by the three services (each needs the same picture of the patient).
PREFETCH_TEMPLATES: dict[str, str] = {
    "patient": f"Patient/{_P}",
    "medicationRequests": f"MedicationRequest?patient={_P}&_sort=-authoredon&_count=100",
    "medicationAdministrations": f"MedicationAdministration?patient={_P}&_sort=-effective-time&_count=100",
    "medicationStatements": f"MedicationStatement?patient={_P}&_count=100",
    "medicationDispenses": f"MedicationDispense?patient={_P}&_count=100",
    "procedures": f"Procedure?patient={_P}&_sort=-date&_count=50",
    "conditions": f"Condition?patient={_P}&_count=100",
    # Neurological assessments (ICE, CAPD, level of consciousness) are often flowsheet rows of category survey or
    # exam: one query for the bedside observations (token search: comma-separated values are an OR).
    "vitalSigns": f"Observation?patient={_P}&category=vital-signs,survey,exam&_sort=-date&_count=200",
    "labs": f"Observation?patient={_P}&category=laboratory&_sort=-date&_count=200",
    # Whether the patient is an inpatient now (the monitoring-gap rule): optional, so a missing key is no gap.
    "encounters": f"Encounter?patient={_P}&_sort=-date&_count=10",
    # Orders on the chart (blood cultures already ordered are not suggested again): optional.
    "serviceRequests": f"ServiceRequest?patient={_P}&status=active,on-hold&_sort=-authored&_count=50",
}
#: Keys whose absence (no prefetch, no FHIR server) is not a data gap: no rule needs them to be safe.
OPTIONAL_KEYS = frozenset({"encounters", "serviceRequests"})

_USAGE = (
    "Needs read access to the patient's Patient, MedicationRequest, MedicationAdministration, "
    "MedicationStatement, MedicationDispense, Procedure, Condition, Encounter, ServiceRequest and Observation "
    "(vital-signs, survey, exam and laboratory) resources, through prefetch or through fhirServer with "
    "fhirAuthorization (patient/*.read scopes). "
    "Vasopressor administrations, oxygen flow (LOINC 3151-8), FiO2 (3150-0) and oxygen delivery method "
    "(107117-4) are needed to grade CRS; when they are missing the cards say so."
)


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str] = field(default_factory=lambda: dict(PREFETCH_TEMPLATES))
    usage_requirements: str = _USAGE

    def descriptor(self) -> ServiceDescriptor:
        return ServiceDescriptor(
            hook=self.hook,
            title=self.title,
            description=self.description,
            id=self.id,
            prefetch=self.prefetch,
            usageRequirements=self.usage_requirements,
        )


SERVICES: tuple[ServiceDefinition, ...] = (
    ServiceDefinition(
        id="crs-patient-view",
        hook="patient-view",
        title="CRS monitoring and ASTCT grading",
        description=(
            "For a patient exposed recently to a drug associated with cytokine release syndrome (CAR-T, "
            "bispecific T-cell engagers and others), grades CRS from vital signs, oxygen support and "
            "vasopressors with the ASTCT 2019 consensus and gives monitoring guidance."
        ),
    ),
    ServiceDefinition(
        id="crs-order-select",
        hook="order-select",
        title="CRS risk at order selection",
        description=(
            "When a CRS-associated drug is selected, shows its CRS risk, the label's monitoring requirements, "
            "and missing premedication or baseline monitoring as one-click suggestions."
        ),
    ),
    ServiceDefinition(
        id="crs-order-sign",
        hook="order-sign",
        title="CRS risk at order signing",
        description=(
            "Before a CRS-associated drug order is signed, checks the draft orders for the label's "
            "premedication and baseline monitoring, and shows the CRS risk."
        ),
    ),
)

SERVICES_BY_ID: dict[str, ServiceDefinition] = {s.id: s for s in SERVICES}
