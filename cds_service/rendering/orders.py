"""Summary and detail of the order-time cards: order-risk (one per drug) and pre-infusion-risk.

Each function takes the finding's `CardText` and returns (summary, detail Markdown). Drug guidance (boxed
warning,
premedication, monitoring, tocilizumab availability, baseline monitoring) comes from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.rendering.bedside import Bedside
from cds_service.rendering.knowledge_view import LOCAL_PROTOCOL_SOURCE
from cds_service.rendering.markdown import escape, join_blocks, number, table, utc_text
from cds_service.rendering.text import CardText


def order_risk(text: CardText) -> tuple[str, str]:
    """One card per ordered drug: risk, boxed warning, the label's monitoring, and what the orders lack."""
    p, drug = text.params, text.drug
    tier = str(p.get("tier") or (text.finding.drug.risk_tier if text.finding.drug else "low"))
    boxed, neuro = bool(p.get("boxed_warning")), bool(p.get("boxed_neurotoxicity"))
    variant = _variant(tier, boxed, neuro)
    summary = text.summary(variant, {"requirements": _requirements(text)}, "drugs", [text.drug_name])
    card = Bedside()
    missing = [*p.get("missing_premedication", []), *(f"baseline {m}" for m in p.get("missing_baseline", []))]
    card.found = [
        s
        for s in (
            text.section("boxed-neuro") if neuro else text.section("boxed") if boxed else None,
            text.section("risk", tier=tier, risk_reason=_clause(drug.risk_reason)) if drug and tier != "low" else None,
            text.section("already-exposed", already_exposed_days=p["already_exposed_days"])
            if p.get("already_exposed_days") is not None
            else None,
            text.section("missing", missing_text="; ".join(missing)) if missing else None,
            text.section("results", results_text=_results(text)) if p.get("baseline_results") else None,
        )
        if s
    ]
    card.now = [*_premedication_lines(text, card), *_monitoring_lines(text, card)]
    return summary, card.markdown({"found": text.template.sections["found"], "now": text.template.sections["now"],
                                   "grade": "", "missing": "", "consider": ""})


def _variant(tier: str, boxed: bool, neuro: bool) -> str:
    if tier == "high":
        return "high-boxed-neuro" if neuro else "high-boxed" if boxed else "high"
    return tier if tier in ("moderate", "low") else "low"


def _clause(text: str) -> str:
    """Knowledge text without its final full stop (the template supplies punctuation)."""
    return text.strip().rstrip(".")


def _requirements(text: CardText) -> str:
    """The summary's requirement phrase: "add the missing premedication" first, then the drug's own phrase."""
    drug = text.drug
    if text.params.get("missing_premedication"):
        return text.template.sections["requirements-missing"]
    by_drug = text.template.by_drug
    if drug is not None and drug.id in by_drug:
        return by_drug[drug.id]
    premedication = bool(drug and drug.premedication)
    monitoring = bool(drug and any(f.label_anchored for f in drug.monitoring))
    key = {
        (True, True): "requirements-premedication-monitoring",
        (True, False): "requirements-premedication",
        (False, True): "requirements-monitoring",
        (False, False): "requirements-none",
    }[(premedication, monitoring)]
    return text.template.sections[key]


def _premedication_lines(text: CardText, card: Bedside) -> list[str]:
    """The label's premedication, dose and timing (at most two lines; the suggestions order them)."""
    drug = text.drug
    if drug is None or text.finding.drug is None or text.finding.drug.risk_tier == "low":
        return []
    lines = []
    for premed in drug.premedication[:2]:
        details = ", ".join(part for part in (premed.dose_text, premed.timing) if part)
        lines.append(escape(f"{premed.display}: {details}" if details else premed.display))
        card.cite([text.kb.short_source(premed.source)])
    return lines


def _monitoring_lines(text: CardText, card: Bedside) -> list[str]:
    """The label-anchored monitoring facts (at most three), then tocilizumab availability."""
    drug = text.drug
    if drug is None:
        return []
    facts = [f for f in drug.monitoring if f.label_anchored][:3]
    if drug.tocilizumab_availability is not None:
        facts.append(drug.tocilizumab_availability)
    lines = []
    for fact in facts:
        if fact.source == LOCAL_PROTOCOL_SOURCE:
            lines.append(text.templates.phrase("per-local-protocol", text=escape(fact.text)))
        else:
            lines.append(escape(fact.text))
            card.cite([text.kb.short_source(fact.source)])
    return lines


def _results(text: CardText) -> str:
    units = text.templates.common.units
    parts = []
    for result in text.params.get("baseline_results") or []:
        unit = units.get(result.get("unit"), result.get("unit") or "")
        value, when = number(result.get("value")), text.when(result.get("effective"))
        parts.append(f"{result.get('label')} {value} {unit} at {when}")
    return "; ".join(parts)


def pre_infusion_risk(text: CardText) -> tuple[str, str]:
    """The card comparing pre-infusion EASIX with the published reference cut-off (comparison only)."""
    p = text.params
    easix, m_easix, cutoff = p.get("easix"), p.get("m_easix"), p.get("reference_cutoff")
    missing = [text.concept(m) for m in p.get("missing_labs") or []]
    values = {"easix_text": number(easix), "reference_cutoff": number(cutoff)}
    if easix is not None:
        summary = text.summary("computed", values, "drugs", [text.drug_name])
    else:
        summary = text.summary(
            "not-computable", {"drugs": text.drug_name}, "missing_labs_text", text.list_candidates(missing)
        )
    above = isinstance(easix, int | float) and isinstance(cutoff, int | float) and easix > cutoff
    blocks = [
        text.section("easix", easix_text=number(easix)) if easix is not None else None,
        text.section("m-easix", m_easix_text=number(m_easix)) if m_easix is not None else None,
        (
            text.section("above-cutoff" if above else "below-cutoff", reference_cutoff=number(cutoff))
            if easix is not None and cutoff is not None
            else None
        ),
        text.section("not-computable", missing_labs_text=", ".join(missing)) if easix is None else None,
        _labs_block(text, p.get("labs") or {}),
        text.evidence_block(),
        text.missing_block(),
        text.section("caveat") + " (" + text.cite(["korell-2022"]) + ")",
    ]
    return summary, join_blocks([*blocks, text.sources_block()])


def _labs_block(text: CardText, labs: Mapping[str, Any]) -> str | None:
    """The labs used, as a What | Value | Unit | Time table."""
    if not labs:
        return None
    units = text.templates.common.units
    rows = [
        (
            text.concept(concept),
            lab.get("value"),
            units.get(lab.get("unit"), lab.get("unit")),
            utc_text(lab.get("effective")) or None,
        )
        for concept, lab in labs.items()
        if isinstance(lab, Mapping)
    ]
    return text.heading("labs") + "\n\n" + table(text.templates.common.table_header, rows)
