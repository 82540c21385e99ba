"""The resources a SMART page read with its own token -> Facts: the only function of the timeline that knows
how the service turns FHIR into facts.

    resources (R4 JSON, Bundles unpacked) --record_from_resources--> PatientRecord --extract_facts--> Facts

The same two stages as a hook call, without prefetch or FHIR I/O. No age cut-off on Observations (the
timeline draws up to 60 days; the CRS-status rule cuts its own windows at each time), but Observations no rule
can read (unknown codes, cancelled, entered-in-error) are left unread as usual, and at most `max_observations`
are read, newest first (a bound on CPU per call, as for hook calls).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cds_service.domain.facts import DataGap, Facts
from cds_service.intake.builder import bundle_resources, observation_time, record_from_resources
from cds_service.reading.extract import extract_facts


def facts_from_resources(
    resources: Iterable[Any], kb: Any, now: datetime, *, patient_id: str | None = None, max_observations: int = 5000
) -> Facts:
    """Facts at `now` from raw FHIR resources or Bundles (pure; the intake's liberal reading, as for hooks)."""
    flat = [r for raw in resources for r in bundle_resources(raw)]
    observations = [r for r in flat if r.get("resourceType") == "Observation"]
    others = [r for r in flat if r.get("resourceType") != "Observation"]
    observations.sort(key=_newest_first)
    kept, dropped = observations[:max_observations], len(observations) - max_observations
    record = record_from_resources([*others, *kept], knowledge=kb, now=None, patient_id=patient_id)
    if dropped > 0:
        record.gaps.append(
            DataGap("observations", f"{dropped} older observations beyond the {max_observations} read were not read",
                    "too-large")
        )
    return extract_facts(record, kb, now)


def _newest_first(raw: dict[str, Any]) -> float:
    moment = observation_time(raw)
    return -moment.timestamp() if moment is not None else 0.0
