"""The alert burden on a seeded synthetic cohort of patients exposed to CRS drugs (docs/VALIDATION.md "Alert
burden"; `crs-cds validate --burden`).

Each patient is opened six times in one day (08:00 to 18:00, every 2 h) with the chart unchanged between opens,
as on a ward round and its follow-ups. The cohort mixes what a cancer centre sees: CAR-T inpatients in the first
week and outpatients in weeks 2-4, teclistamab step-up inpatients and maintenance outpatients, blinatumomab cycle
1, rituximab and checkpoint-inhibitor infusions; a seeded share has a fever, a low systolic or oxygen. Inpatients
have vital signs every 4 h, outpatients one set at the morning visit.

Measured per patient-day: interruptive cards (warning and critical) with the card memory (the default) and
without it (repeat_hours = 0), and monitoring-gap warnings for outpatients (expected: none).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES_BY_ID
from cds_service.settings import AuthMode, Environment, Settings

OPENS = (8, 10, 12, 14, 16, 18)  # hours of the day the chart is opened
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

#: (kind, drug text, days since the first dose, inpatient, step-up doses given before, share of the cohort)
KINDS: tuple[tuple[str, str, tuple[int, int], bool, int, float], ...] = (
    ("car-t inpatient, week 1", "axicabtagene ciloleucel", (1, 7), True, 1, 0.25),
    ("car-t outpatient, weeks 2-4", "tisagenlecleucel", (8, 28), False, 1, 0.22),
    ("teclistamab step-up, inpatient", "teclistamab", (0, 1), True, 1, 0.09),
    ("teclistamab maintenance, outpatient", "teclistamab", (1, 6), False, 5, 0.13),
    ("blinatumomab cycle 1, inpatient", "blinatumomab", (1, 8), True, 1, 0.09),
    ("rituximab infusion, outpatient", "rituximab", (0, 2), False, 1, 0.13),
    ("checkpoint inhibitor, outpatient", "pembrolizumab", (1, 6), False, 1, 0.09),
)


@dataclass
class Tally:
    patients: int = 0
    interruptive: int = 0
    interruptive_without_memory: int = 0
    outpatients: int = 0
    outpatient_gap_warnings: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [patients, with, without]


@dataclass(frozen=True)
class Patient:
    pid: str
    kind: str
    drug: str
    inpatient: bool
    first_dose_days: int
    doses: int
    fever: float | None
    systolic: float
    on_oxygen: bool


def cohort(count: int = 115, seed: int = 20261201) -> list[Patient]:
    """The seeded cohort: kinds by their share, then fever (20 %), a low systolic (8 %) and oxygen (5 %)."""
    rng = random.Random(seed)  # noqa: S311 - seeded synthetic data, not security
    patients = []
    for index in range(count):
        kind, drug, (low, high), inpatient, doses, _ = rng.choices(KINDS, weights=[k[5] for k in KINDS])[0]
        fever = round(rng.uniform(38.1, 39.4), 1) if rng.random() < 0.20 else None
        systolic = round(rng.uniform(78, 89)) if rng.random() < 0.08 else round(rng.uniform(100, 135))
        patients.append(Patient(f"cohort-{index:03d}", kind, drug, inpatient, rng.randint(low, high), doses, fever,
                                systolic, rng.random() < 0.05))
    return patients


def patient_request(p: Patient, day: datetime, at_hour: int) -> dict[str, Any]:
    """The patient-view request of one open: the chart as it stands at `at_hour` of `day`."""
    now = day + timedelta(hours=at_hour)
    subject = {"reference": f"Patient/{p.pid}"}

    def when(moment: datetime) -> str:
        return moment.isoformat()

    first = day + timedelta(hours=9) - timedelta(days=p.first_dose_days)
    gaps = [0, 3, 3, 7, 7, 7][: p.doses] if p.doses > 1 else [0]
    times, moment = [], first
    for gap in gaps:
        moment += timedelta(days=gap)
        times.append(moment)
    if p.doses > 1:  # maintenance: the last dose is `first_dose_days` ago
        shift = (day + timedelta(hours=9) - timedelta(days=p.first_dose_days)) - times[-1]
        times = [t + shift for t in times]
    administrations = [
        {"resourceType": "MedicationAdministration", "id": f"{p.pid}-dose-{i}", "status": "completed",
         "subject": subject, "medicationCodeableConcept": {"text": p.drug}, "effectiveDateTime": when(t)}
        for i, t in enumerate(times) if t <= now
    ]
    vitals = []
    hours = [h for h in range(0, at_hour + 1, 4)] if p.inpatient else [8]
    for h in (h for h in hours if h <= at_hour):
        t = day + timedelta(hours=h)
        vitals.append(_vital(p, "8310-5", p.fever or 36.9, "Cel", t, f"t{h}"))
        vitals.append(_vital(p, "8480-6", p.systolic, "mm[Hg]", t, f"s{h}"))
        if p.on_oxygen:
            vitals.append(_vital(p, "3151-8", 3, "L/min", t, f"o{h}"))
    encounters = []
    if p.inpatient:
        encounters.append({"resourceType": "Encounter", "id": f"{p.pid}-stay", "status": "in-progress",
                           "subject": subject, "class": {"code": "IMP"},
                           "period": {"start": when(first - timedelta(days=1))}})
    return {
        "hook": "patient-view",
        "hookInstance": f"{p.pid}-{at_hour}",
        "context": {"userId": "Practitioner/ward", "patientId": p.pid},
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": p.pid, "birthDate": "1962-04-09"},
            "medicationAdministrations": _bundle(administrations),
            "vitalSigns": _bundle(vitals),
            "encounters": _bundle(encounters),
            **{key: _bundle([]) for key in ("medicationRequests", "medicationStatements", "medicationDispenses",
                                            "procedures", "conditions", "labs")},
        },
    }


def _vital(p: Patient, code: str, value: float, unit: str, t: datetime, suffix: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": f"{p.pid}-{suffix}", "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code}]}, "subject": {"reference": f"Patient/{p.pid}"},
        "effectiveDateTime": t.isoformat(), "valueQuantity": {"value": value, "unit": unit, "system": UCUM,
                                                              "code": unit},
    }


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


async def measure(day: datetime, count: int = 115, seed: int = 20261201) -> Tally:
    """Run the cohort's day twice (with and without the card memory) and count the cards."""
    tally = Tally()
    patients = cohort(count, seed)
    with_memory = [x async for x in _interruptive(patients, day, repeat_hours=12)]
    without = [x async for x in _interruptive(patients, day, repeat_hours=0)]
    for p, (interrupts, gaps), (plain, _) in zip(patients, with_memory, without, strict=True):
        tally.patients += 1
        tally.interruptive += interrupts
        tally.interruptive_without_memory += plain
        if not p.inpatient:
            tally.outpatients += 1
            tally.outpatient_gap_warnings += gaps
        row = tally.by_kind.setdefault(p.kind, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + 1, row[1] + interrupts, row[2] + plain
    return tally


async def _interruptive(patients: list[Patient], day: datetime, *, repeat_hours: int) -> AsyncIterator[tuple[int, int]]:
    """Per patient: (interruptive cards over the six opens, monitoring-gap warnings)."""
    from cds_service.pipeline import answer_hook
    from cds_service.runtime import build_runtime
    from cds_service.store import SqlStore
    from cds_service.tooling.offline import CLI_CALLER

    clock = _Clock(day)
    with tempfile.TemporaryDirectory(prefix="crs-cds-burden-") as folder:
        url = f"sqlite:///{Path(folder) / 'store.sqlite3'}"
        store = SqlStore(url)
        store.create_schema()
        store.dispose()
        settings = Settings(environment=Environment.development, auth_mode=AuthMode.disabled, database_url=url,
                            repeat_hours=repeat_hours, log_format="text")
        runtime = build_runtime(settings, clock=clock)
        try:
            for p in patients:
                interrupts = gaps = 0
                for hour in OPENS:
                    clock.moment = day + timedelta(hours=hour)
                    request = HookRequest.model_validate(patient_request(p, day, hour))
                    response = await answer_hook(request, SERVICES_BY_ID["crs-patient-view"], runtime, CLI_CALLER)
                    for card in response.cards:
                        if card.indicator.value in ("warning", "critical"):
                            interrupts += 1
                            rule = (card.extension or {}).get("org.crs-cds.finding", {}).get("ruleId")
                            gaps += rule == "crs.monitoring-gap"
                yield interrupts, gaps
        finally:
            await runtime.aclose()


class _Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def burden_markdown(tally: Tally, day: datetime) -> str:
    """The "Alert burden" section of docs/VALIDATION.md."""
    per_day = tally.interruptive / tally.patients if tally.patients else 0.0
    plain = tally.interruptive_without_memory / tally.patients if tally.patients else 0.0
    rows = [
        "## Alert burden",
        "",
        f"A seeded synthetic cohort of {tally.patients} patients exposed to CRS drugs "
        f"(`cds_service/tooling/burden.py`), each chart opened six times on {day.date().isoformat()} "
        "(08:00-18:00, every 2 h) with no change between opens.",
        "",
        "| | interruptive cards per exposed patient-day |",
        "|---|---|",
        f"| with the card memory (default: repeats within 12 h are info) | **{per_day:.2f}** |",
        f"| without it (`CRS_CDS_REPEAT_HOURS=0`: every open interrupts) | {plain:.2f} |",
        "",
        f"Monitoring-gap warnings for the {tally.outpatients} outpatients (no inpatient stay, outside the drugs' "
        f"post-dose periods): **{tally.outpatient_gap_warnings}**.",
        "",
        "| patients | kind | interruptive cards per patient-day (memory / none) |",
        "|---|---|---|",
    ]
    for kind, (n, with_memory, without) in sorted(tally.by_kind.items()):
        rows.append(f"| {n} | {kind} | {with_memory / n:.2f} / {without / n:.2f} |")
    return "\n".join([*rows, ""])
