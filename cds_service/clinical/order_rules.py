"""Order-time rules (order-select, order-sign): one card per ordered drug, and the pre-infusion EASIX.

Per catalogue drug among the draft orders (for order-select, only the selected drafts when selections are
given), when its tier reaches the minimum alert tier: `order.risk`, one finding with the drug's risk and
boxed warning, the label's monitoring, and what is missing from the orders: the label's premedication (with a
one-click order each, its dose by body surface for a child when the label gives one) and, for a high-tier drug,
the baseline monitoring, except baseline labs resulted within `baseline_result_hours` (the card shows the
result instead). For a high-tier drug, `order.pre-infusion-risk` with EASIX and m-EASIX when computable.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.dosing import bsa_m2
from cds_service.clinical.risk import pre_infusion_risk
from cds_service.clinical.windows import drug_ref, iso, latest_exposure_days, measurement_order, num, tier_at_least
from cds_service.domain.age import age_days_at
from cds_service.domain.facts import DraftOrder, Facts, Measurement
from cds_service.domain.findings import Category, Evidence, Finding, Severity, Suggestion
from cds_service.domain.findings import SuggestedOrder as Order
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.schema import BaselineItem, Drug, Premedication
from cds_service.knowledge.text import normalise

#: Premedication kinds where any drug of the kind will do (an H1 antihistamine, an antipyretic).
INTERCHANGEABLE_KINDS = frozenset({"antihistamine", "antipyretic"})


def order_findings(
    facts: Facts, kb: KnowledgeBase, *, hook: str, min_tier: str, baseline_result_hours: int = 72
) -> list[Finding]:
    """Findings for every catalogue drug ordered in the draft orders under consideration."""
    findings: list[Finding] = []
    for drug_id, orders in _ordered_drugs(facts, kb, hook).items():
        drug = kb.drugs[drug_id]
        if not tier_at_least(drug.risk_tier, min_tier):
            continue
        others = [d for d in facts.draft_orders if d.drug_id != drug_id]
        evidence = tuple(_order_evidence(d) for d in orders)
        findings.append(_order_card(facts, kb, drug, others, evidence, baseline_result_hours))
        if drug.risk_tier == "high":
            findings += [f for f in (_pre_infusion(facts, kb, drug),) if f is not None]
    return findings


def _ordered_drugs(facts: Facts, kb: KnowledgeBase, hook: str) -> dict[str, list[DraftOrder]]:
    drafts = [d for d in facts.draft_orders if d.drug_id is not None and d.drug_id in kb.drugs]
    if hook == "order-select" and any(d.selected for d in facts.draft_orders):
        drafts = [d for d in drafts if d.selected]
    by_drug: dict[str, list[DraftOrder]] = {}
    for draft in sorted(drafts, key=lambda d: (d.drug_id or "", d.reference)):
        by_drug.setdefault(draft.drug_id or "", []).append(draft)
    return by_drug


def _order_evidence(draft: DraftOrder) -> Evidence:
    return Evidence(
        "Draft order", draft.reference, draft.codes[0] if draft.codes else None, draft.display or draft.text, None, None
    )


def _order_card(
    facts: Facts,
    kb: KnowledgeBase,
    drug: Drug,
    others: list[DraftOrder],
    evidence: tuple[Evidence, ...],
    baseline_result_hours: int,
) -> Finding:
    """`order.risk`: the drug's risk and label requirements, and what is missing from the orders."""
    exposed = latest_exposure_days(facts, drug.id)
    child = _child(facts, kb)
    bsa = bsa_m2(facts)
    missing_premeds = [p for p in drug.premedication if not any(_is_premedication(kb, p, d) for d in others)]
    baseline, resulted = _baseline(facts, kb, drug, others, baseline_result_hours)
    suggestions = [Suggestion(_premed_label(p, child, bsa), (_premed_order(p, child, bsa),)) for p in missing_premeds]
    if baseline:
        label = "Baseline: " + ", ".join(b.display for b in baseline)
        if len(label) > 60:
            label = f"Baseline monitoring ({len(baseline)} orders)"
        suggestions.append(Suggestion(label, tuple(_baseline_order(b) for b in baseline)))
    return Finding(
        rule_id="order.risk",
        category=Category.order_risk,
        severity=Severity.warning if drug.risk_tier == "high" or missing_premeds else Severity.info,
        template="order-risk",
        params={
            "drug_name": drug.generic_name,
            "tier": drug.risk_tier,
            "boxed_warning": bool(drug.boxed_warning_crs),
            "boxed_neurotoxicity": bool(drug.boxed_warning_neurotoxicity),
            "already_exposed_days": exposed,
            "premedication": [_premed_plan(p, child, bsa, p in missing_premeds) for p in drug.premedication],
            "missing_premedication": [_premed_label(p, child, bsa) for p in missing_premeds],
            "missing_baseline": [b.display for b in baseline],
            "baseline_results": resulted,
            "paediatric": child,
            "bsa_m2": bsa,
        },
        drug=drug_ref(drug),
        days_since_exposure=exposed,
        evidence=evidence,
        suggestions=tuple(suggestions),
    )


