"""Summary and detail of the order-time cards: order-risk (one per drug) and pre-infusion-risk.

Each function takes the finding's `CardText` and returns (summary, detail Markdown). Drug guidance (boxed
warning,
premedication, monitoring, tocilizumab availability, baseline monitoring) comes from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.knowledge.dosing import capped_mg
from cds_service.rendering.bedside import Bedside
from cds_service.rendering.knowledge_view import LOCAL_PROTOCOL_SOURCE, FactView, WeightBandView
from cds_service.rendering.markdown import escape, number
from cds_service.rendering.text import CardText


def order_risk(text: CardText) -> tuple[str, str]:
    """One card per ordered drug: risk, boxed warning, the label's monitoring, and what the orders lack."""
    p, drug = text.params, text.drug
    tier = str(p.get("tier") or (text.finding.drug.risk_tier if text.finding.drug else "low"))
    boxed, neuro = bool(p.get("boxed_warning")), bool(p.get("boxed_neurotoxicity"))
    variant = _variant(tier, boxed, neuro)
    summary = text.summary(variant, {"requirements": _requirements(text)}, "drugs", [text.drug_name])
    card = Bedside()
    plans = list(p.get("premedication") or [])
    missing = [", ".join(_lower_first(str(plan["name"])) for plan in plans if plan.get("missing"))]
    if p.get("missing_baseline"):
        missing.append("baseline " + ", ".join(_lower_first(str(b)) for b in p["missing_baseline"]))
    missing = [m for m in missing if m]
    card.found = [
        s
        for s in (
            text.section("boxed-neuro") if neuro else text.section("boxed") if boxed else None,
            text.section("risk", tier=tier, risk_reason=_clause(drug.risk_reason))
            if drug and tier != "low" and not (boxed or neuro)
            else None,
            text.section("already-exposed", already_exposed_days=p["already_exposed_days"])
            if p.get("already_exposed_days") is not None
            else None,
            text.section("missing", missing_text="; ".join(missing)) if missing else None,
            text.section("results", results_text=_results(text)) if p.get("baseline_results") else None,
        )
        if s
    ]
    if drug is not None and (boxed or neuro):
        boxed_source = drug.boxed_warning_neurotoxicity_source if neuro else None
        card.cite([text.kb.short_source(boxed_source or drug.boxed_warning_source)])
    card.now = [*_premedication_lines(text, card), *_monitoring_lines(text, card)]
    return summary, card.markdown({"found": text.template.sections["found"], "now": text.template.sections["now"],
                                   "grade": "", "missing": "", "consider": ""})


def _variant(tier: str, boxed: bool, neuro: bool) -> str:
    if tier == "high":
        return "high-boxed-neuro" if neuro else "high-boxed" if boxed else "high"
    return tier if tier in ("moderate", "low") else "low"


def _clause(text: str) -> str:
    """Knowledge text inside a sentence: its first word lower-case (unless an acronym), no final full stop."""
    return _lower_first(text.strip().rstrip("."))


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


