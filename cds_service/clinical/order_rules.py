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

from cds_service.clinical.dosing import bsa_m2, latest_weight_kg
from cds_service.clinical.risk import pre_infusion_risk
from cds_service.clinical.windows import (
    drug_ref,
    is_child,
    iso,
    latest_exposure_days,
    measurement_order,
    num,
    tier_at_least,
)
from cds_service.domain.facts import DraftOrder, Facts, Measurement
from cds_service.domain.findings import Category, Evidence, Finding, Severity, Suggestion
from cds_service.domain.findings import SuggestedOrder as Order
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.dosing import capped_mg
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
        if tier_at_least(kb.drugs[drug_id].risk_tier, min_tier):
            findings += _drug_findings(facts, kb, drug_id, orders, baseline_result_hours)
    return findings


def _drug_findings(
    facts: Facts, kb: KnowledgeBase, drug_id: str, orders: list[DraftOrder], baseline_result_hours: int
) -> list[Finding]:
    """`order.risk` for one ordered drug, and `order.pre-infusion-risk` for a high-tier one when computable."""
    drug = kb.drugs[drug_id]
    others = [d for d in facts.draft_orders if d.drug_id != drug_id]
    evidence = tuple(_order_evidence(d) for d in orders)
    findings = [_order_card(facts, kb, drug, others, evidence, baseline_result_hours)]
    if drug.risk_tier == "high":
        pre_infusion = _pre_infusion(facts, kb, drug)
        if pre_infusion is not None:
            findings.append(pre_infusion)
    return findings


def _ordered_drugs(facts: Facts, kb: KnowledgeBase, hook: str) -> dict[str, list[DraftOrder]]:
    """The draft orders under consideration of each catalogue drug, by drug id (sorted by drug, then reference)."""
    by_drug: dict[str, list[DraftOrder]] = {}
    for draft in sorted(_under_consideration(facts, kb, hook), key=_draft_key):
        by_drug.setdefault(_drug_id(draft), []).append(draft)
    return by_drug


def _under_consideration(facts: Facts, kb: KnowledgeBase, hook: str) -> list[DraftOrder]:
    """The catalogue drugs' draft orders; for order-select, only the selected ones when some are selected."""
    drafts = [d for d in facts.draft_orders if _drug_id(d) in kb.drugs]
    if _selecting(facts, hook):
        return [d for d in drafts if d.selected]
    return drafts


def _selecting(facts: Facts, hook: str) -> bool:
    """order-select with some drafts selected: only those are under consideration."""
    return hook == "order-select" and any(d.selected for d in facts.draft_orders)


def _drug_id(draft: DraftOrder) -> str:
    return draft.drug_id or ""


def _draft_key(draft: DraftOrder) -> tuple[str, str]:
    return (_drug_id(draft), draft.reference)


def _order_evidence(draft: DraftOrder) -> Evidence:
    return Evidence("Draft order", draft.reference, _first_code(draft), draft.display or draft.text, None, None)


def _first_code(draft: DraftOrder) -> str | None:
    if draft.codes:
        return draft.codes[0]
    return None


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
    child = is_child(facts, kb)
    bsa = bsa_m2(facts)
    missing_premeds = _missing_premedication(kb, drug, others)
    baseline, resulted = _baseline(facts, kb, drug, others, baseline_result_hours)
    suggestions = [_premed_suggestion(p, child, bsa) for p in missing_premeds]
    if baseline:
        suggestions.append(_baseline_suggestion(baseline))
    return Finding(
        rule_id="order.risk",
        category=Category.order_risk,
        severity=_order_severity(drug, missing_premeds),
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
            "weight_kg": latest_weight_kg(facts),
        },
        drug=drug_ref(drug),
        days_since_exposure=exposed,
        evidence=evidence,
        suggestions=tuple(suggestions),
    )


def _missing_premedication(kb: KnowledgeBase, drug: Drug, others: list[DraftOrder]) -> list[Premedication]:
    """The label's premedication that no other draft order provides."""
    return [p for p in drug.premedication if not any(_is_premedication(kb, p, d) for d in others)]


def _order_severity(drug: Drug, missing_premeds: list[Premedication]) -> Severity:
    """Warning for a high-tier drug or a premedication missing; info otherwise."""
    if drug.risk_tier == "high" or missing_premeds:
        return Severity.warning
    return Severity.info


def _premed_suggestion(premed: Premedication, child: bool, bsa: float | None) -> Suggestion:
    return Suggestion(_premed_label(premed, child, bsa), (_premed_order(premed, child, bsa),))


def _baseline_suggestion(baseline: list[BaselineItem]) -> Suggestion:
    """One suggestion with every baseline order, labelled by their names when that fits in 60 characters."""
    label = "Baseline: " + ", ".join(b.display for b in baseline)
    if len(label) > 60:
        label = f"Baseline monitoring ({len(baseline)} orders)"
    return Suggestion(label, tuple(_baseline_order(b) for b in baseline))


def _short(label: str, limit: int = 60) -> str:
    """A suggestion label of at most `limit` characters, cut at a word with an ellipsis."""
    if len(label) <= limit:
        return label
    return label[: limit - 1].rsplit(" ", 1)[0].rstrip(",;") + "…"


def _premed_plan(premed: Premedication, child: bool, bsa: float | None, missing: bool) -> dict[str, Any]:
    """The premedication as the card states it for this patient: the child's dose by body surface."""
    if _child_dose(premed, child):
        return {"name": premed.display, "dose_text": _child_dose_text(premed, bsa),
                "timing": _child_timing(premed), "missing": missing}
    return {"name": premed.display, "dose_text": premed.dose_text, "timing": premed.timing, "missing": missing}


