"""Pydantic schemas of the knowledge files under cards/ (extra="forbid": a misspelt field is an error).

Every file has a `version`; every entry a stable `id`; every fact a `source` that names an entry of
cards/sources.yaml. The loader validates each file against these models and then cross-checks them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cds_service.domain.facts import O2Device
from cds_service.knowledge.codes import SystemUri

_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"

RiskTierName = Literal["high", "moderate", "low"]
DrugClass = Literal[
    "car-t",
    "tcr-t",
    "bispecific-t-cell-engager",
    "anti-cd20",
    "other-monoclonal",
    "checkpoint-inhibitor",
    "imid",
    "platinum-chemotherapy",
    "anti-thymocyte-globulin",
    "investigational",
]
CodeLevel = Literal[
    "ingredient",
    "pin",
    "min",
    "bn",
    "scd",
    "sbd",
    "product",
    "hcpcs",
    "atc",
    "ndc",
    "cpt",
    "icd10pcs",
]
TreatmentKind = Literal["anti-cytokine", "corticosteroid", "antihistamine", "antipyretic"]
ObservationConceptName = Literal[
    "temperature",
    "heart_rate",
    "respiratory_rate",
    "bp_panel",
    "systolic",
    "diastolic",
    "map",
    "spo2",
    "o2_flow",
    "fio2",
    "o2_device",
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
    "body_weight",
    "body_height",
    "blood_culture",
    "lactate",
    "cortisol",
    "ice_score",
    "capd",
    "gcs",
    "consciousness",
    "neuro_event",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coding(Strict):
    """A code with its system (short name such as "rxnorm", or a URI) and the source that verifies it."""

    system: SystemUri
    code: str = Field(min_length=1)
    display: str | None = None
    source: str


class DrugCode(Coding):
    level: CodeLevel


class WeightBand(Strict):
    """A label's own wording for patients under a body weight (blinatumomab: under 45 kg), with its dose by body
    surface when it has one: `{dose}` in the text becomes the computed dose, capped at `max_mg`."""

    below_kg: float = Field(gt=0, le=200)
    text: str = Field(min_length=1)
    mg_per_m2: float | None = Field(None, gt=0)
    max_mg: float | None = Field(None, gt=0)
    source: str

    @model_validator(mode="after")
    def _dose_needs_its_rule(self) -> WeightBand:
        if ("{dose}" in self.text) != (self.mg_per_m2 is not None):
            raise ValueError("a {dose} placeholder needs mg_per_m2, and mg_per_m2 needs {dose} in the text")
        return self


class Fact(Strict):
    text: str = Field(min_length=1)
    source: str
    label_anchored: bool = False
    under: WeightBand | None = None  # the label's wording below a body weight (a child's dose, by weight band)


class Premedication(Strict):
    id: str = Field(pattern=_ID)
    treatment_id: str | None = None
    label: str = Field(max_length=60)  # a suggestion button: one short line
    display: str
    system: SystemUri | None = None
    code: str | None = None
    dose_text: str
    timing: str
    source: str
    for_drug: str = ""  # the drug it is given before, for a child's label ("before blinatumomab")
    paediatric_mg_per_m2: float | None = None  # a child's dose by body surface (Mosteller), when the label has one
    paediatric_max_mg: float | None = None
    paediatric_timing: str | None = None
    paediatric_label: str | None = None  # the label when the body surface cannot be computed
    paediatric_source: str | None = None


class Drug(Strict):
    id: str = Field(pattern=_ID)
    generic_name: str
    brands: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()  # other names that identify the drug: PIN with suffix, former names
    abbreviations: tuple[str, ...] = ()
    drug_class: DrugClass
    drug_class_label: str
    risk_tier: RiskTierName
    risk_reason: str
    risk_source: str
    boxed_warning_crs: bool
    boxed_warning_source: str
    boxed_warning_neurotoxicity: bool = False  # the boxed warning also names neurologic toxicity / ICANS
    boxed_warning_neurotoxicity_source: str | None = None
    typical_onset: str
    typical_onset_source: str
    exposure_window_days: int = Field(ge=1, le=365)
    exposure_window_rationale: str
    exposure_window_source: str
    monitoring: tuple[Fact, ...] = ()
    premedication: tuple[Premedication, ...] = ()
    tocilizumab_availability: Fact | None = None
    label_url: str | None = None
    codes: tuple[DrugCode, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the text matcher looks for."""
        return (self.generic_name, *self.brands, *self.synonyms, *self.abbreviations)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source id this entry cites, in first-cited order."""
        ids = [
            self.risk_source,
            self.boxed_warning_source,
            self.typical_onset_source,
            self.exposure_window_source,
        ]
        ids += [f.source for f in self.monitoring] + [p.source for p in self.premedication]
        ids += [f.under.source for f in self.monitoring if f.under is not None]
        ids += [self.tocilizumab_availability.source] if self.tocilizumab_availability else []
        ids += [code.source for code in self.codes]
        return tuple(dict.fromkeys(ids))


class DrugFile(Strict):
    version: str
    drugs: tuple[Drug, ...]


class Vasopressor(Strict):
    id: str = Field(pattern=_ID)
    name: str
    synonyms: tuple[str, ...] = ()
    is_vasopressin: bool = False
    codes: tuple[Coding, ...] = ()
    source: str


class AstctVasopressorRule(Strict):
    grade_3: str
    grade_4: str
    source: str


class VasopressorFile(Strict):
    version: str
    astct_rule: AstctVasopressorRule
    vasopressors: tuple[Vasopressor, ...]


class Treatment(Strict):
    id: str = Field(pattern=_ID)
    name: str
    synonyms: tuple[str, ...] = ()
    synonyms_source: str | None = None  # where brand names were checked, when it is not `source`
    kind: TreatmentKind
    codes: tuple[Coding, ...] = ()
    source: str


class TreatmentFile(Strict):
    version: str
    treatments: tuple[Treatment, ...]


class ObservationConcept(Strict):
    id: ObservationConceptName
    label: str
    codes: tuple[Coding, ...] = ()
    names: tuple[str, ...] = ()  # recognised in an Observation code's text when no code is known
    note: str | None = None
    source: str


class O2DeviceEntry(Strict):
    id: str = Field(pattern=_ID)
    device: O2Device
    synonyms: tuple[str, ...]
    codes: tuple[Coding, ...] = ()
    source: str


class ObservationFile(Strict):
    version: str
    concepts: tuple[ObservationConcept, ...]
    o2_devices: tuple[O2DeviceEntry, ...]


class ConditionEntry(Strict):
    id: str = Field(pattern=_ID)
    concept: Literal["crs", "icans", "seizure"]
    grade: int | None = Field(default=None, ge=1, le=5)
    coding: Coding


class ConditionFile(Strict):
    version: str
    conditions: tuple[ConditionEntry, ...]


class BaselineItem(Strict):
    id: str = Field(pattern=_ID)
    label: str
    resource_type: Literal["ServiceRequest", "MedicationRequest"] = "ServiceRequest"
    system: SystemUri | None = None
    code: str | None = None
    display: str
    source: str


class BaselineFile(Strict):
    version: str
    items: tuple[BaselineItem, ...]


SourceKind = Literal[
    "label",
    "label-mirror",
    "manufacturer-hcp",
    "guideline",
    "paper",
    "code-system",
    "public-code-repository",
    "regulatory-database",
    "payer-policy",
    "professional-society",
    "design",
    "convention",
    "aggregator",
    "advocacy",
    "foreign-drug-database",
    "news",
]
#: Kinds that may not be the only source of a fact a card shows (crs-clinical-facts-2.md "source kinds"):
#: aggregators (drugs.com, Medscape...), advocacy sites (HealthTree), another country's drug database (MIMS
#: Hong Kong) and trade news.
NOT_FOR_THE_BEDSIDE: frozenset[str] = frozenset({"aggregator", "advocacy", "foreign-drug-database", "news"})


class Source(Strict):
    id: str = Field(pattern=_ID)
    citation: str
    kind: SourceKind
    short: str | None = None  # the label a card shows ("ASCO 2021"); the id when absent
    url: str | None = None
    note: str | None = None


class SourceFile(Strict):
    version: str
    sources: tuple[Source, ...]


class SystemAlias(Strict):
    id: str = Field(pattern=_ID)
    system: SystemUri
    aliases: tuple[str, ...]
    source: str


class SystemFile(Strict):
    version: str
    systems: tuple[SystemAlias, ...]
