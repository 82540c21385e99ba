"""Facts: what the chart says, in canonical units with aware datetimes (the output of `reading/`).

    PatientRecord --reading.extract_facts--> Facts --clinical.evaluate--> list[Finding]

Nothing here knows FHIR, the knowledge base or card wording; this package imports nothing of the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class O2Device(StrEnum):
    """Oxygen support levels, in the ASTCT hypoxia order (room air lowest, positive pressure highest)."""

    room_air = "room-air"
    blow_by = "blow-by"
    nasal_cannula = "nasal-cannula"  # low-flow unless flow > 6 L/min says otherwise
    high_flow_nasal_cannula = "high-flow-nasal-cannula"
    face_mask = "face-mask"
    non_rebreather = "non-rebreather"
    venturi = "venturi"
    cpap = "cpap"
    bipap = "bipap"
    mechanical_ventilation = "mechanical-ventilation"
    unknown = "unknown"  # O2 given, device not stated


#: ASTCT 2019 hypoxia level of each device (Lee et al., BBMT 2019;25:625, table 1): room air 0; low-flow nasal
#: cannula (<= 6 L/min) and blow-by 2; high-flow nasal cannula, face mask, non-rebreather and Venturi 3; positive
#: pressure 4. A nasal cannula is 2 unless its flow says high flow; "unknown" has no level of its own (the grading
#: decides from the flow, and says the device is missing).
ASTCT_HYPOXIA_LEVEL: dict[O2Device, int] = {
    O2Device.room_air: 0,
    O2Device.blow_by: 2,
    O2Device.nasal_cannula: 2,
    O2Device.high_flow_nasal_cannula: 3,
    O2Device.face_mask: 3,
    O2Device.non_rebreather: 3,
    O2Device.venturi: 3,
    O2Device.cpap: 4,
    O2Device.bipap: 4,
    O2Device.mechanical_ventilation: 4,
}


@dataclass(frozen=True, slots=True)
class Exposure:
    """One record of a catalogue drug reaching (or being ordered for) the patient."""

    drug_id: str
    source: str  # FHIR resource type it came from, or "draft-order"
    reference: str | None  # "MedicationAdministration/123"
    start: datetime | None
    last: datetime | None  # last dose / infusion / last covered date; None when unknown
    matched_by: str  # "code:<system>|<code>" or "text:<normalised text>"
    is_draft: bool = False
    ongoing: bool = False


@dataclass(frozen=True, slots=True)
class Measurement:
    """A numeric observation in canonical units (Cel, /min, mm[Hg], %, L/min, mg/L, ng/mL, U/L, mg/dL, 10*9/L...)."""

    concept: str  # "temperature", "heart_rate", "respiratory_rate", "systolic", "diastolic", "map", "spo2",
    # "o2_flow", "fio2", "crp", "ferritin", "il6", "ldh", "creatinine", "platelets", "fibrinogen", "d_dimer",
    # "neutrophils", "ice_score", "gcs"
    value: float
    unit: str
    effective: datetime
    reference: str | None = None
    code: str | None = None  # the LOINC (or site-local) code that identified it
    flag: str | None = None  # the laboratory's interpretation ("L", "LL", "H"...), when it gave one


@dataclass(frozen=True, slots=True)
class O2Support:
    device: O2Device
    flow_l_min: float | None
    effective: datetime
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class VasopressorUse:
    vasopressor_id: str  # knowledge id, e.g. "norepinephrine"
    is_vasopressin: bool
    start: datetime | None
    end: datetime | None  # None: still running or unknown
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class TreatmentGiven:
    treatment_id: str  # "tocilizumab", "dexamethasone", ...
    kind: str  # "anti-cytokine" | "corticosteroid"
    time: datetime | None
    reference: str | None = None
    ongoing: bool = False  # an active MedicationStatement: taken until now


@dataclass(frozen=True, slots=True)
class DiagnosisFact:
    concept: str  # "crs" | "icans" | "seizure"
    code: str
    grade: int | None
    onset: datetime | None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """An unsigned order from context.draftOrders, reduced to what the order rules compare."""

    reference: str  # "MedicationRequest/abc"
    resource_type: str  # "MedicationRequest" | "ServiceRequest" | ...
    drug_id: str | None  # catalogue drug, when it is one
    treatment_id: str | None  # premedication-relevant treatment ids (dexamethasone, ...), when it is one
    codes: tuple[str, ...]  # "system|code" of every coding (for baseline-lab matching)
    text: str  # normalised display text (for matching)
    selected: bool = False  # listed in context.selections (order-select)
    display: str = ""  # the order's own words, as the prescriber saw them (for evidence)


@dataclass(frozen=True, slots=True)
class OrderOnChart:
    """An order on the chart, signed or draft, not yet carried out: a tocilizumab MedicationRequest, a blood
    culture ServiceRequest. A suggestion for what is already ordered is not offered again."""

    resource_type: str
    treatment_id: str | None  # a CRS treatment (tocilizumab, dexamethasone...), when it is one
    codes: tuple[str, ...]  # "system|code" of every coding
    text: str  # normalised text
    authored: datetime | None
    reference: str | None


@dataclass(frozen=True, slots=True)
class UnusableValue:
    """A value the chart has but the service could not use (unknown unit, comparator, impossible range...).

    It means "present but unreadable", not "absent": a rule must not treat its concept as normal or missing.
    """

    concept: str  # "temperature", "systolic", "fio2", "o2_device", "crp", ...
    effective: datetime | None
    reason: str  # "unit 'degrees F' is not known", "outside 25–45 °C", ... (never the value itself)
    reference: str | None = None
    shown: str | None = None  # the value as the chart gave it, for the card only ("1000 °C"); never logged


@dataclass(frozen=True, slots=True)
class DataGap:
    """Data the service needed and could not read, in words a clinician understands."""

    key: str  # prefetch key or concept, e.g. "vitalSigns"
    description: str  # "vital signs could not be read (the FHIR server refused access)"
    reason: str  # "unauthorized" | "forbidden" | "not-found" | "timeout" | "server-error" | "ehr-error" |
    # "not-allowed" | "invalid-resource" | "unreachable"


@dataclass(frozen=True, slots=True)
class CultureResult:
    """A blood culture result: positive when its value names an organism (never the absence of growth)."""

    effective: datetime
    positive: bool
    organism: str | None  # the organism as charted ("Escherichia coli"), when positive
    reference: str | None
    preliminary: bool = False


@dataclass(frozen=True, slots=True)
class EncounterFact:
    """A hospital encounter: its class (v3 ActCode "IMP", "ACUTE", "AMB"...), status and period."""

    class_code: str | None
    status: str | None
    start: datetime | None
    end: datetime | None
    reference: str | None

    def inpatient_at(self, moment: datetime) -> bool:
        """An inpatient stay in progress at `moment`: an inpatient class, not finished or cancelled, begun and
        not ended (an unknown status with an open period counts)."""
        if (self.class_code or "").upper() not in INPATIENT_CLASSES:
            return False
        if self.status in ("finished", "cancelled", "entered-in-error", "planned"):
            return False
        return (self.start is None or self.start <= moment) and (self.end is None or self.end > moment)


#: v3 ActCode encounter classes of an inpatient stay (HL7 v3-ActCode: IMP inpatient, ACUTE inpatient acute,
#: NONAC inpatient non-acute).
INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC"})


@dataclass(frozen=True, slots=True)
class NeuroSign:
    """A neurological finding the chart records: a level of consciousness or an event (ICANS domains).

    ICE, CAPD and GCS scores are Measurements; this holds what is not a number.
    """

    domain: str  # "consciousness" | "seizure" | "motor" | "oedema"
    grade: int  # the ASTCT 2019 ICANS grade the record supports (0: none, e.g. "alert")
    label: str  # "awakens only to tactile stimulus", "seizure", "focal cerebral oedema"
    effective: datetime | None
    reference: str | None
    matched: str  # the phrase, answer or code that was recognised (for the card's evidence)


@dataclass(frozen=True, slots=True)
class SetAsideResource:
    """A resource not used because the element saying what it is about could not be read (never its content)."""

    reference: str  # "MedicationAdministration/123", or "a MedicationAdministration" without an id
    field: str  # "medicationCodeableConcept"
    reason: str  # "not a CodeableConcept or Reference the service can read"
    kind: str  # "medication" | "observation" | "procedure" | "condition"


@dataclass(frozen=True, slots=True)
class Facts:
    now: datetime
    patient_id: str | None
    birth_date: date | None
    exposures: tuple[Exposure, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    o2_support: tuple[O2Support, ...] = ()
    vasopressors: tuple[VasopressorUse, ...] = ()
    treatments: tuple[TreatmentGiven, ...] = ()
    diagnoses: tuple[DiagnosisFact, ...] = ()
    draft_orders: tuple[DraftOrder, ...] = ()
    data_gaps: tuple[DataGap, ...] = ()
    # Data-quality notes ("temperature with unit 'K' not used"): concepts and units, never clinical values.
    quality_notes: tuple[str, ...] = ()
    set_aside: tuple[SetAsideResource, ...] = ()  # resources whose identifying element could not be read
    neuro: tuple[NeuroSign, ...] = ()  # levels of consciousness and neurological events, oldest first
    cultures: tuple[CultureResult, ...] = ()  # blood culture results, oldest first
    birth_date_precision: str | None = None  # "day", or "month"/"year" for a partial birth date
    unusable: tuple[UnusableValue, ...] = ()  # present in the chart but not usable: never read as normal
    encounters: tuple[EncounterFact, ...] = ()  # hospital encounters, oldest first
    orders: tuple[OrderOnChart, ...] = ()  # active and draft orders on the chart

    def series(self, concept: str) -> tuple[Measurement, ...]:
        """Measurements of one concept, oldest first."""
        return tuple(sorted((m for m in self.measurements if m.concept == concept), key=lambda m: m.effective))
