"""Card wording: the schema of the YAML files under cards/templates/ and the loader that validates them.

    cards/templates/
      <template-id>.yaml     one per card template (active-crs, ...): summaries, sections, lists
      common.yaml            headings, day phrases, unit display names, shared phrases
      signals.yaml           one sentence per signal id;  differentials.yaml: what to consider, per id
      management.yaml        management summary per ASTCT grade 1-4, each item with its sources
      override-reasons.yaml  the override reasons every card offers
      links.yaml             references (guidelines, papers), link labels, the card-topic code system

`load_templates(dir)` refuses (KnowledgeError naming file and field) any file that does not match the schema,
any template the findings contract names but the directory lacks, and any placeholder the template's
rule does not supply (the registry in `rendering/registry.py` mirrors docs/FINDINGS.md).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cds_service.errors import KnowledgeError
from cds_service.rendering.registry import (
    COMMON_PHRASE_PARAMS,
    DIFFERENTIAL_IDS,
    DRUG_LABEL_SOURCE,
    HEADING_IDS,
    LINK_LABEL_PARAMS,
    REQUIRED_REFERENCES,
    SIGNAL_PARAMS,
    TEMPLATE_SPECS,
    WARNING_SIGNALS,
    TemplateSpec,
)

_M = TypeVar("_M", bound="_Schema")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Schema):
    """One guidance line: its text, the references it cites, and whether it is institution-specific."""

    text: str = Field(min_length=1)
    sources: tuple[str, ...] = ()
    local: bool = False  # institution-specific: rendered "per local protocol"


class CardTemplate(_Schema):
    id: str
    rule_id: str
    version: int = Field(ge=1)
    source: str  # reference id of the card's source url, or "drug-label"
    params: tuple[str, ...]  # the placeholders this template uses; checked against the rule's contract
    summaries: dict[str, str]
    sections: dict[str, str]
    lists: dict[str, tuple[Item, ...]] = Field(default_factory=dict)
    by_drug: dict[str, str] = Field(default_factory=dict)  # drug id -> short summary phrase (no placeholders)


class CommonWording(_Schema):
    version: int = Field(ge=1)
    headings: dict[str, str]
    phrases: dict[str, str]
    units: dict[str, str]  # UCUM code -> display ("Cel" -> "°C")
    concepts: dict[str, str] = Field(default_factory=dict)  # concept id -> display ("ldh" -> "LDH")
    table_header: tuple[str, str, str, str]  # What | Value | Unit | Time


class SignalWording(_Schema):
    text: str = Field(min_length=1)
    short: str | None = None  # a warning signal's name in a summary ("ferritin 14500 ng/mL"), same placeholders


class SignalFile(_Schema):
    version: int = Field(ge=1)
    signals: dict[str, SignalWording]


class Differential(_Schema):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    sources: tuple[str, ...] = ()  # ids of cards/sources.yaml
    paediatric: str | None = None  # the wording for a patient under 18
    low_cortisol: str | None = None  # adrenal: the wording when only a low cortisol (no long-term steroid) is seen


class DifferentialFile(_Schema):
    version: int = Field(ge=1)
    differentials: dict[str, Differential]


class ManagementItem(_Schema):
    """One "do now" line of a CRS card (cards/templates/management.yaml)."""

    text: str = Field(min_length=1)
    sources: tuple[str, ...] = ()  # ids of cards/sources.yaml
    local: bool = False
    paediatric: str | None = None  # replaces the line for a patient under 18
    mg_per_kg: float | None = None  # the paediatric {dose} from the charted weight ...
    mg_per_m2: float | None = None  # ... or body surface
    max_mg: float | None = None


class ManagementGroup(_Schema):
    classes: tuple[str, ...] = ()  # drug classes of the catalogue
    drugs: tuple[str, ...] = ()  # drug ids (a drug's own group wins over its class's)
    actions: dict[int, str]  # the summary's next action, per grade
    grades: dict[int, tuple[ManagementItem, ...]]


class ManagementFile(_Schema):
    version: int = Field(ge=2)
    groups: dict[str, ManagementGroup]

    def group_for(self, drug_id: str, drug_class: str) -> tuple[str, ManagementGroup] | None:
        """The group of a drug: its own group first, else its class's."""
        for name, group in self.groups.items():
            if drug_id in group.drugs:
                return name, group
        for name, group in self.groups.items():
            if drug_class in group.classes:
                return name, group
        return None


class OverrideReasonEntry(_Schema):
    code: str = Field(min_length=1)
    display: str = Field(min_length=1)


class OverrideReasonFile(_Schema):
    version: int = Field(ge=1)
    system: str = Field(min_length=1)
    reasons: tuple[OverrideReasonEntry, ...] = Field(min_length=1)


class Reference(_Schema):
    short: str = Field(min_length=1)  # "ASTCT 2019"
    citation: str = Field(min_length=1)  # "Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638"
    url: str | None = None


