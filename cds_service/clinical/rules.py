"""Facts -> findings: the entry point of the rules stage (pure; `facts.now` is the clock).

    evaluate(facts, kb, hook=..., config=...) -> list[Finding]

    every hook:        crs.active | crs.monitoring-window (one per patient, inside an exposure window)
                       data.unreadable (data could not be read, or values are present but not usable)
    patient-view:      crs.monitoring-gap (inside a high-tier window, vitals older than the gap)
    order-select/sign: order.risk, order.premedication, order.pre-infusion-risk per ordered catalogue drug

Findings come out sorted: critical, warning, info; then rule id; then drug id.
docs/FINDINGS.md is the contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cds_service.clinical.order_rules import order_findings
from cds_service.clinical.rules_crs import crs_status_finding, monitoring_gap_finding
from cds_service.clinical.windows import exposures_in_window, unusable_text
from cds_service.domain.facts import Facts
from cds_service.domain.findings import Category, Finding, Severity

ORDER_HOOKS = frozenset({"order-select", "order-sign"})
_SKIPPED_NOTE = re.compile(r"^\d+ malformed resources? (was|were) skipped$")  # already said by skipped_count
_SEVERITY_RANK = {Severity.critical: 0, Severity.warning: 1, Severity.info: 2}


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """The rule settings an operator may change (Settings; the site file may set the order alert tier)."""

    grading_window_hours: int = 24
    monitoring_gap_hours: int = 8
    min_order_alert_tier: str = "moderate"  # "low" | "moderate" | "high"
    min_window_card_tier: str = "moderate"  # lowest tier whose window alone (no signs) earns an info card

    @classmethod
    def from_settings(cls, settings: Any, kb: Any = None) -> RuleConfig:
        """From Settings; a site file's `min_order_alert_tier` wins over the default setting."""
        site_tier = getattr(getattr(kb, "site", None), "min_order_alert_tier", None)
        explicit = "min_order_alert_tier" in getattr(settings, "model_fields_set", set())
        tier = settings.min_order_alert_tier if explicit or site_tier is None else site_tier
        return cls(
            grading_window_hours=int(settings.grading_window_hours),
            monitoring_gap_hours=int(settings.monitoring_gap_hours),
            min_order_alert_tier=str(getattr(tier, "value", tier)),
            min_window_card_tier=str(getattr(settings.min_window_card_tier, "value", settings.min_window_card_tier)),
        )


def evaluate(facts: Facts, kb: Any, *, hook: str, config: RuleConfig) -> list[Finding]:
    """Every finding the facts support for this hook, in a deterministic order."""
    windows = exposures_in_window(facts, kb)
    candidates = [
        crs_status_finding(
            facts, kb, windows, hours=config.grading_window_hours, quiet_min_tier=config.min_window_card_tier
        ),
        data_gap_finding(facts),
    ]
    if hook in ORDER_HOOKS:
        candidates += order_findings(facts, kb, hook=hook, min_tier=config.min_order_alert_tier)
    else:
        candidates.append(monitoring_gap_finding(facts, windows, hours=config.monitoring_gap_hours))
    return sort_findings(f for f in candidates if f is not None)


def data_gap_finding(facts: Facts) -> Finding | None:
    """One `data.unreadable` finding: data gaps, skipped resources, values present but not usable, and the
    data-quality notes; None when there is no gap, no skipped resource and no unusable value."""
    skipped = facts.skipped_count
    if not facts.data_gaps and not skipped and not facts.unusable:
        return None
    items = [gap.description for gap in facts.data_gaps]
    if skipped:
        items.append(f"{skipped} FHIR resource(s) were malformed and skipped")
    items += [unusable_text(value, facts.now) for value in facts.unusable]
    items += [note for note in facts.quality_notes if not _SKIPPED_NOTE.match(note)]
    items = list(dict.fromkeys(items))
    return Finding(
        rule_id="data.unreadable",
        category=Category.data_gap,
        severity=Severity.info,
        template="data-gap",
        params={"items": items, "skipped_count": skipped},
        missing=tuple(items),
    )


def sort_findings(findings: Any) -> list[Finding]:
    """Critical before warning before info; then rule id; then drug id."""
    return sorted(
        findings, key=lambda f: (_SEVERITY_RANK[f.severity], f.rule_id, f.drug.id if f.drug else "")
    )