def _short(label: str, limit: int = 60) -> str:
    """A suggestion label of at most `limit` characters, cut at a word with an ellipsis."""
    if len(label) <= limit:
        return label
    return label[: limit - 1].rsplit(" ", 1)[0].rstrip(",;") + "…"


def _premed_plan(premed: Premedication, child: bool, bsa: float | None, missing: bool) -> dict[str, Any]:
    """The premedication as the card states it for this patient: the child's dose by body surface."""
    if child and premed.paediatric_mg_per_m2 is not None:
        dose = _bsa_dose(premed, bsa)
        per_m2 = f"{premed.paediatric_mg_per_m2:g} mg/m2, maximum {premed.paediatric_max_mg:g} mg"
        name = str(premed.display).lower()
        if dose:
            dose_text = f"{name} {dose} ({per_m2}; BSA {bsa} m2)"
        else:
            dose_text = f"{name} {per_m2} (height and weight not charted)"
        return {"name": premed.display, "dose_text": dose_text, "timing": premed.paediatric_timing or premed.timing,
                "missing": missing}
    return {"name": premed.display, "dose_text": premed.dose_text, "timing": premed.timing, "missing": missing}


def _child(facts: Facts, kb: KnowledgeBase) -> bool:
    days = age_days_at(facts.birth_date, facts.now)
    return days is not None and days < kb.thresholds.adult_from_age_days


def _baseline(
    facts: Facts, kb: KnowledgeBase, drug: Drug, others: list[DraftOrder], hours: int
) -> tuple[list[BaselineItem], list[dict[str, Any]]]:
    """(baseline items still to order, results charted within `hours` that stand in for an order)."""
    if drug.risk_tier != "high":
        return [], []
    since = facts.now - timedelta(hours=hours)
    missing: list[BaselineItem] = []
    resulted: list[dict[str, Any]] = []
    for item in kb.baseline_monitoring:
        if any(_is_baseline(item, d) for d in others):
            continue
        result = _recent_result(facts, kb, item, since)
        if result is None:
            missing.append(item)
        else:
            resulted.append({"label": item.display, "value": result.value, "unit": result.unit,
                             "effective": iso(result.effective)})
    return missing, resulted


def _recent_result(facts: Facts, kb: KnowledgeBase, item: BaselineItem, since: datetime) -> Measurement | None:
    """The latest result of a baseline lab since `since`: the same code, or the concept that code stands for
    (a CRP charted under another CRP code counts)."""
    if not item.code:
        return None
    concept = kb.observation_concept(item.system, item.code)
    found = [
        m for m in facts.measurements
        if (m.code == item.code or (concept is not None and m.concept == concept)) and since <= m.effective <= facts.now
    ]
    return max(found, key=measurement_order) if found else None  # ties: a total order


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _is_premedication(kb: KnowledgeBase, premed: Premedication, draft: DraftOrder) -> bool:
    """Same treatment, same code, the premedication's name in the order text, or an interchangeable kind."""
    if premed.treatment_id and draft.treatment_id == premed.treatment_id:
        return True
    if _same_code(premed.system, premed.code, draft) or _names_in(draft, premed.display, premed.treatment_id):
        return True
    wanted = kb.treatments.get(premed.treatment_id) if premed.treatment_id else None
    given = kb.treatments.get(draft.treatment_id) if draft.treatment_id else None
    return bool(wanted and given and wanted.kind in INTERCHANGEABLE_KINDS and wanted.kind == given.kind)