class LinkFile(_Schema):
    version: int = Field(ge=1)
    topic_system: str = Field(min_length=1)
    labels: dict[str, str]
    references: dict[str, Reference]


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """Every piece of card wording, validated."""

    cards: Mapping[str, CardTemplate]
    common: CommonWording
    signals: Mapping[str, SignalWording]
    differentials: Mapping[str, Differential]
    management: ManagementFile
    override_reasons: OverrideReasonFile
    links: LinkFile

    def card(self, template_id: str) -> CardTemplate:
        """The template with that id (KnowledgeError when a finding names one that does not exist)."""
        try:
            return self.cards[template_id]
        except KeyError:
            raise KnowledgeError(f"no card template {template_id!r} under cards/templates") from None

    def phrase(self, key: str, **values: object) -> str:
        """A shared phrase from common.yaml, filled."""
        return fill(self.common.phrases[key], values)


def fill(text: str, values: Mapping[str, object]) -> str:
    """`text` with each {name} replaced by str(values[name])."""
    return text.format_map({k: "" if v is None else v for k, v in values.items()})


def placeholders(text: str) -> set[str]:
    """The {names} a template string uses; ValueError on anything but a bare {identifier}."""
    names: set[str] = set()
    for _, field_name, spec, conversion in string.Formatter().parse(text):
        if field_name is None:
            continue
        if not _IDENTIFIER.match(field_name) or spec or conversion:
            raise ValueError(
                f"placeholder {{{field_name}}} must be a bare name (no index, format or conversion)"
            )
        names.add(field_name)
    return names


# ---------------------------------------------------------------- loading


def load_templates(directory: Path) -> TemplateSet:
    """Read and validate every wording file under `directory`; KnowledgeError if anything is invalid."""
    common = _load(directory / "common.yaml", CommonWording)
    signals = _load(directory / "signals.yaml", SignalFile)
    differentials = _load(directory / "differentials.yaml", DifferentialFile)
    management = _load(directory / "management.yaml", ManagementFile)
    override_reasons = _load(directory / "override-reasons.yaml", OverrideReasonFile)
    links = _load(directory / "links.yaml", LinkFile)
    cards = {
        template_id: _load_card(directory, template_id, spec) for template_id, spec in TEMPLATE_SPECS.items()
    }
    _check_common(directory / "common.yaml", common)
    _check_signals(directory / "signals.yaml", signals)
    _check_keys(
        directory / "differentials.yaml", "differentials", differentials.differentials, DIFFERENTIAL_IDS
    )
    _check_management(directory / "management.yaml", management, links)
    _check_links(directory / "links.yaml", links)
    for template_id, card in cards.items():
        _check_card_sources(directory / f"{template_id}.yaml", card, links)
    return TemplateSet(
        cards=cards,
        common=common,
        signals=signals.signals,
        differentials=differentials.differentials,
        management=management,
        override_reasons=override_reasons,
        links=links,
    )


def _load(path: Path, model: type[_M]) -> _M:
    """Parse one YAML file into `model`, naming the file and the offending field on failure."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: file missing") from None
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML ({exc})") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise KnowledgeError(f"{path}: field {where}: {first['msg']}", expression=[where]) from None


def _load_card(directory: Path, template_id: str, spec: TemplateSpec) -> CardTemplate:
    """Load `<template_id>.yaml` and check it against the rule's contract."""
    path = directory / f"{template_id}.yaml"
    if not path.exists():
        raise KnowledgeError(f"{path}: template {template_id!r} (used by rule {spec.rule_id}) is missing")
    card = _load(path, CardTemplate)
    if card.id != template_id:
        raise KnowledgeError(f"{path}: field id: {card.id!r} does not match the file name")
    if card.rule_id != spec.rule_id:
        raise KnowledgeError(f"{path}: field rule_id: {card.rule_id!r}, the contract says {spec.rule_id!r}")
    unknown = sorted(set(card.params) - spec.available)
    if unknown:
        raise KnowledgeError(f"{path}: field params: {unknown} are not supplied by rule {spec.rule_id}")
    _check_keys(path, "summaries", card.summaries, spec.summaries)
    _check_keys(path, "sections", card.sections, spec.sections)
    _check_keys(path, "lists", card.lists, spec.lists)
    declared = frozenset(card.params)
    for kind, texts in (("summaries", card.summaries), ("sections", card.sections)):
        for key, text in texts.items():
            _check_placeholders(path, f"{kind}.{key}", text, declared)
    for key, items in card.lists.items():
        for index, item in enumerate(items):
            _check_placeholders(path, f"lists.{key}.{index}.text", item.text, frozenset())
    for key, text in card.by_drug.items():
        _check_placeholders(path, f"by_drug.{key}", text, frozenset())
    return card


