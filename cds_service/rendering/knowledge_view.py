"""The part of the knowledge base the renderer reads, as structural types (docs/ARCHITECTURE.md
"KnowledgeBase API").

The renderer depends on these protocols, not on the loader's classes, so it can be tested with a small fake
and
works with `cds_service.knowledge.loader.KnowledgeBase` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

#: The knowledge-base source id of institution-defined items (shown "per local protocol", never cited).
LOCAL_PROTOCOL_SOURCE = "local-protocol"


class FactView(Protocol):
    text: str
    source: str  # a source id of cards/sources.yaml
    label_anchored: bool


class PremedicationView(Protocol):
    label: str
    display: str
    dose_text: str | None
    timing: str | None
    source: str


class BaselineItemView(Protocol):
    id: str
    label: str
    source: str


class DrugView(Protocol):
    id: str
    generic_name: str
    drug_class_label: str
    risk_reason: str
    boxed_warning_crs: bool
    boxed_warning_source: str
    boxed_warning_neurotoxicity_source: str | None
    typical_onset: str
    monitoring: tuple[FactView, ...]
    premedication: tuple[PremedicationView, ...]
    tocilizumab_availability: FactView | None
    label_url: str | None


class ManagementLineView(Protocol):
    id: str
    grades: tuple[int, ...]
    text: str
    crs: bool | None
    event: str | None
    drug_class: str | None
    paediatric_text: str | None
    mg_per_kg: float | None
    local: bool
    sources: tuple[str, ...]


class NeuroView(Protocol):
    @property
    def management(self) -> tuple[ManagementLineView, ...]: ...


class TocilizumabView(Protocol):
    mg_per_kg: float
    max_mg: float
    under_kg: float
    mg_per_kg_under: float
    min_interval_hours: int
    max_doses_24h: int
    max_doses_total: int
    label_from_age_years: int


class DosingView(Protocol):
    @property
    def tocilizumab(self) -> TocilizumabView: ...


class KnowledgeView(Protocol):
    @property
    def drugs(self) -> Mapping[str, DrugView]: ...

    @property
    def baseline_monitoring(self) -> tuple[BaselineItemView, ...]: ...

    @property
    def neuro(self) -> NeuroView: ...

    @property
    def dosing(self) -> DosingView: ...

    @property
    def sources(self) -> Mapping[str, object]: ...

    def citation(self, source_id: str) -> str:
        """The bibliography text of a source id."""
        ...

    def short_source(self, source_id: str) -> str:
        """The short label a card shows for a source."""
        ...
