"""Oxygen support records from the oxygen parts of observations.

Flowsheets often chart the delivery method, the flow and the FiO2 as separate observations with the same
time, or as components of one pulse-oximetry observation. Parts with the same effective time are read together:

- each device named at that time is one O2Support, carrying the highest flow charted at that time;
- no device, a flow above 0 L/min: O2Support(unknown, flow): oxygen given, device not stated;
- no device, no flow, FiO2 above 21 %: O2Support(unknown, None);
- a flow of 0 or an FiO2 of 21 % with no device says nothing about a device: no record (an FiO2 below 21 % never
  gets here: observations.py reports it as unusable, never as room air).

A nasal cannula stays a nasal cannula whatever its flow: the grading applies the knowledge base's low-flow limit
(above 6 L/min is high-flow, ASTCT 2019), so the threshold lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cds_service.domain.facts import O2Device, O2Support
from cds_service.reading.observations import ROOM_AIR_FIO2_PERCENT, O2Part

__all__ = ["ROOM_AIR_FIO2_PERCENT", "o2_support"]


def o2_support(parts: Iterable[O2Part]) -> list[O2Support]:
    """O2Support records from oxygen parts, grouped by effective time (see the module docstring)."""
    by_time: dict[datetime, list[O2Part]] = {}
    for part in parts:
        by_time.setdefault(part.effective, []).append(part)
    records: list[O2Support] = []
    for effective, group in by_time.items():
        records.extend(_at_one_time(effective, group))
    return records


def _at_one_time(effective: datetime, group: list[O2Part]) -> list[O2Support]:
    flows = [(p.flow_l_min, p.reference or "") for p in group if p.flow_l_min is not None]
    flow = max(flows)[0] if flows else None
    devices = sorted({(p.device, p.reference or "") for p in group if p.device is not None})
    if devices:
        first_reference: dict[O2Device, str] = {}
        for device, reference in devices:
            first_reference.setdefault(device, reference)
        return [O2Support(d, flow, effective, r or None) for d, r in first_reference.items()]
    if flow is not None and flow > 0:
        reference = min(r for f, r in flows if f == flow)
        return [O2Support(O2Device.unknown, flow, effective, reference or None)]
    fio2 = [(p.fio2_percent, p.reference or "") for p in group if p.fio2_percent is not None]
    raised = sorted(r for f, r in fio2 if f is not None and f > ROOM_AIR_FIO2_PERCENT)
    if raised:
        return [O2Support(O2Device.unknown, None, effective, raised[0] or None)]
    return []
