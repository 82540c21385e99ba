"""Order-time rules (order-select, order-sign): risk, missing premedication or baseline monitoring, EASIX.

Per catalogue drug among the draft orders (for order-select, only the selected drafts when selections are
given): `order.risk` when its tier reaches the minimum alert tier; for a high-tier drug, `order.premedication`
when a label premedication or a baseline monitoring order is absent from the other draft orders, and
`order.pre-infusion-risk` with EASIX and m-EASIX.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cds_service.clinical.risk import pre_infusion_risk
from cds_service.clinical.windows import drug_ref, latest_exposure_days, num, tier_at_least
from cds_service.domain.facts import DraftOrder, Facts
from cds_service.domain.findings import Category, Evidence, Finding, Severity, Suggestion
from cds_service.domain.findings import SuggestedOrder as Order
from cds_service.knowledge.text import normalise

#: Premedication kinds where any drug of the kind will do (an H1 antihistamine, an antipyretic).
INTERCHANGEABLE_KINDS = frozenset({"antihistamine", "antipyretic"})


def order_findings(facts: Facts, kb: Any, *, hook: str, min_tier: str) -> list[Finding]:
    """Findings for every catalogue drug ordered in the draft orders under consideration."""
    findings: list[Finding] = []
    for drug_id, orders in _ordered_drugs(facts, kb, hook).items():
        drug = kb.drugs[drug_id]
        others = [d for d in facts.draft_orders if d.drug_id != drug_id]
        evidence = tuple(_order_evidence(d) for d in orders)
        if tier_at_least(drug.risk_tier, min_tier):
            findings.append(_risk(facts, drug, evidence))
        if drug.risk_tier == "high":
            findings += [f for f in (_premedication(kb, drug, others, evidence),) if f is not None]
            findings += [f for f in (_pre_infusion(facts, kb, drug),) if f is not None]
    return findings


def _ordered_drugs(facts: Facts, kb: Any, hook: str) -> dict[str, list[DraftOrder]]:
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


def _risk(facts: Facts, drug: Any, evidence: tuple[Evidence, ...]) -> Finding:
    exposed = latest_exposure_days(facts, drug.id)
    return Finding(
        rule_id="order.risk",
        category=Category.order_risk,
        severity=Severity.warning if drug.risk_tier == "high" else Severity.info,
        template="order-risk",
        params={
            "drug_name": drug.generic_name,
            "tier": drug.risk_tier,
            "boxed_warning": bool(drug.boxed_warning_crs),
            "already_exposed_days": exposed,
        },
        drug=drug_ref(drug),
        days_since_exposure=exposed,
        evidence=evidence,
    )


def _premedication(kb: Any, drug: Any, others: list[DraftOrder], evidence: tuple[Evidence, ...]) -> Finding | None:
    missing_premeds = [p for p in drug.premedication if not any(_is_premedication(kb, p, d) for d in others)]
    missing_baseline = [b for b in kb.baseline_monitoring if not any(_is_baseline(b, d) for d in others)]
    if not missing_premeds and not missing_baseline:
        return None
    suggestions = []
    if missing_premeds:
        orders = tuple(_premed_order(p) for p in missing_premeds)
        suggestions.append(Suggestion(f"Add premedication: {_names(p.display for p in missing_premeds)}", orders))
    if missing_baseline:
        orders = tuple(_baseline_order(b) for b in missing_baseline)
        label = f"Add baseline monitoring: {_names(b.label for b in missing_baseline)}"
        suggestions.append(Suggestion(label, orders))
    return Finding(
        rule_id="order.premedication",
        category=Category.premedication,
        severity=Severity.warning,
        template="premedication",
        params={
            "drug_name": drug.generic_name,
            "missing_premedication": [p.label for p in missing_premeds],
            "missing_baseline": [b.label for b in missing_baseline],
        },
        drug=drug_ref(drug),
        evidence=evidence,
        suggestions=tuple(suggestions),
    )


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _is_premedication(kb: Any, premed: Any, draft: DraftOrder) -> bool:
    """Same treatment, same code, the premedication's name in the order text, or an interchangeable kind."""
    if premed.treatment_id and draft.treatment_id == premed.treatment_id:
        return True
    if _same_code(premed.system, premed.code, draft) or _names_in(draft, premed.display, premed.treatment_id):
        return True
    treatments = getattr(kb, "treatments", {})
    wanted = treatments.get(premed.treatment_id) if premed.treatment_id else None
    given = treatments.get(draft.treatment_id) if draft.treatment_id else None
    return bool(wanted and given and wanted.kind in INTERCHANGEABLE_KINDS and wanted.kind == given.kind)


def _is_baseline(item: Any, draft: DraftOrder) -> bool:
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


def _premed_order(premed: Any) -> Order:
    text = ", ".join(t for t in (premed.dose_text, premed.timing) if t) or None
    return Order("MedicationRequest", premed.label, premed.system, premed.code, premed.display, text, premed.source)


def _baseline_order(item: Any) -> Order:
    return Order(item.resource_type, item.label, item.system, item.code, item.display, None, item.source)


_LAB_NAMES = {"ldh": "LDH", "creatinine": "creatinine", "platelets": "platelet count", "crp": "CRP"}


def _pre_infusion(facts: Facts, kb: Any, drug: Any) -> Finding | None:
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