def _child_dose(premed: Premedication, child: bool) -> bool:
    """Whether the premedication is dosed by body surface: a child, and the label gives a dose per m2."""
    return child and premed.paediatric_mg_per_m2 is not None


def _per_m2(premed: Premedication) -> str:
    return f"{premed.paediatric_mg_per_m2:g} mg/m2, maximum {premed.paediatric_max_mg:g} mg"


def _child_timing(premed: Premedication) -> str | None:
    return premed.paediatric_timing or premed.timing


def _child_dose_text(premed: Premedication, bsa: float | None) -> str:
    """ "paracetamol 450 mg (15 mg/m2, maximum ...; BSA 1.2 m2)", or the dose per m2 when BSA is unknown."""
    dose = _bsa_dose(premed, bsa)
    name = str(premed.display).lower()
    if dose:
        return f"{name} {dose} ({_per_m2(premed)}; BSA {bsa} m2)"
    return f"{name} {_per_m2(premed)} (height and weight not charted)"


def _baseline(
    facts: Facts, kb: KnowledgeBase, drug: Drug, others: list[DraftOrder], hours: int
) -> tuple[list[BaselineItem], list[dict[str, Any]]]:
    """(baseline items still to order, results charted within `hours` that stand in for an order)."""
    if drug.risk_tier != "high":
        return [], []
    since = facts.now - timedelta(hours=hours)
    missing: list[BaselineItem] = []
    resulted: list[dict[str, Any]] = []
    for item in _not_ordered(kb.baseline_monitoring, others):
        result = _recent_result(facts, kb, item, since)
        if result is None:
            missing.append(item)
        else:
            resulted.append(_result_params(item, result))
    return missing, resulted


def _not_ordered(items: Iterable[BaselineItem], others: list[DraftOrder]) -> list[BaselineItem]:
    """The baseline items no other draft order asks for."""
    return [item for item in items if not any(_is_baseline(item, d) for d in others)]


def _result_params(item: BaselineItem, result: Measurement) -> dict[str, Any]:
    return {"label": item.display, "value": result.value, "unit": result.unit, "effective": iso(result.effective)}


def _recent_result(facts: Facts, kb: KnowledgeBase, item: BaselineItem, since: datetime) -> Measurement | None:
    """The latest result of a baseline lab since `since`: the same code, or the concept that code stands for
    (a CRP charted under another CRP code counts)."""
    if not item.code:
        return None
    concept = kb.observation_concept(item.system, item.code)
    found = [m for m in facts.measurements if _result_of(m, item.code, concept) and since <= m.effective <= facts.now]
    return max(found, key=measurement_order, default=None)  # ties: a total order


def _result_of(m: Measurement, code: str, concept: str | None) -> bool:
    """The same code, or the concept that code stands for."""
    if m.code == code:
        return True
    return concept is not None and m.concept == concept


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _is_premedication(kb: KnowledgeBase, premed: Premedication, draft: DraftOrder) -> bool:
    """Same treatment, same code, the premedication's name in the order text, or an interchangeable kind."""
    if premed.treatment_id and draft.treatment_id == premed.treatment_id:
        return True
    if _same_code(premed.system, premed.code, draft) or _names_in(draft, premed.display, premed.treatment_id):
        return True
    return _interchangeable(_treatment_kind(kb, premed.treatment_id), _treatment_kind(kb, draft.treatment_id))


def _treatment_kind(kb: KnowledgeBase, treatment_id: str | None) -> str | None:
    """The kind of a known treatment (antihistamine, antipyretic...), else None."""
    if not treatment_id:
        return None
    treatment = kb.treatments.get(treatment_id)
    if treatment is None:
        return None
    return treatment.kind


def _interchangeable(wanted: str | None, given: str | None) -> bool:
    """The same kind, one where any drug of the kind will do (an H1 antihistamine, an antipyretic)."""
    return wanted in INTERCHANGEABLE_KINDS and wanted == given


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
    if not _child_dose(premed, child):
        return _short(str(premed.label))
    dose = _bsa_dose(premed, bsa)
    if dose:
        return _short(f"{premed.display} {dose} before {premed.for_drug}")
    return _short(str(premed.paediatric_label))


def _bsa_dose(premed: Premedication, bsa: float | None) -> str | None:
    if bsa is None or premed.paediatric_mg_per_m2 is None:
        return None
    return f"{capped_mg(premed.paediatric_mg_per_m2, bsa, premed.paediatric_max_mg):g} mg"


def _premed_order(premed: Premedication, child: bool, bsa: float | None) -> Order:
    """The one-click premedication order: the child's dose by body surface, else the label's dose."""
    if _child_dose(premed, child):
        return _child_premed_order(premed, bsa)
    text = _joined(premed.dose_text, premed.timing) or None
    return Order("MedicationRequest", _short(premed.label), premed.system, premed.code, premed.display, text,
                 premed.source)


def _child_premed_order(premed: Premedication, bsa: float | None) -> Order:
    label = _premed_label(premed, True, bsa)
    text = _joined(_child_order_dose(premed, bsa), _child_timing(premed))
    return Order("MedicationRequest", label, premed.system, premed.code, premed.display, text,
                 premed.paediatric_source or premed.source)


def _child_order_dose(premed: Premedication, bsa: float | None) -> str:
    """ "450 mg (15 mg/m2, maximum ..., 1.2 m2)", or the dose per m2 when height and weight are needed."""
    dose = _bsa_dose(premed, bsa)
    if dose:
        return f"{dose} ({_per_m2(premed)}, {bsa} m2)"
    return f"{_per_m2(premed)}: height and weight needed"


def _joined(*parts: str | None) -> str:
    """The parts given, joined by commas."""
    return ", ".join(part for part in parts if part)


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
