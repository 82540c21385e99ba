"""Doses computed from the charted weight, from cards/dosing.yaml (each rule with its sources)."""

from __future__ import annotations

from pydantic import Field

from cds_service.knowledge.schema import Strict


def capped_mg(per_unit_mg: float, size: float, max_mg: float | None) -> float:
    """A dose by weight or body surface (mg/kg x kg, mg/m2 x m2), capped at the label's maximum, to 0.1 mg: the one
    rule every child's dose on a card follows."""
    mg = per_unit_mg * size
    if max_mg is not None:
        mg = min(mg, max_mg)
    return round(mg, 1)


class TocilizumabRule(Strict):
    mg_per_kg: float = Field(gt=0)
    max_mg: float = Field(gt=0)
    under_kg: float = Field(gt=0)
    mg_per_kg_under: float = Field(gt=0)
    min_interval_hours: int = Field(ge=1)
    max_doses_24h: int = Field(ge=1)
    max_doses_total: int = Field(ge=1)
    label_from_age_years: int = Field(ge=0)
    sources: tuple[str, ...]
    age_source: str
    rxnorm: str
    rxnorm_source: str

    def dose_mg(self, weight_kg: float) -> tuple[float, float]:
        """(dose in mg rounded to whole mg, the mg/kg used) for a weight: 12 mg/kg under 30 kg, else 8 mg/kg
        capped at the maximum."""
        per_kg = self.mg_per_kg_under if weight_kg < self.under_kg else self.mg_per_kg
        return float(round(min(per_kg * weight_kg, self.max_mg))), per_kg


class BsaRule(Strict):
    formula: str
    source: str


class DosingFile(Strict):
    version: str
    tocilizumab: TocilizumabRule
    bsa: BsaRule

    def source_ids(self) -> list[tuple[str, str]]:
        t = self.tocilizumab
        return [*(("tocilizumab", s) for s in t.sources), ("tocilizumab", t.age_source),
                ("tocilizumab", t.rxnorm_source), ("bsa", self.bsa.source)]
