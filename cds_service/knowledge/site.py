"""The optional site extension file: local codes, per-drug window overrides and the order-alert tier.

    version: "1"
    site: "Example Hospital"
    min_order_alert_tier: high            # optional; else the service setting applies
    drugs:
      - drug_id: tisagenlecleucel
        codes: [{system: "urn:oid:1.2.3.4.5.6.7.8", code: "KYM-250"}]
        exposure_window_days: 35
    observations:  [{concept: temperature, codes: [...]}]
    vasopressors:  [{vasopressor_id: norepinephrine, codes: [...]}]
    treatments:    [{treatment_id: tocilizumab, codes: [...]}]
    o2_devices:    [{device: nasal-cannula, codes: [...]}]

Site codes need no bibliography source: the site file is the source ("site-configuration").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import Field

from cds_service.domain.facts import O2Device
from cds_service.knowledge.codes import SystemUri
from cds_service.knowledge.periods import MonitoringPeriod
from cds_service.knowledge.schema import ObservationConceptName, RiskTierName, Strict


class LocalCode(Strict):
    system: SystemUri = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = None


class SiteDrug(Strict):
    drug_id: str
    codes: tuple[LocalCode, ...] = ()
    exposure_window_days: int | None = Field(default=None, ge=1, le=365)


class SiteObservation(Strict):
    concept: ObservationConceptName
    codes: tuple[LocalCode, ...]


class SiteVasopressor(Strict):
    vasopressor_id: str
    codes: tuple[LocalCode, ...]


class SiteTreatment(Strict):
    treatment_id: str
    codes: tuple[LocalCode, ...]


class SiteO2Device(Strict):
    device: O2Device
    codes: tuple[LocalCode, ...]


class SiteFile(Strict):
    version: str
    site: str | None = None
    min_order_alert_tier: RiskTierName | None = None
    drugs: tuple[SiteDrug, ...] = ()
    observations: tuple[SiteObservation, ...] = ()
    vasopressors: tuple[SiteVasopressor, ...] = ()
    treatments: tuple[SiteTreatment, ...] = ()
    o2_devices: tuple[SiteO2Device, ...] = ()
    monitoring_periods: tuple[MonitoringPeriod, ...] = ()  # replace the periods of these drugs


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """What the site file changed; empty when no site file is configured."""

    name: str | None = None
    version: str | None = None
    min_order_alert_tier: str | None = None  # "high" | "moderate" | "low"; None: use Settings
    window_overrides: Mapping[str, int] = field(default_factory=dict)  # drug id -> days
