"""Findings: what the facts mean under a rule (the output of `clinical/`, the input of `rendering/`).

A finding carries a stable rule id, a category of the finding contract (README "Finding contract"), its evidence
and the parameters its card template needs. Nothing here knows FHIR or card wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


class Category(StrEnum):
    order_risk = "order-risk"
    active_crs = "active-crs"
    active_icans = "active-icans"
    monitoring_window = "monitoring-window"
    monitoring_gap = "monitoring-gap"
    pre_infusion_risk = "pre-infusion-risk"
    data_gap = "data-gap"


@dataclass(frozen=True, slots=True)
class Evidence:
    label: str  # "Temperature", "Systolic blood pressure", "Norepinephrine administration"
    reference: str | None
    code: str | None
    value: float | str | None
    unit: str | None
    effective: datetime | None


@dataclass(frozen=True, slots=True)
class DrugRef:
    id: str
    name: str
    drug_class: str
    risk_tier: str


@dataclass(frozen=True, slots=True)
class SuggestedOrder:
    """An order the card proposes, as data; the renderer turns it into a FHIR R4 draft resource."""

    resource_type: str  # "MedicationRequest" | "ServiceRequest"
    label: str  # "Dexamethasone 20 mg IV 1 h before blinatumomab"
    system: str | None
    code: str | None
    display: str
    text: str | None = None  # dosage or order text
    source: str | None = None  # where the requirement comes from


@dataclass(frozen=True, slots=True)
class Suggestion:
    label: str
    orders: tuple[SuggestedOrder, ...]
    is_recommended: bool = True


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str  # stable: "crs.active", "crs.monitoring-window", "order.risk", ...
    category: Category
    severity: Severity
    template: str  # template id under cards/templates
    params: Mapping[str, Any] = field(default_factory=dict)
    drug: DrugRef | None = None
    astct_grade: int | None = None
    astct_grade_is_minimum: bool = False
    icans_grade: int | None = None  # ASTCT 2019 ICANS grade (icans.active only)
    icans_grade_is_minimum: bool = False
    days_since_exposure: int | None = None
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()  # what data was missing, in words
    suggestions: tuple[Suggestion, ...] = ()
