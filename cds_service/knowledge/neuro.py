"""ICANS knowledge from cards/icans.yaml: text recognition of neurological assessments and events (with
negation), the ASTCT 2019 grading cut-offs and the ASCO 2021 management lines, each with its source.

    NeuroKnowledge.assessment(texts)      -> "ice_score" | "capd" | "gcs" | "consciousness" | None
    NeuroKnowledge.consciousness(texts)   -> "alert" | "voice" | "tactile" | "unarousable" | None
    NeuroKnowledge.event(texts)           -> NeuroEvent (seizure, prolonged seizure, motor weakness, oedema) | None
    NeuroKnowledge.event_by_code(system, code) -> NeuroEvent | None

Text matching is whole-token (knowledge/text.py). A mention is discarded when a negation trigger stands within
the configured window before it or after it ("no seizure", "seizure precautions", "history of seizures").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from cds_service.knowledge.codes import SystemResolver
from cds_service.knowledge.schema import Coding, Strict
from cds_service.knowledge.text import PhraseIndex, tokenize

Level = Literal["alert", "spontaneous", "voice", "tactile", "unarousable"]
_LEVEL_RANK: dict[str, int] = {"alert": 0, "spontaneous": 1, "voice": 2, "tactile": 3, "unarousable": 4}
Domain = Literal["seizure", "motor", "oedema"]


class AssessmentSpec(Strict):
    concept: Literal["ice_score", "capd", "gcs", "consciousness"]
    phrases: tuple[str, ...]
    source: str


class ConsciousnessSpec(Strict):
    alert: tuple[str, ...]
    spontaneous: tuple[str, ...]
    voice: tuple[str, ...]
    tactile: tuple[str, ...]
    unarousable: tuple[str, ...]
    source: str


class EventSpec(Strict):
    id: str
    domain: Domain
    grade: int = Field(ge=1, le=4)
    label: str
    codes: tuple[Coding, ...] = ()
    phrases: tuple[str, ...]
    source: str


class NegationSpec(Strict):
    before: int = Field(ge=1, le=10)
    after: int = Field(ge=1, le=10)
    pre: tuple[str, ...]
    post: tuple[str, ...]
    source: str


class GradingSpec(Strict):
    ice_from_age_years: int
    ice_from_age_source: str
    ice_bands: tuple[IceBand, ...]
    ice_source: str
    capd_grade_3_from: int
    capd_source: str
    consciousness_grades: dict[Literal["spontaneous", "voice", "tactile", "unarousable"], int]
    consciousness_source: str
    gcs_prompt_below: int
    gcs_source: str
    event_lookback_hours: int = Field(ge=1, le=336)
    event_lookback_source: str

    def ice_grade(self, score: float) -> int:
        """The ICE-domain grade of a score (10: 0, no encephalopathy by ICE)."""
        return next((band.grade for band in self.ice_bands if band.min <= score <= band.max), 0)


class IceBand(Strict):
    min: int = Field(ge=0, le=10)
    max: int = Field(ge=0, le=10)
    grade: int = Field(ge=1, le=4)


class ManagementLine(Strict):
    id: str
    grades: tuple[int, ...]
    text: str
    crs: bool | None = None  # True: only with concurrent CRS; False: only without; None: either
    event: Domain | None = None  # only when this kind of event is recorded
    drug_class: str | None = None  # only after a drug of this class
    paediatric_text: str | None = None  # replaces an adult flat dose for a patient under 18
    mg_per_kg: float | None = None  # fills {dose} in paediatric_text from the charted weight
    local: bool = False
    sources: tuple[str, ...]


class IcansFile(Strict):
    version: str
    assessments: tuple[AssessmentSpec, ...]
    consciousness: ConsciousnessSpec
    events: tuple[EventSpec, ...]
    positive_answers: tuple[str, ...]
    negation: NegationSpec
    grading: GradingSpec
    assessment_interval_hours: int = Field(ge=1, le=48)
    assessment_interval_source: str
    management: tuple[ManagementLine, ...]

    def source_ids(self) -> list[tuple[str, str]]:
        """(entry, source id) of every sourced item, for the loader's cross-check."""
        found = [(f"assessments.{a.concept}", a.source) for a in self.assessments]
        found += [("consciousness", self.consciousness.source), ("negation", self.negation.source)]
        found += [(f"events.{e.id}", e.source) for e in self.events]
        found += [(f"events.{e.id}.codes", c.source) for e in self.events for c in e.codes]
        g = self.grading
        found += [("grading", s) for s in (g.ice_from_age_source, g.ice_source, g.capd_source,
                                           g.consciousness_source, g.gcs_source, g.event_lookback_source)]
        found += [("assessment_interval", self.assessment_interval_source)]
        found += [(f"management.{m.id}", s) for m in self.management for s in m.sources]
        return found


