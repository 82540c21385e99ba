"""Physiological plausibility ranges from cards/plausibility.yaml: a value outside its range is never evidence."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import model_validator

from cds_service.knowledge.schema import Strict


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """[low, high] in the concept's canonical unit, inclusive."""

    concept: str
    unit: str
    low: float
    high: float
    source: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


class RangeSpec(Strict):
    concept: str
    unit: str
    min: float
    max: float
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RangeSpec:
        if self.min >= self.max:
            raise ValueError(f"min {self.min:g} is not below max {self.max:g}")
        return self

    def range(self) -> PlausibleRange:
        return PlausibleRange(self.concept, self.unit, self.min, self.max, self.source)


class PlausibilityFile(Strict):
    version: str
    ranges: tuple[RangeSpec, ...]
