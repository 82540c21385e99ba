"""What an active-CRS card offers to order: tocilizumab at the dose computed from the charted weight, blood
cultures and empiric antibiotics for a febrile patient who needs them.

Tocilizumab (cards/dosing.yaml: ASCO 2021 and the label's CRS table) is offered after a CAR-T or TCR-T product
from ASTCT grade 2, at 8 mg/kg (maximum 800 mg), 12 mg/kg under 30 kg, when:

    a weight is charted (else: "weight not charted", no order)        the patient is 2 years or older (label)
    fewer than 3 doses were given in the last 24 h and 4 in total     the last dose was at least 8 h ago

The reason it is not offered is a param the card shows. Cultures and antibiotics are offered to a febrile
patient at grade 2 or more, or with neutropenia at any grade (ASCO 2021).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cds_service.clinical.dosing import latest_weight_kg
from cds_service.clinical.windows import iso
from cds_service.domain.age import years_at
from cds_service.domain.concepts import LOINC, RXNORM
from cds_service.domain.facts import Facts
from cds_service.domain.findings import SuggestedOrder, Suggestion
from cds_service.knowledge.dosing import TocilizumabRule

CELLULAR_CLASSES = frozenset({"car-t", "tcr-t"})
BLOOD_CULTURE_LOINC = "600-7"  # Bacteria identified in Blood by Culture (HL7 NHSN dQM IG example)


@dataclass(frozen=True, slots=True)
class TocilizumabPlan:
    status: str  # "offer" | "no-weight" | "under-label-age" | "limit-24h" | "limit-total" | "too-soon" |
    # "not-indicated"
    dose_mg: float | None
    mg_per_kg: float | None
    weight_kg: float | None
    given_24h: int
    given_total: int
    next_at: datetime | None  # "too-soon": when the minimum interval has passed

    def params(self) -> dict[str, object]:
        return {
            "status": self.status,
            "dose_mg": self.dose_mg,
            "mg_per_kg": self.mg_per_kg,
            "weight_kg": self.weight_kg,
            "given_24h": self.given_24h,
            "given_total": self.given_total,
            "next_at": iso(self.next_at),
        }


def tocilizumab_plan(
    facts: Facts, rule: TocilizumabRule, *, grade: int | None, drug_class: str, since: datetime
) -> TocilizumabPlan:
    """Whether tocilizumab can be offered now, at which dose, and why not (see the module docstring)."""
    doses = _doses_since(facts, since)
    given_24h = sum(1 for t in doses if t >= facts.now - timedelta(hours=24))
    weight = latest_weight_kg(facts)
    dose, per_kg = _dose(rule, weight)
    status, next_at = _status(facts, rule, grade, drug_class, doses, given_24h, weight)
    return TocilizumabPlan(status, dose, per_kg, weight, given_24h, len(doses), next_at)


def _doses_since(facts: Facts, since: datetime) -> list[datetime]:
    """When tocilizumab was given between `since` and now, oldest first."""
    times = [t.time for t in facts.treatments if t.treatment_id == "tocilizumab" and t.time is not None]
    return sorted(t for t in times if since <= t <= facts.now)


def _dose(rule: TocilizumabRule, weight: float | None) -> tuple[float | None, float | None]:
    """(dose in mg, mg/kg) for the charted weight; (None, None) without one."""
    if weight is None:
        return None, None
    return rule.dose_mg(weight)


def _status(
    facts: Facts,
    rule: TocilizumabRule,
    grade: int | None,
    drug_class: str,
    doses: list[datetime],
    given_24h: int,
    weight: float | None,
) -> tuple[str, datetime | None]:
    """The first rule of the module docstring's table that stops the offer, else "offer"."""
    if not _indicated(grade, drug_class):
        return "not-indicated", None
    limit = _dose_limit(rule, len(doses), given_24h)
    if limit is not None:
        return limit, None
    next_at = _next_dose_at(facts.now, rule, doses)
    if next_at is not None:
        return "too-soon", next_at
    if _under_label_age(facts, rule):
        return "under-label-age", None
    if weight is None:
        return "no-weight", None
    return "offer", None


def _indicated(grade: int | None, drug_class: str) -> bool:
    """ASTCT grade 2 or more after a CAR-T or TCR-T product."""
    return (grade or 0) >= 2 and drug_class in CELLULAR_CLASSES


def _dose_limit(rule: TocilizumabRule, given_total: int, given_24h: int) -> str | None:
    """"limit-total" or "limit-24h" when that many doses were given, else None."""
    if given_total >= rule.max_doses_total:
        return "limit-total"
    if given_24h >= rule.max_doses_24h:
        return "limit-24h"
    return None


def _next_dose_at(now: datetime, rule: TocilizumabRule, doses: list[datetime]) -> datetime | None:
    """When the minimum interval after the last dose ends, while it has not (else None)."""
    if not doses:
        return None
    interval = timedelta(hours=rule.min_interval_hours)
    if now - doses[-1] < interval:
        return doses[-1] + interval
    return None


def _under_label_age(facts: Facts, rule: TocilizumabRule) -> bool:
    """Younger than the label's minimum age (2 years); an unknown age is not."""
    years = years_at(facts.birth_date, facts.now)
    return years is not None and years < rule.label_from_age_years


def tocilizumab_suggestion(plan: TocilizumabPlan, rule: TocilizumabRule) -> Suggestion | None:
    """The one-click tocilizumab order, only when the plan offers it."""
    if plan.status != "offer" or plan.dose_mg is None or plan.mg_per_kg is None:
        return None
    dose = f"{plan.dose_mg:g} mg"
    order = SuggestedOrder(
        resource_type="MedicationRequest",
        label=f"Tocilizumab {dose} IV over 1 h",
        system=RXNORM,
        code=rule.rxnorm,
        display="tocilizumab",
        text=(
            f"{dose} IV over 1 h ({plan.mg_per_kg:g} mg/kg for {plan.weight_kg:g} kg, maximum {rule.max_mg:g} mg); "
            f"may repeat after at least {rule.min_interval_hours} h; at most {rule.max_doses_24h} doses in 24 h "
            f"and {rule.max_doses_total} in total"
        ),
        source=rule.sources[0],
    )
    return Suggestion(label=order.label, orders=(order,))


def infection_workup_due(*, fever: bool, grade: int | None, neutropenic: bool) -> bool:
    """Blood cultures and empiric antibiotics: a febrile patient at grade 2 or more, or neutropenic (ASCO 2021)."""
    if not fever:
        return False
    return (grade or 0) >= 2 or neutropenic


def infection_suggestions() -> tuple[Suggestion, ...]:
    """Blood cultures (LOINC 600-7) and an empiric antibiotic draft for the prescriber to complete."""
    cultures = SuggestedOrder(
        resource_type="ServiceRequest",
        label="Blood cultures (peripheral and line)",
        system=LOINC,
        code=BLOOD_CULTURE_LOINC,
        display="Bacteria identified in Blood by Culture",
        text="Blood cultures from a peripheral vein and from each line lumen, before antibiotics",
        source="santomasso-2021",
    )
    antibiotic = SuggestedOrder(
        resource_type="MedicationRequest",
        label="Empiric antibiotics per local protocol",
        system=None,
        code=None,
        display="Empiric broad-spectrum antibiotic (choose per the local febrile-neutropenia protocol)",
        text="Start promptly after blood cultures; agent and dose per the local protocol",
        source="santomasso-2021",
    )
    return (Suggestion(cultures.label, (cultures,)), Suggestion(antibiotic.label, (antibiotic,)))
