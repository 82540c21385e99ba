"""Facts -> findings: the entry point of the rules stage (pure; `facts.now` is the clock).

    evaluate(facts, kb, hook=..., config=...) -> list[Finding]

    every hook:        crs.active | crs.monitoring-window (one per patient, inside an exposure window)
                       icans.active (one per patient, inside the window of a CAR-T, TCR-T or T-cell engager)
                       data.unreadable (data could not be read, or values are present but not usable)
    patient-view:      crs.monitoring-gap (inside a high-tier window, vitals older than the gap)
    order-select/sign: order.risk (one per ordered catalogue drug) and order.pre-infusion-risk

Findings come out sorted: critical, warning, info; then rule id; then drug id.
docs/FINDINGS.md is the contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.already_ordered import without_ordered
from cds_service.clinical.grading import grade_crs
from cds_service.clinical.icans import IcansGrading
from cds_service.clinical.order_rules import order_findings
from cds_service.clinical.rules_crs import crs_status_finding, monitoring_gap_finding, vital_signs_unread
from cds_service.clinical.rules_icans import assessment_suggestion, icans_finding, icans_grading, next_assessment_due
from cds_service.clinical.vitals_expected import vitals_expected
from cds_service.clinical.windows import WindowExposure, exposures_in_window, iso
from cds_service.domain.facts import DataGap, Facts, SetAsideResource, UnusableValue
from cds_service.domain.findings import Category, Finding, Severity
from cds_service.knowledge.base import KnowledgeBase

ORDER_HOOKS = frozenset({"order-select", "order-sign"})
#: Kinds of resources set aside that could hide an exposure to a CRS drug.
EXPOSURE_KINDS = frozenset({"medication", "procedure"})
#: Prefetch keys whose loss could hide an exposure to a CRS drug: always worth a card.
MEDICATION_KEYS = frozenset(
    {
        "medicationRequests",
        "medicationAdministrations",
        "medicationStatements",
        "medicationDispenses",
        "procedures",
        "medications",
    }
)
_SEVERITY_RANK = {Severity.critical: 0, Severity.warning: 1, Severity.info: 2}


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """The rule settings an operator may change (Settings; the site file may set the order alert tier)."""

    grading_window_hours: int = 24
    monitoring_gap_hours: int = 8
    min_order_alert_tier: str = "moderate"  # "low" | "moderate" | "high"
    min_window_card_tier: str = "moderate"  # lowest tier whose window alone (no signs) earns an info card
    baseline_result_hours: int = 72  # a baseline lab resulted this recently is shown, not suggested again

    @classmethod
    def from_settings(cls, settings: Any, kb: KnowledgeBase | None = None) -> RuleConfig:
        """From Settings; a site file's `min_order_alert_tier` wins over the default setting."""
        tier = _order_alert_tier(settings, kb)
        return cls(
            grading_window_hours=int(settings.grading_window_hours),
            monitoring_gap_hours=int(settings.monitoring_gap_hours),
            min_order_alert_tier=str(getattr(tier, "value", tier)),
            min_window_card_tier=str(getattr(settings.min_window_card_tier, "value", settings.min_window_card_tier)),
            baseline_result_hours=int(settings.baseline_result_hours),
        )


def _order_alert_tier(settings: Any, kb: KnowledgeBase | None) -> Any:
    """The order alert tier set explicitly, else the site file's, else the default setting."""
    if "min_order_alert_tier" in getattr(settings, "model_fields_set", set()):
        return settings.min_order_alert_tier
    if kb is not None and kb.site.min_order_alert_tier is not None:
        return kb.site.min_order_alert_tier
    return settings.min_order_alert_tier


def evaluate(facts: Facts, kb: KnowledgeBase, *, hook: str, config: RuleConfig) -> list[Finding]:
    """Every finding the facts support for this hook, in a deterministic order."""
    windows = exposures_in_window(facts, kb)
    expected = vitals_expected(facts, kb, windows)
    crs = crs_status_finding(
        facts,
        kb,
        windows,
        hours=config.grading_window_hours,
        quiet_min_tier=config.min_window_card_tier,
        expected=expected,
    )
    neuro = icans_grading(facts, kb, windows, hours=config.grading_window_hours)
    icans = icans_finding(facts, kb, windows, neuro, with_crs=crs is not None and crs.rule_id == "crs.active")
    candidates = [
        with_neuro_prompt(crs, neuro, icans, kb, facts, hours=config.grading_window_hours),
        icans,
        data_gap_finding(facts, windows, hook, kb=kb, hours=config.grading_window_hours),
    ]
    if hook in ORDER_HOOKS:
        candidates += order_findings(facts, kb, hook=hook, min_tier=config.min_order_alert_tier,
                                     baseline_result_hours=config.baseline_result_hours)
    else:
        candidates.append(monitoring_gap_finding(facts, windows, hours=config.monitoring_gap_hours, expected=expected))
    return sort_findings(without_ordered((f for f in candidates if f is not None), facts))