def _lower_first(name: str) -> str:
    """"Dexamethasone" -> "dexamethasone" inside a sentence; "CBC with differential" stays as written."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _premedication_lines(text: CardText, card: Bedside) -> list[str]:
    """The label's premedication for this patient (a child's dose by body surface, from the rule): one line when
    all share their timing ("Premedicate 1 to 3 hours before ...: dexamethasone 16 mg ...; ..."), else one each."""
    drug = text.drug
    plans = list(text.params.get("premedication") or [])
    if drug is None or not plans:
        return []
    card.cite([text.kb.short_source(premed.source) for premed in drug.premedication])
    timings = {str(plan.get("timing") or "") for plan in plans}
    if len(timings) == 1:
        doses = "; ".join(str(plan["dose_text"]) for plan in plans)
        return [escape(text.section("premedicate", timing=timings.pop(), doses=doses))]
    return [escape(f"{_upper_first(str(plan['dose_text']))}, {plan['timing']}.") for plan in plans]


def _upper_first(line: str) -> str:
    return line[:1].upper() + line[1:]


def _monitoring_lines(text: CardText, card: Bedside) -> list[str]:
    """The label-anchored monitoring facts (at most three), else (no label line verified) the local-protocol
    ones, marked as such; then tocilizumab availability."""
    drug = text.drug
    if drug is None:
        return []
    facts = [f for f in drug.monitoring if f.label_anchored][:3]
    if not facts:
        facts = [f for f in drug.monitoring if f.source == LOCAL_PROTOCOL_SOURCE][:2]
    if drug.tocilizumab_availability is not None:
        facts.append(drug.tocilizumab_availability)
    lines = []
    for fact in facts:
        wording, source = _for_this_patient(text, fact)
        if source == LOCAL_PROTOCOL_SOURCE:
            lines.append(text.local(escape(wording)))
        else:
            lines.append(escape(wording))
            card.cite([text.kb.short_source(source)])
    return lines


def _for_this_patient(text: CardText, fact: FactView) -> tuple[str, str]:
    """The fact's wording for this patient and its source: the label's wording under a body weight when the
    charted weight is below it, or for a child whose weight is not charted (said on the line)."""
    band = fact.under
    if band is None:
        return fact.text, fact.source
    weight = text.params.get("weight_kg")
    if weight is not None and float(weight) >= band.below_kg:
        return fact.text, fact.source
    if weight is None and not text.params.get("paediatric"):
        return fact.text, fact.source
    wording = band.text.replace("{dose}", _band_dose(band, text.params.get("bsa_m2")))
    if weight is None:
        wording = f"{wording.rstrip('.')} (weight not charted; {number(band.below_kg)} kg or more: {fact.text})"
    return wording, band.source


def _band_dose(band: WeightBandView, bsa: object) -> str:
    """ "4 mg (5 mg/m2, maximum 8 mg; BSA 0.8 m2)", or the rule when height or weight is not charted."""
    per_m2 = f"{number(band.mg_per_m2)} mg/m2"
    cap = f", maximum {number(band.max_mg)} mg" if band.max_mg is not None else ""
    if not isinstance(bsa, int | float) or band.mg_per_m2 is None:
        return f"{per_m2}{cap} (height and weight needed for the dose)"
    dose = capped_mg(band.mg_per_m2, float(bsa), band.max_mg)
    return f"{number(dose)} mg ({per_m2}{cap}; BSA {number(round(float(bsa), 2))} m2)"


def _results(text: CardText) -> str:
    units = text.templates.common.units
    parts = []
    for result in text.params.get("baseline_results") or []:
        unit = units.get(result.get("unit"), result.get("unit") or "")
        value, when = number(result.get("value")), text.when(result.get("effective"))
        parts.append(f"{result.get('label')} {value} {unit} at {when}")
    return "; ".join(parts)


def pre_infusion_risk(text: CardText) -> tuple[str, str]:
    """EASIX and m-EASIX beside the published reference cut-off (for comparison only), in the bedside shape."""
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
    card = Bedside()
    card.found = [
        s
        for s in (
            text.section("labs", labs_text=_labs(text, p.get("labs") or {})) if p.get("labs") else None,
            text.section("easix", easix_text=number(easix)) if easix is not None else None,
            text.section("m-easix", m_easix_text=number(m_easix)) if m_easix is not None else None,
            text.section("above-cutoff" if above else "below-cutoff", reference_cutoff=number(cutoff))
            if easix is not None and cutoff is not None
            else None,
            text.section("caveat"),
        )
        if s
    ]
    if easix is None:
        card.missing.append(text.section("not-computable", missing_labs_text=", ".join(missing)))
    card.missing += text.finding.missing
    card.cite([text.kb.short_source("korell-2022")])
    headings = {k: text.template.sections.get(k, "") for k in ("found", "grade", "missing", "now", "consider")}
    return summary, card.markdown(headings)


def _labs(text: CardText, labs: Mapping[str, Any]) -> str:
    """"LDH 612 U/L, creatinine 1.2 mg/dL and platelets 120 ×10⁹/L (14:20 UTC)"."""
    units = text.templates.common.units
    parts, times = [], []
    for concept, lab in labs.items():
        if isinstance(lab, Mapping):
            unit_code = str(lab.get("unit") or "")
            unit = units.get(unit_code, unit_code)
            parts.append(f"{text.concept(concept)} {number(lab.get('value'))} {unit}".rstrip())
            times.append(text.when(lab.get("effective")))
    when = times[0] if len(set(times)) == 1 else ", ".join(dict.fromkeys(times))
    return escape(", ".join(parts) + (f" ({when})" if when else ""))
