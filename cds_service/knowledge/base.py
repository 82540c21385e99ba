"""KnowledgeBase: the loaded, cross-checked knowledge and the recognisers the other stages call.

Recognition is pure and fast (it runs for every medication resource of a chart): codes are looked up in a dict
built at load; names in a token-phrase index (see text.py), so each call is linear in the number of tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from cds_service.domain.concepts import ConceptInput
from cds_service.domain.facts import O2Device
from cds_service.knowledge.codes import SystemResolver
from cds_service.knowledge.dosing import DosingFile
from cds_service.knowledge.neuro import NeuroEvent, NeuroKnowledge
from cds_service.knowledge.periods import MonitoringPeriod
from cds_service.knowledge.plausibility import PlausibleRange
from cds_service.knowledge.schema import (
    AstctVasopressorRule,
    BaselineItem,
    ConditionEntry,
    Drug,
    Source,
    Treatment,
    Vasopressor,
)
from cds_service.knowledge.site import SiteConfig
from cds_service.knowledge.text import PhraseIndex, tokenize
from cds_service.knowledge.thresholds import Thresholds

CELLULAR_CLASSES = frozenset({"car-t", "tcr-t"})
GENERIC_CAR_T = "car-t-unspecified"
# Procedure text that says cells were given (needed when no product is named) ...
INFUSION_WORDS = frozenset(
    {"infusion", "infusions", "infused", "infuse", "reinfusion", "administration", "administered", "introduction"}
)
# ... and words of the steps around an infusion, which never make a Procedure an exposure.
NOT_AN_INFUSION = frozenset(
    {
        "consult",
        "consultation",
        "referral",
        "education",
        "collection",
        "leukapheresis",
        "apheresis",
        "harvest",
        "harvesting",
        "lymphodepleting",
        "lymphodepletion",
        "lymphodepletive",
        "conditioning",
    }
)


T = TypeVar("T")
H = TypeVar("H", bound=Hashable)
#: Concepts remembered per kind of identification before the memo is cleared (a few MB at most).
MEMO_MAX = 20_000


@dataclass(frozen=True, slots=True)
class DrugMatch:
    drug: Drug
    matched_by: str  # "code:<system>|<code>" or "text:<normalised phrase>"


@dataclass(frozen=True, slots=True)
class Indexes:
    """Lookup tables built by the loader; keys are (canonical system, normalised code)."""

    resolver: SystemResolver
    drug_codes: Mapping[tuple[str, str], str]
    drug_names: PhraseIndex[str]
    vasopressor_codes: Mapping[tuple[str, str], str]
    vasopressor_names: PhraseIndex[str]
    treatment_codes: Mapping[tuple[str, str], str]
    treatment_names: PhraseIndex[str]
    observation_codes: Mapping[tuple[str, str], str]
    condition_codes: Mapping[tuple[str, str], ConditionEntry]
    o2_codes: Mapping[tuple[str, str], O2Device]
    o2_names: PhraseIndex[O2Device]
    observation_names: PhraseIndex[str]  # lab names recognised in an Observation code's text


class KnowledgeBase:
    """Read-only knowledge: catalogues, thresholds, baseline orders, site configuration and recognisers."""

    def __init__(
        self,
        *,
        version: str,
        file_versions: Mapping[str, str],
        drugs: Mapping[str, Drug],
        vasopressors: Mapping[str, Vasopressor],
        vasopressor_rule: AstctVasopressorRule,
        treatments: Mapping[str, Treatment],
        thresholds: Thresholds,
        plausibility: Mapping[str, PlausibleRange],
        neuro: NeuroKnowledge,
        dosing: DosingFile,
        monitoring_periods: Mapping[str, MonitoringPeriod],
        baseline_monitoring: tuple[BaselineItem, ...],
        sources: Mapping[str, Source],
        site: SiteConfig,
        indexes: Indexes,
    ) -> None:
        self.version = version
        self.file_versions = file_versions
        self.drugs = drugs
        self.vasopressors = vasopressors
        self.vasopressor_rule = vasopressor_rule
        self.treatments = treatments
        self.thresholds = thresholds
        self.plausibility = plausibility
        self.neuro = neuro
        self.dosing = dosing
        self.monitoring_periods = monitoring_periods  # drug id -> when frequent vital signs are expected
        self.baseline_monitoring = baseline_monitoring
        self.sources = sources
        self.site = site
        self._ix = indexes
        self._memo: dict[tuple[str, Hashable], object] = {}

    # ------------------------------------------------------------ medications and procedures

    def _remembered(self, kind: str, concept: H, compute: Callable[[H], T]) -> T:
        """`compute(concept)`, remembered: charts repeat the same medication texts on every call, and matching a
        text tokenises it. Bounded (cleared when full); the knowledge base is immutable, so never stale."""
        key = (kind, concept)
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]
        found = compute(concept)
        if len(self._memo) >= MEMO_MAX:
            self._memo.clear()
        self._memo[key] = found
        return found

    def identify_drug(self, concept: ConceptInput) -> DrugMatch | None:
        """The catalogue drug a medication names (see `_identify_drug`), remembered by concept."""
        return self._remembered("drug", concept, self._identify_drug)

    def _identify_drug(self, concept: ConceptInput) -> DrugMatch | None:
        """The catalogue drug a medication names: by any catalogued code first, then by name in its texts.

        A name found only in text does not count when the medication is coded as a CRS treatment or
        vasopressor, or when a treatment or vasopressor is named before it in the first text naming either
        ("Dexamethasone 16 mg IV 1 h before teclistamab" is a premedication, not teclistamab).
        """
        by_code = self._by_code(concept, self._ix.drug_codes)
        if by_code is not None and by_code[0] != GENERIC_CAR_T:
            return DrugMatch(self.drugs[by_code[0]], by_code[1])
        hit = self._ix.drug_names.search(_texts(concept))
        if hit is not None and by_code is not None and _is_named_cell_product(self.drugs[hit.value]):
            return DrugMatch(self.drugs[hit.value], f"text:{hit.phrase}")  # a named product beats a generic code
        if by_code is not None:
            return DrugMatch(self.drugs[by_code[0]], by_code[1])
        if hit is None or self._names_other_medicine(concept):
            return None
        return DrugMatch(self.drugs[hit.value], f"text:{hit.phrase}")

    def _names_other_medicine(self, concept: ConceptInput) -> bool:
        """True when the concept is coded as a treatment or vasopressor, or names one before any catalogue drug."""
        if self._by_code(concept, self._ix.treatment_codes) or self._by_code(concept, self._ix.vasopressor_codes):
            return True
        for text in _texts(concept):
            drug_at = self._ix.drug_names.first_start(text)
            others = (self._ix.treatment_names.first_start(text), self._ix.vasopressor_names.first_start(text))
            other_at = min((at for at in others if at is not None), default=None)
            if drug_at is not None or other_at is not None:
                return other_at is not None and (drug_at is None or other_at < drug_at)
        return False

    def identify_procedure(self, concept: ConceptInput) -> DrugMatch | None:
        """The cellular therapy a Procedure gives (CAR-T or TCR-T), the generic CAR-T entry, or None.

        A Procedure is an exposure by a catalogued (administration or product) code; by text only when the text
        names the product or says the cells were infused or administered, and never when it describes a step
        around the infusion ("CAR-T consult", "cell collection (leukapheresis)", "lymphodepleting chemotherapy").
        """
        match = self.identify_drug(concept)
        if match is None or match.drug.drug_class not in CELLULAR_CLASSES:
            return None
        if match.matched_by.startswith("code:"):
            return match
        words = {word for text in _texts(concept) for word in tokenize(text).words}
        if words & NOT_AN_INFUSION:
            return None
        if match.drug.id == GENERIC_CAR_T and not words & INFUSION_WORDS:
            return None
        return match

    def identify_vasopressor(self, concept: ConceptInput) -> Vasopressor | None:
        """The vasopressor a medication names, by code then by name (remembered by concept)."""
        return self._remembered("vasopressor", concept, self._identify_vasopressor)

    def _identify_vasopressor(self, concept: ConceptInput) -> Vasopressor | None:
        found = self._identify(concept, self._ix.vasopressor_codes, self._ix.vasopressor_names)
        return self.vasopressors[found] if found else None

    def identify_treatment(self, concept: ConceptInput) -> Treatment | None:
        """The CRS treatment or premedication a medication names, by code then by name (remembered by concept)."""
        return self._remembered("treatment", concept, self._identify_treatment)

    def _identify_treatment(self, concept: ConceptInput) -> Treatment | None:
        found = self._identify(concept, self._ix.treatment_codes, self._ix.treatment_names)
        return self.treatments[found] if found else None

    # ------------------------------------------------------------ observations and conditions

    def observation_concept(self, system: str | None, code: str | None) -> str | None:
        """The concept ("temperature", "crp", ...) an Observation code stands for (LOINC or site-local),
        remembered by (system, code) as sent: a chart repeats a few codes thousands of times."""
        return self._remembered("observation-code", (system, code), self._observation_concept)

    def _observation_concept(self, coding: tuple[str | None, str | None]) -> str | None:
        key = self._ix.resolver.key(*coding)
        return self._ix.observation_codes.get(key) if key else None

    def observation_concept_by_text(self, texts: Iterable[str]) -> str | None:
        """The concept the texts of an Observation's code name when no code is known: a neurological assessment
        ("ICE score", "CAPD", "AVPU"...) or event ("seizure activity") of cards/icans.yaml, or a lab named in
        cards/observations.yaml ("lactate", "cortisol")."""
        wanted = tuple(t for t in texts if t)
        if not wanted:
            return None
        return self._remembered("observation-text", wanted, self._observation_concept_by_text)

    def _observation_concept_by_text(self, texts: tuple[str, ...]) -> str | None:
        found = self.neuro.assessment(texts)
        if found is not None:
            return found
        hit = self._ix.observation_names.search(texts)
        if hit is not None:
            return hit.value
        return "neuro_event" if self.neuro.event(texts) is not None else None

    def condition_event(
        self, codings: Iterable[tuple[str | None, str | None]], texts: Iterable[str]
    ) -> NeuroEvent | None:
        """The neurological event (cards/icans.yaml) a Condition's codings or texts name, negation respected."""
        for system, code in codings:
            found = self.neuro.event_by_code(system, code)
            if found is not None:
                return found
        return self._remembered("condition-text", tuple(t for t in texts if t), self._condition_text_event)

    def _condition_text_event(self, texts: tuple[str, ...]) -> NeuroEvent | None:
        return self.neuro.event(list(texts))

    def condition_concept(self, system: str | None, code: str | None) -> tuple[str, int | None] | None:
        """("crs", grade) or ("icans", grade) for an ICD-10-CM code; grade None when unspecified."""
        key = self._ix.resolver.key(system, code)
        entry = self._ix.condition_codes.get(key) if key else None
        return (entry.concept, entry.grade) if entry else None

    def o2_device(self, system: str | None, code: str | None, text: str | None) -> O2Device | None:
        """The oxygen device a coded or free-text value names ("HFNC", "2 L NC", "room air"), or None."""
        key = self._ix.resolver.key(system, code)
        if key and key in self._ix.o2_codes:
            return self._ix.o2_codes[key]
        hit = self._ix.o2_names.search([t for t in (text,) if t])
        return hit.value if hit else None

    # ------------------------------------------------------------ helpers

    def citation(self, source_id: str) -> str:
        """The bibliography text for a source id (the id itself if unknown)."""
        source = self.sources.get(source_id)
        return source.citation if source else source_id

    def short_source(self, source_id: str) -> str:
        """The short label a card shows for a source ("ASCO 2021"); its id when it has none."""
        source = self.sources.get(source_id)
        return (source.short or source.id) if source else source_id

    def _by_code(self, concept: ConceptInput, index: Mapping[tuple[str, str], str]) -> tuple[str, str] | None:
        """The first coding found in the index; a generic CAR-T code only if nothing more specific is."""
        generic: tuple[str, str] | None = None
        for coding in concept.codings:
            key = self._ix.resolver.key(coding.system, coding.code)
            if key and key in index:
                found = index[key], f"code:{key[0]}|{(coding.code or '').strip()}"
                if found[0] != GENERIC_CAR_T:
                    return found
                generic = generic or found
        return generic

    def _identify(
        self, concept: ConceptInput, codes: Mapping[tuple[str, str], str], names: PhraseIndex[str]
    ) -> str | None:
        by_code = self._by_code(concept, codes)
        if by_code is not None:
            return by_code[0]
        hit = names.search(_texts(concept))
        return hit.value if hit else None


def _is_named_cell_product(drug: Drug) -> bool:
    return drug.drug_class in CELLULAR_CLASSES and drug.id != GENERIC_CAR_T


def _texts(concept: ConceptInput) -> Iterable[str]:
    yield from (coding.display for coding in concept.codings if coding.display)
    yield from concept.texts