def with_neuro_prompt(
    crs: Finding | None,
    neuro: IcansGrading | None,
    icans: Finding | None,
    kb: KnowledgeBase,
    facts: Facts,
    *,
    hours: int,
) -> Finding | None:
    """The CRS-status finding with its neurological prompt (ICE from 12 years, CAPD under 12), inside the window
    of a drug that causes ICANS: `icans_found` says whether an ICANS card stands beside it. A quiet window card
    (no CRS sign) is not raised beside an ICANS card: the ICANS card covers the patient. The CRS card suggests
    the assessment only when there is no ICANS card (which suggests it itself)."""
    if crs is None or neuro is None:
        return crs
    if icans is not None and _quiet_window_card(crs):
        return None
    now = facts.now
    due = next_assessment_due(neuro, now, kb.neuro.assessment_interval_hours)
    icans_open = icans is None and _icans_not_assessable(facts, neuro, hours)
    params = {**crs.params, "icans_found": icans is not None, "neuro_tool": neuro.tool, "neuro_due": iso(due),
              "icans_open": icans_open}
    suggestions = crs.suggestions
    if icans is None and crs.rule_id == "crs.active":
        suggestions = (*suggestions, assessment_suggestion(neuro.tool, due, now))
    severity = crs.severity
    if icans_open and severity is Severity.info:
        severity = Severity.warning  # ICANS not excluded: never a card that says no criteria are met
    return replace(crs, params=params, suggestions=suggestions, severity=severity)


#: The neurological scores whose value, present but not usable, leaves ICANS open.
NEURO_SCORES = frozenset({"ice_score", "capd", "gcs"})


def _icans_not_assessable(facts: Facts, neuro: IcansGrading, hours: int) -> bool:
    """ICANS cannot be excluded: the vital signs and neurological scores could not be read, or the latest
    neurological score of the grading window could not be used (a value with no number, out of range)."""
    if vital_signs_unread(facts):
        return True
    start = facts.now - timedelta(hours=hours)
    if neuro.last_assessment is not None:
        start = max(start, neuro.last_assessment)
    return any(_unusable_score_since(u, start) for u in facts.unusable)


def _unusable_score_since(value: UnusableValue, start: datetime) -> bool:
    if value.concept not in NEURO_SCORES:
        return False
    return value.effective is None or value.effective >= start


def _quiet_window_card(crs: Finding) -> bool:
    """A monitoring-window card at info: no CRS sign at all."""
    return crs.rule_id == "crs.monitoring-window" and crs.severity is Severity.info


def data_gap_finding(
    facts: Facts, windows: list[WindowExposure], hook: str, *, kb: KnowledgeBase, hours: int
) -> Finding | None:
    """One `data.unreadable` finding naming, once each, the data that could not be read and could change a
    finding; None when nothing missing could.

    Medication data (and resources set aside whose medication could not be read) could hide an exposure, so they
    always count. Vital signs, labs, diagnoses and set-aside observations count only inside an exposure window
    or at order time. Values present but not usable are named on the CRS card they affect, not here.
    """
    relevant = bool(windows) or hook in ORDER_HOOKS
    items = [gap.description for gap in facts.data_gaps if _gap_matters(gap, relevant)]
    items += [_set_aside_text(item) for item in facts.set_aside if _set_aside_matters(item, relevant)]
    items = list(dict.fromkeys(items))
    if not items:
        return None
    signs = _signs_hidden_exposure_could_explain(facts, windows, kb, hours)
    return Finding(
        rule_id="data.unreadable",
        category=Category.data_gap,
        severity=Severity.warning if signs else Severity.info,
        template="data-gap",
        params={"items": items, "signs": signs},
    )


def _signs_hidden_exposure_could_explain(
    facts: Facts, windows: list[WindowExposure], kb: KnowledgeBase, hours: int
) -> list[str]:
    """Fever, hypotension or hypoxia in the grading window of a patient with no known exposure whose medication
    data could not be read: a CRS drug may be hidden there, so CRS cannot be excluded (the card is a warning)."""
    if windows or not _medication_data_missing(facts):
        return []
    start = facts.now - timedelta(hours=hours)
    grading = grade_crs(facts, kb, window_start=start, exposure_start=None, hours=hours)
    present = [("fever", grading.fever.present), ("hypotension", grading.hypotension.part.present),
               ("hypoxia", grading.hypoxia.part.present)]
    return [name for name, found in present if found]


def _medication_data_missing(facts: Facts) -> bool:
    """Some data that could hide an exposure could not be read (a medication key, or a resource set aside)."""
    if any(gap.key in MEDICATION_KEYS for gap in facts.data_gaps):
        return True
    return any(item.kind in EXPOSURE_KINDS for item in facts.set_aside)


def _gap_matters(gap: DataGap, relevant: bool) -> bool:
    return relevant or gap.key in MEDICATION_KEYS


def _set_aside_matters(item: SetAsideResource, relevant: bool) -> bool:
    """A resource set aside whose medication could not be read always matters (it could hide an exposure)."""
    return relevant or item.kind in EXPOSURE_KINDS


def _set_aside_text(item: SetAsideResource) -> str:
    return f"{item.reference} was not used: its {item.field} could not be read ({item.reason})"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Critical before warning before info; then rule id; then drug id."""
    return sorted(findings, key=_finding_order)


def _finding_order(finding: Finding) -> tuple[int, str, str]:
    if finding.drug:
        return (_SEVERITY_RANK[finding.severity], finding.rule_id, finding.drug.id)
    return (_SEVERITY_RANK[finding.severity], finding.rule_id, "")
