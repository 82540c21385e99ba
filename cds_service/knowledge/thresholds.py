"""Clinical thresholds from cards/thresholds.yaml: each value with its unit and source.

Age-dependent thresholds take `age_days` (None means adult) and, optionally, `age_years`: the completed
calendar years from the birth date (`completed_years`). Paediatric bands are half-open
[min_age_days, max_age_days); every boundary from one year up is a whole number of 365-day years, so with
`age_years` the band is chosen at the birthday and the PALS formula (SBP < 70 + 2 x age in years for ages
1-10) uses the age in completed years. Without it, a year is 365 days of age (leap days shift the birthday).
Under one completed year the neonate and infant bands are chosen by `age_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, model_validator

from cds_service.knowledge.schema import Strict


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    unit: str
    source: str  # id in cards/sources.yaml
    note: str | None = None


class ValueSpec(Strict):
    value: float
    unit: str
    source: str
    note: str | None = None

    def threshold(self) -> Threshold:
        return Threshold(self.value, self.unit, self.source, self.note)


class AgeBand(Strict):
    id: str
    min_age_days: int = Field(ge=0)
    max_age_days: int | None = Field(default=None, ge=1)
    base: float
    per_year: float = 0.0
    source: str


class AgeDependent(Strict):
    unit: str
    adult: ValueSpec
    paediatric: tuple[AgeBand, ...]

    @model_validator(mode="after")
    def _contiguous(self) -> AgeDependent:
        expected = 0
        for band in self.paediatric:
            if band.min_age_days != expected:
                raise ValueError(f"band {band.id!r} starts at {band.min_age_days} days, expected {expected}")
            if band.max_age_days is None:
                break
            expected = band.max_age_days
        return self

    def at(self, age_days: int | None, adult_from_age_days: int, age_years: int | None = None) -> Threshold:
        """The threshold for a patient of this age (unknown or >= adult_from_age_days: the adult value)."""
        band_days = _band_days(age_days, age_years)
        if band_days is None or band_days >= adult_from_age_days:
            return self.adult.threshold()
        years = age_years if age_years is not None else band_days // 365
        for band in self.paediatric:
            if band.max_age_days is None or band_days < band.max_age_days:
                return Threshold(band.base + band.per_year * max(years, 0), self.unit, band.source, band.id)
        return self.adult.threshold()


def _band_days(age_days: int | None, age_years: int | None) -> int | None:
    """The age, in days, that picks the band: whole 365-day years from completed years, else days."""
    if age_years is None:
        return None if age_days is None else max(age_days, 0)
    if age_years >= 1 or age_days is None:
        return max(age_years, 0) * 365
    return min(max(age_days, 0), 364)  # under one completed year, never past the first birthday band


class ThresholdFile(Strict):
    version: str
    adult_from_age_days: int = Field(ge=1)
    adult_from_source: str
    fever_celsius: ValueSpec
    low_flow_max_l_min: ValueSpec
    spo2_assess_below: ValueSpec
    ferritin_hlh_ng_ml: ValueSpec
    crp_rise_factor: ValueSpec
    crp_rise_window_hours: ValueSpec
    neutropenia_anc_10e9_l: ValueSpec
    easix_korell_2022: ValueSpec
    lab_max_age_days: ValueSpec
    long_term_corticosteroid_days: ValueSpec
    borderline_sbp_margin: ValueSpec
    hypotension_sbp: AgeDependent
    tachycardia_hr: AgeDependent
    tachypnoea_rr: AgeDependent

    def source_ids(self) -> list[tuple[str, str]]:
        """(field, source id) of every value, for the loader's cross-check."""
        found = [("adult_from_source", self.adult_from_source)]
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, ValueSpec):
                found.append((name, value.source))
            elif isinstance(value, AgeDependent):
                found.append((f"{name}.adult", value.adult.source))
                found += [(f"{name}.paediatric.{band.id}", band.source) for band in value.paediatric]
        return found


class Thresholds:
    """Read-only view of the thresholds; every attribute and function result is a `Threshold`."""

    def __init__(self, spec: ThresholdFile) -> None:
        self._spec = spec
        self.fever_celsius = spec.fever_celsius.threshold()
        self.low_flow_max_l_min = spec.low_flow_max_l_min.threshold()
        self.spo2_assess_below = spec.spo2_assess_below.threshold()
        self.ferritin_hlh_ng_ml = spec.ferritin_hlh_ng_ml.threshold()
        self.crp_rise_factor = spec.crp_rise_factor.threshold()
        self.crp_rise_window_hours = spec.crp_rise_window_hours.threshold()
        self.neutropenia_anc_10e9_l = spec.neutropenia_anc_10e9_l.threshold()
        self.easix_korell_2022 = spec.easix_korell_2022.threshold()
        self.lab_max_age_days = spec.lab_max_age_days.threshold()
        self.long_term_corticosteroid_days = spec.long_term_corticosteroid_days.threshold()
        self.borderline_sbp_margin = spec.borderline_sbp_margin.threshold()
        self.adult_from_age_days = spec.adult_from_age_days

    def hypotension_sbp(self, age_days: int | None, *, age_years: int | None = None) -> Threshold:
        """SBP below this value (mm[Hg]) is hypotension: ASTCT adult 90, PALS for children."""
        return self._spec.hypotension_sbp.at(age_days, self.adult_from_age_days, age_years)

    def tachycardia_hr(self, age_days: int | None, *, age_years: int | None = None) -> Threshold:
        """Heart rate above this value (/min) is tachycardia: SIRS adult, age-specific for children."""
        return self._spec.tachycardia_hr.at(age_days, self.adult_from_age_days, age_years)

    def tachypnoea_rr(self, age_days: int | None, *, age_years: int | None = None) -> Threshold:
        """Respiratory rate above this value (/min) is tachypnoea: SIRS adult, age-specific for children."""
        return self._spec.tachypnoea_rr.at(age_days, self.adult_from_age_days, age_years)