GradingSpec.model_rebuild()


@dataclass(frozen=True, slots=True)
class NeuroEvent:
    id: str  # "seizure", "prolonged-seizure", "motor-weakness", "focal-oedema", "raised-icp"
    domain: Domain
    grade: int  # the ASTCT grade the event supports
    label: str
    matched: str  # the phrase or code that matched


class NeuroKnowledge:
    """Read-only ICANS knowledge with its text recognisers."""

    def __init__(self, spec: IcansFile, resolver: SystemResolver) -> None:
        self.spec = spec
        self.grading = spec.grading
        self.management = spec.management
        self.assessment_interval_hours = spec.assessment_interval_hours
        self._resolver = resolver
        self._assessments: PhraseIndex[str] = PhraseIndex()
        for assessment in spec.assessments:
            for phrase in assessment.phrases:
                self._assessments.add(phrase, assessment.concept)
        self._levels: PhraseIndex[Level] = PhraseIndex()
        self._whole_levels: dict[tuple[str, ...], Level] = {}
        levels: Mapping[Level, tuple[str, ...]] = {
            "unarousable": spec.consciousness.unarousable,
            "tactile": spec.consciousness.tactile,
            "voice": spec.consciousness.voice,
            "spontaneous": spec.consciousness.spontaneous,
            "alert": spec.consciousness.alert,
        }
        for level, answers in levels.items():
            for answer in answers:
                words = tokenize(answer).words
                self._whole_levels.setdefault(words, level)
                if len("".join(words)) > 1:  # "V", "P", "A" count only as the whole answer
                    self._levels.add(answer, level, priority=_LEVEL_RANK[level])
        self._events: PhraseIndex[EventSpec] = PhraseIndex()
        self._event_codes: dict[tuple[str, str], EventSpec] = {}
        for event in spec.events:
            for phrase in event.phrases:
                self._events.add(phrase, event, priority=event.grade)
            for coding in event.codes:
                key = resolver.key(coding.system, coding.code)
                if key:
                    self._event_codes[key] = event
        self._pre = [tokenize(t).words for t in spec.negation.pre]
        self._post = [tokenize(t).words for t in spec.negation.post]
        self._positive = frozenset(" ".join(tokenize(t).words) for t in spec.positive_answers)

    def assessment(self, texts: Iterable[str]) -> str | None:
        """The assessment an Observation code's texts name ("ice_score", "capd", "gcs", "consciousness")."""
        hit = self._assessments.search(texts)
        return hit.value if hit is not None else None

    def consciousness(self, texts: Iterable[str]) -> Level | None:
        """The level of consciousness an answer says: a whole answer ("V", "alert"), else the most depressed
        level a longer answer names ("drowsy, responds to voice"); single letters count only as whole answers."""
        texts = list(texts)
        for text in texts:
            whole = self._whole_levels.get(tokenize(text).words)
            if whole is not None:
                return whole
        hit = self._levels.search(texts)
        return hit.value if hit is not None else None

    def event_by_code(self, system: str | None, code: str | None) -> NeuroEvent | None:
        key = self._resolver.key(system, code)
        event = self._event_codes.get(key) if key else None
        return None if event is None else NeuroEvent(event.id, event.domain, event.grade, event.label, f"code:{code}")

    def event(self, texts: Iterable[str]) -> NeuroEvent | None:
        """The most severe event a text names and does not negate, or None."""
        best: NeuroEvent | None = None
        for text in texts:
            for sentence in _sentences(text):
                tokens = tokenize(sentence)
                covered = 0  # a phrase inside a longer one found before it ("cerebral oedema" in "focal ...")
                for start, end, spec in self._events.spans(tokens):
                    if start < covered:
                        continue
                    covered = end
                    if self._negated(tokens.words, start, end):
                        continue
                    if best is None or spec.grade > best.grade:
                        matched = " ".join(tokens.words[start:end])
                        best = NeuroEvent(spec.id, spec.domain, spec.grade, spec.label, matched)
        return best

    def is_positive_answer(self, text: str) -> bool:
        return " ".join(tokenize(text).words) in self._positive

    def _negated(self, words: tuple[str, ...], start: int, end: int) -> bool:
        before = words[max(0, start - self.spec.negation.before) : start]
        after = words[end : end + self.spec.negation.after]
        return any(_contains(before, t) for t in self._pre) or any(_contains(after, t) for t in self._post)


def _contains(window: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(window[i : i + n] == phrase for i in range(len(window) - n + 1))


def _sentences(text: str) -> list[str]:
    for mark in (";", ":", "\n"):
        text = text.replace(mark, ".")
    return [part for part in text.split(".") if part.strip()]
