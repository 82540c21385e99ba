"""Cross-checks over the validated knowledge files, and the lookup indexes of the KnowledgeBase.

Checks: ids unique; every `source` names an entry of sources.yaml; every code well-formed for its system and
consistent with its level; no code or name claimed by two drugs; premedications name known treatments;
site-file ids exist and site codes do not collide with catalogue codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from cds_service.domain import concepts as c
from cds_service.domain.facts import ASTCT_HYPOXIA_LEVEL, O2Device
from cds_service.errors import KnowledgeError
from cds_service.knowledge.base import GENERIC_CAR_T, Indexes, KnowledgeBase
from cds_service.knowledge.codes import SystemResolver, is_well_formed
from cds_service.knowledge.dosing import DosingFile
from cds_service.knowledge.neuro import IcansFile, NeuroKnowledge
from cds_service.knowledge.periods import MonitoringPeriod, MonitoringPeriodFile
from cds_service.knowledge.plausibility import PlausibilityFile, PlausibleRange
from cds_service.knowledge.schema import (
    NOT_FOR_THE_BEDSIDE,
    BaselineFile,
    Coding,
    ConditionEntry,
    ConditionFile,
    Drug,
    DrugFile,
    ObservationFile,
    SourceFile,
    SystemFile,
    Treatment,
    TreatmentFile,
    Vasopressor,
    VasopressorFile,
)
from cds_service.knowledge.site import LocalCode, SiteConfig, SiteFile
from cds_service.knowledge.text import PhraseIndex
from cds_service.knowledge.thresholds import ThresholdFile, Thresholds

SITE_SOURCE = "site-configuration"
CodeKey = tuple[str, str]  # (canonical system, normalised code)
V = TypeVar("V")
#: The code indexes a site file adds to: drugs, vasopressors, treatments, observations, oxygen devices.
SiteIndexes = tuple[
    dict[CodeKey, str], dict[CodeKey, str], dict[CodeKey, str], dict[CodeKey, str], dict[CodeKey, O2Device]
]
_LEVEL_SYSTEMS = {
    "ingredient": c.RXNORM,
    "pin": c.RXNORM,
    "min": c.RXNORM,
    "bn": c.RXNORM,
    "scd": c.RXNORM,
    "sbd": c.RXNORM,
    "product": c.RXNORM,
    "atc": c.ATC,
    "ndc": c.NDC,
    "hcpcs": c.HCPCS,
    "cpt": c.CPT,
    "icd10pcs": c.ICD10PCS,
}


@dataclass(frozen=True)
class Catalogue:
    sources: SourceFile
    systems: SystemFile
    drug_files: Mapping[str, DrugFile]
    vasopressors: VasopressorFile
    treatments: TreatmentFile
    observations: ObservationFile
    conditions: ConditionFile
    thresholds: ThresholdFile
    plausibility: PlausibilityFile
    icans: IcansFile
    dosing: DosingFile
    periods: MonitoringPeriodFile
    baseline: BaselineFile
    site: SiteFile | None = None
    site_name: str | None = None


@dataclass
class _Checker:
    """Collects ids, sources and codes, raising KnowledgeError on the first inconsistency."""

    source_ids: frozenset[str]
    resolver: SystemResolver
    seen_ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def fail(self, file: str, entry: str, field_path: str, problem: str) -> None:
        raise KnowledgeError(f"{file}: entry '{entry}', field '{field_path}': {problem}")

    def unique(self, kind: str, ident: str, file: str) -> None:
        if (kind, ident) in self.seen_ids:
            self.fail(file, ident, "id", f"duplicate {kind} id (also in {self.seen_ids[kind, ident]})")
        self.seen_ids[kind, ident] = file

    def source(self, source_id: str, file: str, entry: str, field_path: str) -> None:
        if source_id not in self.source_ids:
            self.fail(file, entry, field_path, f"source '{source_id}' is not in sources.yaml")

    def coding(self, coding: Coding, file: str, entry: str, field_path: str) -> tuple[str, str]:
        self.source(coding.source, file, entry, f"{field_path}.source")
        return self.code(coding.system, coding.code, file, entry, field_path)

    def code(self, system: str, code: str, file: str, entry: str, field_path: str) -> tuple[str, str]:
        if not is_well_formed(system, code):
            self.fail(file, entry, f"{field_path}.code", f"'{code}' is not a well-formed code of {system}")
        key = self.resolver.key(system, code)
        assert key is not None  # noqa: S101 - code is non-empty after validation
        return key


def build_knowledge(cat: Catalogue, version: str) -> KnowledgeBase:
    """Cross-check the catalogue and assemble the KnowledgeBase with its indexes."""
    resolver = SystemResolver({a: s.system for s in cat.systems.systems for a in s.aliases})
    check = _Checker(frozenset(s.id for s in cat.sources.sources) | {SITE_SOURCE}, resolver)
    _check_sources_unique(cat, check)
    _check_systems(cat, check)
    drugs, drug_codes, drug_names = _drugs(cat, check)
    treatments = {t.id: t for t in cat.treatments.treatments}
    _check_premedications(cat, treatments, check)
    vaso_codes, vaso_names = _named_entries("vasopressors.yaml", cat.vasopressors.vasopressors, check)
    treat_codes, treat_names = _named_entries("treatments.yaml", cat.treatments.treatments, check)
    obs_codes = _observations(cat, check)
    o2_codes, o2_names = _o2_devices(cat, check)
    condition_codes: dict[CodeKey, ConditionEntry] = {}
    for cond in cat.conditions.conditions:
        check.unique("condition", cond.id, "conditions.yaml")
        condition_codes[check.coding(cond.coding, "conditions.yaml", cond.id, "coding")] = cond
    for band_field, source_id in cat.thresholds.source_ids():
        check.source(source_id, "thresholds.yaml", band_field.split(".")[0], band_field)
    plausibility = _plausibility(cat, check)
    _check_bedside_sources(cat, drugs)
    for entry, source_id in cat.icans.source_ids():
        check.source(source_id, "icans.yaml", entry, "source")
    for entry, source_id in cat.dosing.source_ids():
        check.source(source_id, "dosing.yaml", entry, "source")
    periods = _periods(cat, drugs, check)
    for item in cat.baseline.items:
        check.unique("baseline", item.id, "baseline-monitoring.yaml")
        check.source(item.source, "baseline-monitoring.yaml", item.id, "source")
        if item.system and item.code:
            check.code(item.system, item.code, "baseline-monitoring.yaml", item.id, "code")
    site = SiteConfig()
    if cat.site is not None:
        site, drugs = _apply_site(cat, drugs, check, (drug_codes, vaso_codes, treat_codes, obs_codes, o2_codes))
    indexes = Indexes(
        resolver,
        _frozen(drug_codes),
        drug_names,
        _frozen(vaso_codes),
        vaso_names,
        _frozen(treat_codes),
        treat_names,
        _frozen(obs_codes),
        _frozen(condition_codes),
        _frozen(o2_codes),
        o2_names,
        _observation_names(cat, check),
    )
    file_versions = {"sources.yaml": cat.sources.version, "thresholds.yaml": cat.thresholds.version}
    file_versions.update({name: f.version for name, f in cat.drug_files.items()})
    return KnowledgeBase(
        version=version,
        file_versions=MappingProxyType(file_versions),
        drugs=MappingProxyType(drugs),
        vasopressors=MappingProxyType({v.id: v for v in cat.vasopressors.vasopressors}),
        vasopressor_rule=cat.vasopressors.astct_rule,
        treatments=MappingProxyType(treatments),
        thresholds=Thresholds(cat.thresholds),
        plausibility=MappingProxyType(plausibility),
        neuro=NeuroKnowledge(cat.icans, resolver),
        dosing=cat.dosing,
        monitoring_periods=MappingProxyType(periods),
        baseline_monitoring=cat.baseline.items,
        sources=MappingProxyType({s.id: s for s in cat.sources.sources}),
        site=site,
        indexes=indexes,
    )


def _periods(cat: Catalogue, drugs: Mapping[str, Drug], check: _Checker) -> dict[str, MonitoringPeriod]:
    """One monitoring period per drug (monitoring-periods.yaml, then the site file's replacements), each of a
    known drug and with a known source."""
    periods: dict[str, MonitoringPeriod] = {}
    entries = [("monitoring-periods.yaml", p) for p in cat.periods.periods]
    if cat.site is not None:
        entries += [(cat.site_name or "site file", p) for p in cat.site.monitoring_periods]
    for file, period in entries:
        if period.drug not in drugs:
            raise KnowledgeError(f"{file}: entry '{period.drug}', field 'drug': not a drug of the catalogue")
        check.source(period.source, file, period.drug, "source")
        periods[period.drug] = period
    return periods


def _check_bedside_sources(cat: Catalogue, drugs: Mapping[str, Drug]) -> None:
    """A fact a card shows (a drug's monitoring, premedication, tocilizumab availability, onset, risk reason,
    boxed warning; an ICANS management line) needs a source that is not an aggregator or trade news."""
    kinds = {s.id: s.kind for s in cat.sources.sources}
    facing: list[tuple[str, str, str, tuple[str, ...]]] = []
    for drug in drugs.values():
        file = "drugs"
        facing += [(file, drug.id, f"monitoring[{i}]", (m.source,)) for i, m in enumerate(drug.monitoring)]
        facing += [(file, drug.id, f"monitoring[{i}].under", (m.under.source,))
                   for i, m in enumerate(drug.monitoring) if m.under is not None]
        facing += [(file, drug.id, f"premedication[{i}]", (p.source,)) for i, p in enumerate(drug.premedication)]
        if drug.tocilizumab_availability is not None:
            facing.append((file, drug.id, "tocilizumab_availability", (drug.tocilizumab_availability.source,)))
        facing += [(file, drug.id, "typical_onset_source", (drug.typical_onset_source,)),
                   (file, drug.id, "risk_source", (drug.risk_source,)),
                   (file, drug.id, "boxed_warning_source", (drug.boxed_warning_source,))]
    facing += [("icans.yaml", line.id, "sources", line.sources) for line in cat.icans.management]
    facing.append(("dosing.yaml", "tocilizumab", "sources", tuple(cat.dosing.tocilizumab.sources)))
    shorts = {s.id: s.short for s in cat.sources.sources}
    for file, entry, where, sources in facing:
        if sources and all(kinds.get(s) in NOT_FOR_THE_BEDSIDE for s in sources):
            raise KnowledgeError(
                f"{file}: entry '{entry}', field '{where}': shown on cards but sourced only by "
                f"{', '.join(f'{s} ({kinds.get(s)})' for s in sources)}: cite the label, a guideline or a paper"
            )
        unlabelled = sorted(s for s in sources if s in shorts and s != "local-protocol" and not shorts[s])
        if unlabelled:
            raise KnowledgeError(
                f"{file}: entry '{entry}', field '{where}': source(s) {unlabelled} need a `short` label in "
                "sources.yaml (what the card shows under Sources)"
            )


def _plausibility(cat: Catalogue, check: _Checker) -> dict[str, PlausibleRange]:
    """One range per observation concept of observations.yaml, each with a known source."""
    concepts = {concept.id for concept in cat.observations.concepts}
    ranges: dict[str, PlausibleRange] = {}
    for spec in cat.plausibility.ranges:
        if spec.concept in ranges:
            check.fail("plausibility.yaml", spec.concept, "concept", "listed twice")
        if spec.concept not in concepts:
            check.fail("plausibility.yaml", spec.concept, "concept", "not a concept of observations.yaml")
        check.source(spec.source, "plausibility.yaml", spec.concept, "source")
        ranges[spec.concept] = spec.range()
    return ranges


def _frozen(mapping: dict[CodeKey, V]) -> Mapping[CodeKey, V]:
    return MappingProxyType(mapping)


def _check_sources_unique(cat: Catalogue, check: _Checker) -> None:
    for source in cat.sources.sources:
        check.unique("source", source.id, "sources.yaml")
    if SITE_SOURCE in {s.id for s in cat.sources.sources}:
        check.fail("sources.yaml", SITE_SOURCE, "id", "reserved for codes from the site file")


def _check_systems(cat: Catalogue, check: _Checker) -> None:
    for system in cat.systems.systems:
        check.unique("code-system", system.id, "code-systems.yaml")
        check.source(system.source, "code-systems.yaml", system.id, "source")


def _drugs(cat: Catalogue, check: _Checker) -> tuple[dict[str, Drug], dict[tuple[str, str], str], PhraseIndex[str]]:
    drugs: dict[str, Drug] = {}
    codes: dict[tuple[str, str], str] = {}
    names: PhraseIndex[str] = PhraseIndex()
    for file, drug_file in cat.drug_files.items():
        for drug in drug_file.drugs:
            check.unique("drug", drug.id, file)
            drugs[drug.id] = drug
            _check_drug_sources(drug, file, check)
            _index_drug_codes(drug, file, check, codes)
            priority = 0 if drug.id == GENERIC_CAR_T else 1
            for name in drug.names:
                other = names.add(name, drug.id, priority)
                if other is not None:
                    check.fail(file, drug.id, "names", f"name '{name}' is also a name of drug '{other}'")
    return drugs, codes, names


def _check_drug_sources(drug: Drug, file: str, check: _Checker) -> None:
    for field_name in (
        "risk_source",
        "boxed_warning_source",
        "typical_onset_source",
        "exposure_window_source",
    ):
        check.source(getattr(drug, field_name), file, drug.id, field_name)
    for i, fact in enumerate(drug.monitoring):
        check.source(fact.source, file, drug.id, f"monitoring[{i}].source")
    if drug.tocilizumab_availability:
        check.source(drug.tocilizumab_availability.source, file, drug.id, "tocilizumab_availability.source")
    if drug.boxed_warning_neurotoxicity_source:
        check.source(drug.boxed_warning_neurotoxicity_source, file, drug.id, "boxed_warning_neurotoxicity_source")
    for i, premed in enumerate(drug.premedication):
        check.source(premed.source, file, drug.id, f"premedication[{i}].source")
        if premed.paediatric_source:
            check.source(premed.paediatric_source, file, drug.id, f"premedication[{i}].paediatric_source")
        if premed.system and premed.code:
            check.code(premed.system, premed.code, file, drug.id, f"premedication[{i}]")


def _index_drug_codes(drug: Drug, file: str, check: _Checker, codes: dict[tuple[str, str], str]) -> None:
    for i, code in enumerate(drug.codes):
        if _LEVEL_SYSTEMS[code.level] != code.system:
            check.fail(file, drug.id, f"codes[{i}].level", f"level '{code.level}' does not fit {code.system}")
        key = check.coding(code, file, drug.id, f"codes[{i}]")
        if key in codes and codes[key] != drug.id:
            check.fail(file, drug.id, f"codes[{i}].code", f"code {code.code} is also claimed by '{codes[key]}'")
        codes[key] = drug.id


def _check_premedications(cat: Catalogue, treatments: Mapping[str, object], check: _Checker) -> None:
    for file, drug_file in cat.drug_files.items():
        for drug in drug_file.drugs:
            for i, premed in enumerate(drug.premedication):
                if premed.treatment_id is not None and premed.treatment_id not in treatments:
                    check.fail(
                        file,
                        drug.id,
                        f"premedication[{i}].treatment_id",
                        f"unknown treatment '{premed.treatment_id}'",
                    )


def _named_entries(
    file: str, entries: Iterable[Vasopressor | Treatment], check: _Checker
) -> tuple[dict[CodeKey, str], PhraseIndex[str]]:
    codes: dict[tuple[str, str], str] = {}
    names: PhraseIndex[str] = PhraseIndex()
    for entry in entries:
        ident, codings = entry.id, entry.codes
        check.unique(file, ident, file)
        check.source(entry.source, file, ident, "source")
        synonyms_source = getattr(entry, "synonyms_source", None)
        if synonyms_source is not None:
            check.source(synonyms_source, file, ident, "synonyms_source")
        for i, coding in enumerate(codings):
            key = check.coding(coding, file, ident, f"codes[{i}]")
            if codes.get(key, ident) != ident:
                check.fail(file, ident, f"codes[{i}].code", f"code {coding.code} is also claimed by '{codes[key]}'")
            codes[key] = ident
        for name in (entry.name, *entry.synonyms):
            other = names.add(name, ident)
            if other is not None:
                check.fail(file, ident, "synonyms", f"name '{name}' is also a name of '{other}'")
    return codes, names


def _observation_names(cat: Catalogue, check: _Checker) -> PhraseIndex[str]:
    """The names of observation concepts (labs without a verified code), for text recognition."""
    names: PhraseIndex[str] = PhraseIndex()
    for concept in cat.observations.concepts:
        for name in concept.names:
            owner = names.add(name, concept.id)
            if owner is not None:
                check.fail("observations.yaml", concept.id, "names", f"{name!r} is also a name of '{owner}'")
    return names


def _observations(cat: Catalogue, check: _Checker) -> dict[tuple[str, str], str]:
    codes: dict[tuple[str, str], str] = {}
    for concept in cat.observations.concepts:
        check.unique("observation", concept.id, "observations.yaml")
        check.source(concept.source, "observations.yaml", concept.id, "source")
        for i, coding in enumerate(concept.codes):
            key = check.coding(coding, "observations.yaml", concept.id, f"codes[{i}]")
            if codes.get(key, concept.id) != concept.id:
                check.fail("observations.yaml", concept.id, f"codes[{i}].code", f"also claimed by '{codes[key]}'")
            codes[key] = concept.id
    return codes


# Text-match priority of each device: its ASTCT 2019 hypoxia level (domain.facts.ASTCT_HYPOXIA_LEVEL), so a
# text naming two devices ("BiPAP via full face mask") gives the higher support. "unknown" (oxygen given, device
# not gradable) ranks above room air and below every named device: it says oxygen is given but not how.
O2_TEXT_RANK: Mapping[O2Device, int] = MappingProxyType({**ASTCT_HYPOXIA_LEVEL, O2Device.unknown: 1})


def _o2_devices(cat: Catalogue, check: _Checker) -> tuple[dict[tuple[str, str], O2Device], PhraseIndex[O2Device]]:
    """Device codes, and device names indexed with their ASTCT level as priority (ties: highest level)."""
    codes: dict[tuple[str, str], O2Device] = {}
    names: PhraseIndex[O2Device] = PhraseIndex()
    for entry in cat.observations.o2_devices:
        check.unique("o2-device", entry.id, "observations.yaml")
        check.source(entry.source, "observations.yaml", entry.id, "source")
        for i, coding in enumerate(entry.codes):
            codes[check.coding(coding, "observations.yaml", entry.id, f"codes[{i}]")] = entry.device
        for synonym in entry.synonyms:
            other = names.add(synonym, entry.device, O2_TEXT_RANK[entry.device])
            if other is not None:
                check.fail("observations.yaml", entry.id, "synonyms", f"'{synonym}' also names '{other}'")
    return codes, names


def _apply_site(
    cat: Catalogue,
    drugs: dict[str, Drug],
    check: _Checker,
    indexes: SiteIndexes,
) -> tuple[SiteConfig, dict[str, Drug]]:
    """Add the site's local codes to the indexes and apply its window overrides; unknown ids fail."""
    site, name = cat.site, cat.site_name or "site file"
    assert site is not None  # noqa: S101 - caller checks
    drug_codes, vaso_codes, treat_codes, obs_codes, o2_codes = indexes
    vasopressor_ids = {v.id for v in cat.vasopressors.vasopressors}
    treatment_ids = {t.id for t in cat.treatments.treatments}
    overrides: dict[str, int] = {}
    for i, item in enumerate(site.drugs):
        _known(check, name, f"drugs[{i}]", item.drug_id, drugs, "drug")
        _add_local(check, name, item.drug_id, item.codes, drug_codes, item.drug_id)
        if item.exposure_window_days is not None:
            overrides[item.drug_id] = item.exposure_window_days
    for i, vaso in enumerate(site.vasopressors):
        _known(check, name, f"vasopressors[{i}]", vaso.vasopressor_id, vasopressor_ids, "vasopressor")
        _add_local(check, name, vaso.vasopressor_id, vaso.codes, vaso_codes, vaso.vasopressor_id)
    for i, treat in enumerate(site.treatments):
        _known(check, name, f"treatments[{i}]", treat.treatment_id, treatment_ids, "treatment")
        _add_local(check, name, treat.treatment_id, treat.codes, treat_codes, treat.treatment_id)
    for obs in site.observations:
        _add_local(check, name, obs.concept, obs.codes, obs_codes, obs.concept)
    for dev in site.o2_devices:
        _add_local(check, name, dev.device.value, dev.codes, o2_codes, dev.device)
    updated = {
        drug_id: drug.model_copy(
            update={
                "exposure_window_days": overrides[drug_id],
                "exposure_window_source": SITE_SOURCE,
                "exposure_window_rationale": f"site override in {name}",
            }
        )
        if drug_id in overrides
        else drug
        for drug_id, drug in drugs.items()
    }
    config = SiteConfig(site.site, site.version, site.min_order_alert_tier, MappingProxyType(overrides))
    return config, updated


def _known(check: _Checker, file: str, field_path: str, ident: str, known: Iterable[str], kind: str) -> None:
    if ident not in known:
        check.fail(file, ident, field_path, f"unknown {kind} id '{ident}'")


def _add_local(
    check: _Checker,
    file: str,
    entry: str,
    codes: Iterable[LocalCode],
    index: dict[CodeKey, V],
    value: V,
) -> None:
    for i, local in enumerate(codes):
        key = check.code(local.system, local.code, file, entry, f"codes[{i}]")
        if key in index and index[key] != value:
            check.fail(file, entry, f"codes[{i}].code", f"code {local.code} already means '{index[key]}'")
        index[key] = value