def _is_baseline(item: BaselineItem, draft: DraftOrder) -> bool:
    return _same_code(item.system, item.code, draft) or _names_in(draft, item.display, item.label)


def _same_code(system: str | None, code: str | None, draft: DraftOrder) -> bool:
    if not code:
        return False
    if system:
        return f"{system}|{code}" in draft.codes
    return any(c.rpartition("|")[2] == code for c in draft.codes)


def _names_in(draft: DraftOrder, *names: str | None) -> bool:
    """Whether one of the names appears, as whole words, in the draft order's text."""
    text = f" {normalise(draft.text)} "
    return any(f" {phrase} " in text for name in names if name and (phrase := normalise(name)))


def _premed_label(premed: Premedication, child: bool, bsa: float | None) -> str:
    """The one-click label (at most 60 characters): the child's dose by body surface where the label gives one."""
    if child and premed.paediatric_mg_per_m2 is not None:
        dose = _bsa_dose(premed, bsa)
        label = f"{premed.display} {dose} before {premed.for_drug}" if dose else premed.paediatric_label
        return _short(str(label))
    return _short(str(premed.label))


def _bsa_dose(premed: Premedication, bsa: float | None) -> str | None:
    if bsa is None or premed.paediatric_mg_per_m2 is None:
        return None
    mg = premed.paediatric_mg_per_m2 * bsa
    if premed.paediatric_max_mg is not None:
        mg = min(mg, premed.paediatric_max_mg)
    return f"{round(mg, 1):g} mg"


def _premed_order(premed: Premedication, child: bool, bsa: float | None) -> Order:
    if child and premed.paediatric_mg_per_m2 is not None:
        dose = _bsa_dose(premed, bsa)
        per_m2 = f"{premed.paediatric_mg_per_m2:g} mg/m2, maximum {premed.paediatric_max_mg:g} mg"
        dose_text = f"{dose} ({per_m2}, {bsa} m2)" if dose else f"{per_m2}: height and weight needed"
        child_text = ", ".join(t for t in (dose_text, premed.paediatric_timing or premed.timing) if t)
        label = _premed_label(premed, child, bsa)
        return Order("MedicationRequest", label, premed.system, premed.code, premed.display, child_text,
                     premed.paediatric_source or premed.source)
    text = ", ".join(t for t in (premed.dose_text, premed.timing) if t) or None
    return Order("MedicationRequest", _short(premed.label), premed.system, premed.code, premed.display, text,
                 premed.source)


def _baseline_order(item: BaselineItem) -> Order:
    return Order(item.resource_type, item.label, item.system, item.code, item.display, None, item.source)


_LAB_NAMES = {"ldh": "LDH", "creatinine": "creatinine", "platelets": "platelet count", "crp": "CRP"}


def _pre_infusion(facts: Facts, kb: KnowledgeBase, drug: Drug) -> Finding | None:
    """EASIX / m-EASIX when at least one is computable; otherwise nothing (the baseline suggestions ask for labs)."""
    risk = pre_infusion_risk(facts, kb)
    if risk.easix is None and risk.m_easix is None:
        return None
    return Finding(
        rule_id="order.pre-infusion-risk",
        category=Category.pre_infusion_risk,
        severity=Severity.info,
        template="pre-infusion-risk",
        params={
            "drug_name": drug.generic_name,
            "easix": risk.easix,
            "m_easix": risk.m_easix,
            "reference_cutoff": num(kb.thresholds.easix_korell_2022),
            "labs": risk.labs,
            "missing_labs": list(risk.missing_labs),
        },
        drug=drug_ref(drug),
        evidence=risk.evidence,
        missing=tuple(
            f"{_LAB_NAMES.get(lab, lab)} in the last {num(kb.thresholds.lab_max_age_days):g} days"
            for lab in risk.missing_labs
        ),
    )
