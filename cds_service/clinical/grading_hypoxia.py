"""ASTCT 2019 hypoxia: the grade set by the highest level of oxygen support in the window.

Low-flow nasal cannula (<= 6 L/min) or blow-by: 2; nasal cannula above 6 L/min, high-flow nasal cannula,
face mask, non-rebreather or Venturi: 3; positive pressure (CPAP, BiPAP, mechanical ventilation): 4.
A device not recorded, or a nasal cannula without its flow, is a lower bound;
a low SpO2 with no oxygen support recorded cannot be graded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.clinical.windows import (
    Part,
    clock,
    in_window,
    in_window_series,
    measurement_evidence,
    measurement_order,
    num,
    value_text,
)
from cds_service.domain.facts import ASTCT_HYPOXIA_LEVEL, Facts, Measurement, O2Device, O2Support
from cds_service.domain.findings import Evidence
from cds_service.knowledge.base import KnowledgeBase


@dataclass(frozen=True, slots=True)
class HypoxiaResult:
    part: Part
    device: str | None  # O2Device value of the highest support
    flow_l_min: float | None


DEVICE_WORDS: dict[O2Device, str] = {
    O2Device.room_air: "room air",
    O2Device.blow_by: "blow-by oxygen",
    O2Device.nasal_cannula: "nasal cannula",
    O2Device.high_flow_nasal_cannula: "high-flow nasal cannula",
    O2Device.face_mask: "face mask",
    O2Device.non_rebreather: "non-rebreather mask",
    O2Device.venturi: "Venturi mask",
    O2Device.cpap: "CPAP",
    O2Device.bipap: "BiPAP",
    O2Device.mechanical_ventilation: "mechanical ventilation",
    O2Device.unknown: "oxygen, device not recorded",
}
#: Devices whose level does not depend on the flow (a nasal cannula's does).
_FIXED_LEVELS: dict[O2Device, int] = {
    d: level for d, level in ASTCT_HYPOXIA_LEVEL.items() if d is not O2Device.nasal_cannula
}


DEVICE_MISSING = "oxygen delivery device"
FLOW_MISSING = "oxygen flow rate"


def o2_level(support: O2Support, low_flow_max: float) -> tuple[int, tuple[str, ...], str]:
    """ASTCT hypoxia grade of one O2 support record (0 = none), what is missing when it is a lower bound, and why.

    A nasal cannula or an unknown device without a flow is a lower bound: the flow decides grade 2 or 3.
    """
    device, flow = support.device, support.flow_l_min
    if device is O2Device.nasal_cannula:
        return _nasal_cannula_level(flow, low_flow_max)
    if device is O2Device.unknown:
        return _unknown_device_level(flow, low_flow_max)
    return _fixed_level(device, flow)


def _nasal_cannula_level(flow: float | None, low_flow_max: float) -> tuple[int, tuple[str, ...], str]:
    """Low-flow (<= 6 L/min) grade 2; above, grade 3; no flow recorded: at least grade 2."""
    if flow is None:
        above = value_text(low_flow_max)
        step = f"Nasal cannula, flow not recorded (above {above} L/min is grade 3): at least grade 2."
        return 2, (FLOW_MISSING,), step
    if flow <= low_flow_max:
        return 2, (), f"Nasal cannula {value_text(flow)} L/min (low-flow): grade 2."
    return (
        3,
        (),
        (f"Nasal cannula {value_text(flow)} L/min (above {value_text(low_flow_max)} L/min, high-flow): grade 3."),
    )


def _unknown_device_level(flow: float | None, low_flow_max: float) -> tuple[int, tuple[str, ...], str]:
    """Oxygen given by a device not recorded: above the low-flow maximum grade 3, else at least grade 2."""
    if flow is None:
        return 2, (DEVICE_MISSING, FLOW_MISSING), "Oxygen given, device and flow not recorded: at least grade 2."
    if flow <= low_flow_max:
        return 2, (DEVICE_MISSING,), f"Oxygen {value_text(flow)} L/min, device not recorded: at least grade 2."
    return (
        3,
        (),
        (
            f"Oxygen {value_text(flow)} L/min (above {value_text(low_flow_max)} L/min), "
            "device not recorded: grade 3."
        ),
    )


def _fixed_level(device: O2Device, flow: float | None) -> tuple[int, tuple[str, ...], str]:
    """A device whose level does not depend on the flow (room air 0 ... positive pressure 4)."""
    level = _FIXED_LEVELS[device]
    if level == 0:
        return 0, (), "Room air: no hypoxia."
    words = DEVICE_WORDS[device]
    return level, (), f"{words[0].upper()}{words[1:]}{_flow_text(flow)}{_pressure_text(level)}: grade {level}."


def _flow_text(flow: float | None) -> str:
    if flow is None:
        return ""
    return f" {value_text(flow)} L/min"


def _pressure_text(level: int) -> str:
    if level == 4:
        return " (positive pressure)"
    return ""


def lowest_spo2_below(facts: Facts, kb: KnowledgeBase, start: datetime) -> Measurement | None:
    """The lowest SpO2 in the window when it is below the assess-for-hypoxia threshold (92 %)."""
    limit = num(kb.thresholds.spo2_assess_below)
    low = [m for m in in_window_series(facts, "spo2", start) if m.value < limit]
    return min(low, key=_lowest, default=None)


def _lowest(m: Measurement) -> tuple[float, tuple[datetime, float, str, str]]:
    """Lowest value first; ties: the earliest (a total order)."""
    return (m.value, measurement_order(m))


def assess_hypoxia(facts: Facts, kb: KnowledgeBase, start: datetime, hours: int) -> HypoxiaResult:
    """Hypoxia by the highest O2 support in the window; low SpO2 without O2 records is a stated gap."""
    records = _records_in_window(facts, start)
    if not records:
        return _no_o2_records(facts, kb, start, hours)
    low_flow_max = num(kb.thresholds.low_flow_max_l_min)
    graded = [(o2_level(s, low_flow_max), s) for s in records]
    (level, _, step), top = max(graded, key=_rank)
    gaps = [item for (_, lacking, _), _ in graded for item in lacking]
    minimum = level < 4 and bool(gaps)
    part = Part(level, level >= 2, minimum, (step,), _lower_bound_missing(minimum, gaps), (_support_evidence(top),))
    return HypoxiaResult(part, top.device.value, top.flow_l_min)


def _records_in_window(facts: Facts, start: datetime) -> list[O2Support]:
    """The O2 support records in the window, in a stable order: records charted at the same moment give the same
    card whatever order they came in."""
    return sorted((s for s in facts.o2_support if in_window(s.effective, start, facts.now)), key=_record_order)


def _record_order(s: O2Support) -> tuple[datetime, str, str, bool, float]:
    return (s.effective, s.reference or "", s.device.value, s.flow_l_min is not None, s.flow_l_min or 0.0)


def _lower_bound_missing(minimum: bool, gaps: list[str]) -> tuple[str, ...]:
    """What is missing, once each, when the grade is a lower bound (nothing at grade 4: it cannot rise)."""
    if minimum:
        return tuple(dict.fromkeys(gaps))
    return ()


def _support_evidence(top: O2Support) -> Evidence:
    """The highest support: its flow in L/min, or its device when no flow is recorded."""
    label = f"Oxygen support ({DEVICE_WORDS[top.device]})"
    if top.flow_l_min is not None:
        return Evidence(label, top.reference, None, top.flow_l_min, "L/min", top.effective)
    return Evidence(label, top.reference, None, top.device.value, None, top.effective)


def _rank(
    graded: tuple[tuple[int, tuple[str, ...], str], O2Support],
) -> tuple[int, bool, datetime, float, bool, str, str]:
    """Highest grade first; an exact record before a lower bound; then the latest, flow (a stated flow before
    none), reference, device: a total order, so records of one moment rank the same whatever order they came in."""
    (level, lacking, _), support = graded
    flow = support.flow_l_min
    return (
        level, not lacking, support.effective, flow or 0.0, flow is not None, support.reference or "",
        support.device.value,
    )


def _no_o2_records(facts: Facts, kb: KnowledgeBase, start: datetime, hours: int) -> HypoxiaResult:
    spo2 = lowest_spo2_below(facts, kb, start)
    if spo2 is None:
        part = Part(0, None, False, (f"No oxygen support recorded in the last {hours} h.",), (), ())
        return HypoxiaResult(part, None, None)
    limit = value_text(num(kb.thresholds.spo2_assess_below))
    step = (
        f"SpO2 {value_text(spo2.value)} % at {clock(spo2.effective, facts.now)} is below {limit} % "
        "with no oxygen support recorded: hypoxia cannot be graded."
    )
    missing = (f"oxygen support data (SpO2 below {limit} % with no oxygen support recorded)",)
    part = Part(0, None, True, (step,), missing, (measurement_evidence("SpO2", spo2),))
    return HypoxiaResult(part, None, None)
