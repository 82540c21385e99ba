"""Summary and detail of the order-time cards: order-risk, premedication, pre-infusion-risk.

Each function takes the finding's `CardText` and returns (summary, detail Markdown). Drug guidance (boxed
warning,
premedication, monitoring, tocilizumab availability, baseline monitoring) comes from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cds_service.rendering.knowledge_view import LOCAL_PROTOCOL_SOURCE, PremedicationView
from cds_service.rendering.markdown import escape, join_blocks, number, plain, table, utc_text
from cds_service.rendering.text import CardText


def order_risk(text: CardText) -> tuple[str, str]:
    """The card for a draft order of a catalogue drug: tier, boxed warning and the label's requirements."""
    p, drug = text.params, text.drug
    tier = str(p.get("tier") or (text.finding.drug.risk_tier if text.finding.drug else "low"))
    boxed = bool(p.get("boxed_warning"))
    variant = "high-boxed" if tier == "high" and boxed else tier if tier in ("high", "moderate") else "low"
    summary = text.summary(variant, {"requirements": _requirements(text)}, "drugs", [text.drug_name])
    exposed = p.get("already_exposed_days")
    blocks = [
        text.section("boxed-warning") if boxed else None,
        text.section("risk", tier=tier, risk_reason=_clause(drug.risk_reason) if drug else ""),
        text.section("onset", typical_onset=_clause(drug.typical_onset))
        if drug and drug.typical_onset
        else None,
        text.section("already-exposed", drugs=text.drug_name, already_exposed_days=exposed)
        if exposed is not None
        else None,
        _section_list(text, "premedication-heading", [_premedication_line(text, m) for m in _premeds(text)]),
        _section_list(text, "monitoring-heading", text.label_monitoring_lines()),
        _section_list(text, "baseline-heading", _baseline_lines(text)) if tier == "high" else None,
        text.evidence_block(),
        text.missing_block(),
    ]
    return summary, join_blocks([*blocks, text.sources_block()])


def _clause(text: str) -> str:
    """Knowledge text without its final full stop (the template supplies punctuation)."""
    return text.strip().rstrip(".")


def _requirements(text: CardText) -> str:
    """The summary's requirement phrase: the template's per-drug phrase, else built from the label."""
    drug = text.drug
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


def _premeds(text: CardText) -> Sequence[PremedicationView]:
    return text.drug.premedication if text.drug else ()


def _premedication_line(text: CardText, premed: PremedicationView) -> str:
    """ "Display: dose, timing (label: citation)"."""
    details = ", ".join(escape(part) for part in (premed.dose_text, premed.timing) if part)
    name = escape(premed.display or premed.label)
    return text.kb_cited(f"{name}: {details}" if details else name, premed.source, label=True)


def _baseline_lines(text: CardText, labels: Sequence[str] | None = None) -> list[str]:
    """Baseline orders (all, or those with `labels`): institution-defined ones "per local protocol"."""
    items = {plain(item.label).lower(): item for item in text.kb.baseline_monitoring}
    wanted = list(labels) if labels is not None else [item.label for item in text.kb.baseline_monitoring]
    lines = []
    for label in wanted:
        item = items.get(plain(label).lower())
        local = item is not None and item.source == LOCAL_PROTOCOL_SOURCE
        lines.append(text.kb_cited(escape(label), LOCAL_PROTOCOL_SOURCE) if local else escape(label))
    return lines


def _section_list(text: CardText, heading_key: str, lines: Sequence[str]) -> str | None:
    """A template heading (from the card's sections) over a bullet list of escaped lines."""
    if not lines:
        return None
    return f"#### {text.template.sections[heading_key]}\n\n" + "\n".join(f"- {line}" for line in lines)


def premedication(text: CardText) -> tuple[str, str]:
    """The card for label-required premedication or baseline monitoring absent from the draft orders."""
    p = text.params
    premeds: list[str] = list(p.get("missing_premedication") or [])
    baseline: list[str] = list(p.get("missing_baseline") or [])
    variant = "both" if premeds and baseline else "premedication" if premeds else "baseline"
    shrink, names = (
        ("premedication_list", premeds) if variant == "premedication" else ("baseline_list", baseline)
    )
    summary = text.summary(variant, {"drugs": text.drug_name}, shrink, text.list_candidates(names))
    known = {plain(m.label).lower(): m for m in _premeds(text)}
    premed_lines = [
        _premedication_line(text, known[plain(n).lower()]) if plain(n).lower() in known else escape(n)
        for n in premeds
    ]
    blocks = [
        _section_list(text, "premedication-heading", premed_lines),
        _section_list(text, "baseline-heading", _baseline_lines(text, baseline)),
        text.section("suggestions") if text.finding.suggestions else None,
        text.evidence_block(),
        text.missing_block(),
    ]
    return summary, join_blocks([*blocks, text.sources_block()])


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
