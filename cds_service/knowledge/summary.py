"""A plain-text overview of the loaded knowledge, for `crs-cds check-knowledge`."""

from __future__ import annotations

from collections import Counter

from cds_service.knowledge.base import KnowledgeBase

_SYSTEM_NAMES = {
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://www.whocc.no/atc": "ATC",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://www.cms.gov/Medicare/Coding/ICD10": "ICD-10-PCS",
}
_TIERS = ("high", "moderate", "low")


def summarise(kb: KnowledgeBase) -> str:
    """Drugs per class and tier, drug codes per system, entries without codes, and the site configuration."""
    lines = [
        f"Knowledge base {kb.version}: {len(kb.drugs)} drugs, {len(kb.vasopressors)} vasopressors, "
        f"{len(kb.treatments)} treatments, {len(kb.baseline_monitoring)} baseline orders, "
        f"{len(kb.sources)} sources"
    ]
    lines += ["", "Drugs per class (high / moderate / low):"]
    per_class: dict[str, Counter[str]] = {}
    for drug in kb.drugs.values():
        per_class.setdefault(drug.drug_class, Counter())[drug.risk_tier] += 1
    for drug_class in sorted(per_class):
        tiers = per_class[drug_class]
        counts = " / ".join(str(tiers[t]) for t in _TIERS)
        lines.append(f"  {drug_class:<28} {sum(tiers.values()):>3}   ({counts})")
    systems: Counter[str] = Counter()
    for drug in kb.drugs.values():
        systems.update(_SYSTEM_NAMES.get(code.system, code.system) for code in drug.codes)
    lines += ["", "Drug codes per system:"]
    lines += [f"  {name:<28} {count:>3}" for name, count in sorted(systems.items())]
    uncoded = sorted(d.id for d in kb.drugs.values() if not d.codes)
    no_rxnorm = sorted(
        d.id for d in kb.drugs.values() if d.codes and not any(c.system.endswith("/rxnorm") for c in d.codes)
    )
    lines += ["", f"Drugs without any code (matched by name only): {', '.join(uncoded) or 'none'}"]
    lines += [f"Drugs without an RxNorm code: {', '.join(no_rxnorm) or 'none'}"]
    uncoded_treatments = sorted(t.id for t in kb.treatments.values() if not t.codes)
    lines += [f"Treatments matched by name only: {', '.join(uncoded_treatments) or 'none'}"]
    uncoded_baseline = sorted(b.id for b in kb.baseline_monitoring if not b.code)
    lines += [f"Baseline orders without a code (text-only): {', '.join(uncoded_baseline) or 'none'}"]
    lines += ["", _site_line(kb)]
    return "\n".join(lines)


def _site_line(kb: KnowledgeBase) -> str:
    site = kb.site
    if site.version is None:
        return "Site extension: none"
    overrides = ", ".join(f"{k}={v} d" for k, v in sorted(site.window_overrides.items())) or "none"
    tier = site.min_order_alert_tier or "from settings"
    name = site.name or "(unnamed)"
    return f"Site extension: {name} v{site.version}; order-alert tier {tier}; windows {overrides}"