def _check_keys(path: Path, field: str, present: Mapping[Any, Any], required: Iterable[Any]) -> None:
    """Every required key is present and no unknown key is."""
    missing = sorted(str(k) for k in set(required) - set(present))
    extra = sorted(str(k) for k in set(present) - set(required))
    if missing:
        raise KnowledgeError(f"{path}: field {field}: missing {missing}", expression=[field])
    if extra:
        raise KnowledgeError(f"{path}: field {field}: unknown {extra}", expression=[field])


def _check_placeholders(path: Path, where: str, text: str, allowed: frozenset[str]) -> None:
    """Every {placeholder} in `text` is one of `allowed`."""
    try:
        used = placeholders(text)
    except ValueError as exc:
        raise KnowledgeError(f"{path}: field {where}: {exc}", expression=[where]) from None
    unknown = sorted(used - allowed)
    if unknown:
        raise KnowledgeError(
            f"{path}: field {where}: unknown placeholder(s) {unknown}; allowed: {sorted(allowed)}",
            expression=[where],
        )


def _check_common(path: Path, common: CommonWording) -> None:
    _check_keys(path, "headings", common.headings, HEADING_IDS)
    _check_keys(path, "phrases", common.phrases, COMMON_PHRASE_PARAMS)
    for key, text in common.headings.items():
        _check_placeholders(path, f"headings.{key}", text, frozenset())
    for key, text in common.phrases.items():
        _check_placeholders(path, f"phrases.{key}", text, COMMON_PHRASE_PARAMS[key])


def _check_signals(path: Path, signals: SignalFile) -> None:
    _check_keys(path, "signals", signals.signals, SIGNAL_PARAMS)
    for key, wording in signals.signals.items():
        _check_placeholders(path, f"signals.{key}.text", wording.text, SIGNAL_PARAMS[key])
        if wording.short is not None:
            _check_placeholders(path, f"signals.{key}.short", wording.short, SIGNAL_PARAMS[key])
        elif key in WARNING_SIGNALS:
            raise KnowledgeError(f"{path.name}: field signals.{key}.short: a warning signal needs a short name")


MANAGEMENT_PLACEHOLDERS = frozenset({"tocilizumab", "drug"})


def _check_management(path: Path, management: ManagementFile, links: LinkFile) -> None:
    """Every group has actions and lines for grades 1-4, placeholders the renderer fills, and sources or
    "local". (Source ids are checked against cards/sources.yaml by the renderer, which holds the knowledge.)"""
    for name, group in management.groups.items():
        _check_keys(path, f"groups.{name}.grades", group.grades, {1, 2, 3, 4})
        _check_keys(path, f"groups.{name}.actions", group.actions, {1, 2, 3, 4})
        for grade, items in group.grades.items():
            for index, item in enumerate(items):
                where = f"groups.{name}.grades.{grade}[{index}]"
                _check_placeholders(path, f"{where}.text", item.text, MANAGEMENT_PLACEHOLDERS)
                if item.paediatric is not None:
                    _check_placeholders(path, f"{where}.paediatric", item.paediatric, frozenset({"dose", "drug"}))
                if not item.sources and not item.local:
                    raise KnowledgeError(f"{path.name}: field {where}: a line needs sources or local: true")


def _check_links(path: Path, links: LinkFile) -> None:
    _check_keys(path, "labels", links.labels, LINK_LABEL_PARAMS)
    for key, text in links.labels.items():
        _check_placeholders(path, f"labels.{key}", text, LINK_LABEL_PARAMS[key])
    missing = sorted(REQUIRED_REFERENCES - set(links.references))
    if missing:
        raise KnowledgeError(f"{path}: field references: missing {missing}", expression=["references"])


def _check_card_sources(path: Path, card: CardTemplate, links: LinkFile) -> None:
    """The card's source (its link) is a reference of links.yaml or the drug's label. The sources its lines cite
    are ids of cards/sources.yaml, checked by the renderer against the knowledge base (`cited_sources`)."""
    _check_sources(path, "source", [card.source], links)


def cited_sources(templates: TemplateSet) -> dict[str, set[str]]:
    """Every knowledge-source id the wording cites (differentials, management lines, list items), by file."""
    cited: dict[str, set[str]] = {"differentials.yaml": set(), "management.yaml": set()}
    for differential in templates.differentials.values():
        cited["differentials.yaml"].update(differential.sources)
    for group in templates.management.groups.values():
        for items in group.grades.values():
            for item in items:
                cited["management.yaml"].update(item.sources)
    for template_id, card in templates.cards.items():
        cited[f"{template_id}.yaml"] = {s for items in card.lists.values() for item in items for s in item.sources}
    return cited


def _check_sources(path: Path, where: str, sources: Iterable[str], links: LinkFile) -> None:
    """Every cited source is a reference of links.yaml or the drug's label."""
    unknown = sorted(s for s in sources if s != DRUG_LABEL_SOURCE and s not in links.references)
    if unknown:
        raise KnowledgeError(f"{path}: field {where}: unknown reference(s) {unknown}", expression=[where])
