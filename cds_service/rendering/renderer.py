"""Findings -> CDS Hooks cards: pure, with an injected uuid factory and clock; wording from cards/templates/.

    list[Finding] --dedupe--> --per finding: summary + detail (rendering/crs.py, rendering/orders.py)
                  --+ source, links, override reasons, suggestions (rendering/suggestions.py), finding extension
                  --sort critical, warning, info--> list[Card]

The finding contract (`extension["org.crs-cds.finding"]`) on every card:

    {"ruleId": str, "category": str, "astctGrade": int | null, "astctGradeIsMinimum": bool,
     "drug": {"id", "name", "class", "riskTier"},          # only when a drug is involved
     "daysSinceExposure": int,                              # only when known
     "evidence": [{"reference", "code", "value", "unit", "effective"}]}   # only when there is evidence

CDS Hooks forbids null and empty values, so absent keys are omitted (also inside evidence items), with one
deliberate exception: `astctGrade` is always present and null when no ASTCT grade applies (ungraded CRS signs,
and every card that is not about CRS status), so a consumer can tell "no grade" from an old contract version.
`astctGradeIsMinimum` is always present (false unless missing data makes the grade a lower bound).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cds_service.cdshooks.models import (
    INDICATOR_ORDER,
    Card,
    Coding,
    Indicator,
    Link,
    OverrideReason,
    Source,
    utc_iso,
)
from cds_service.domain.findings import Category, Finding
from cds_service.errors import KnowledgeError
from cds_service.knowledge.schema import NOT_FOR_THE_BEDSIDE
from cds_service.rendering.crs import active_crs, data_gap, monitoring_gap, monitoring_window
from cds_service.rendering.icans import active_icans
from cds_service.rendering.knowledge_view import KnowledgeView
from cds_service.rendering.markdown import join_blocks
from cds_service.rendering.orders import order_risk, pre_infusion_risk
from cds_service.rendering.registry import DRUG_LABEL_SOURCE
from cds_service.rendering.smart_context import smart_app_context
from cds_service.rendering.suggestions import suggestions
from cds_service.rendering.templates import TemplateSet, cited_sources, fill
from cds_service.rendering.text import CardText
from cds_service.settings import Settings

FINDING_EXTENSION = "org.crs-cds.finding"
CRS_STATUS_RULES = frozenset({"crs.active", "crs.monitoring-window"})

Clock = Callable[[], datetime]
_Wording = Callable[[CardText], tuple[str, str]]

#: template id -> the function that words it
WORDING: dict[str, _Wording] = {
    "active-crs": active_crs,
    "active-icans": active_icans,
    "monitoring-window": monitoring_window,
    "monitoring-gap": monitoring_gap,
    "data-gap": data_gap,
    "order-risk": order_risk,
    "pre-infusion-risk": pre_infusion_risk,
}
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}

log = logging.getLogger(__name__)


class CardRenderer:
    """Turns findings into cards. Pure: the same findings, uuids and clock give the same cards."""

    def __init__(
        self,
        templates: TemplateSet,
        settings: Settings,
        kb: KnowledgeView,
        uuid_factory: Callable[[], str],
        clock: Clock,
    ) -> None:
        """Bind wording, settings and knowledge; KnowledgeError if a template names a drug the kb lacks."""
        self._templates = templates
        self._settings = settings
        self._kb = kb
        self._uuid = uuid_factory
        self._clock = clock
        self._reasons: tuple[OverrideReason, ...] | None = None
        unknown = sorted(set(templates.card("order-risk").by_drug) - set(kb.drugs))
        if unknown:
            raise KnowledgeError(
                f"cards/templates/order-risk.yaml: field by_drug: unknown drug id(s) {unknown}"
            )
        for file, ids in cited_sources(templates).items():
            missing = sorted(ids - set(kb.sources))
            if missing:
                raise KnowledgeError(f"cards/templates/{file}: sources not in cards/sources.yaml: {missing}")
            unfit = sorted(i for i in ids if getattr(kb.sources[i], "kind", None) in NOT_FOR_THE_BEDSIDE)
            if unfit:
                raise KnowledgeError(
                    f"cards/templates/{file}: sources not fit for the bedside (aggregator, advocacy, another "
                    f"country's drug database, news): {unfit}; cite the label, a guideline or a paper"
                )
            unlabelled = sorted(i for i in ids if not getattr(kb.sources[i], "short", None))
            if unlabelled:
                raise KnowledgeError(f"cards/templates/{file}: sources without a `short` label: {unlabelled}")

    def render(self, findings: list[Finding], *, patient_id: str | None) -> list[Card]:
        """One card per distinct finding, most severe first (stable within a level)."""
        now = self._clock()
        cards = [self._card(finding, patient_id, now) for finding in dedupe(findings)]
        return sorted(cards, key=lambda card: INDICATOR_ORDER[card.indicator])

    def _card(self, finding: Finding, patient_id: str | None, now: datetime) -> Card:
        card_uuid = self._uuid()
        text = CardText(self._templates, self._kb, finding, zone=self._settings.zone, now=now)
        summary, detail = WORDING[finding.template](text)
        if finding.params.get("repeat"):
            detail = join_blocks([self._repeat_line(text), detail])
        offered = suggestions(finding.suggestions, patient_id=patient_id, uuid_factory=self._uuid, now=now)
        return Card(
            uuid=card_uuid,
            summary=summary,
            detail=detail or None,
            indicator=Indicator(finding.severity.value),
            source=self._source(text),
            suggestions=offered or None,
            selectionBehavior="any" if offered else None,
            overrideReasons=self._override_reasons(),
            links=self._links(text),
            extension={FINDING_EXTENSION: finding_extension(finding)},
        )

    def _source(self, text: CardText) -> Source:
        """Label from settings; url of the template's reference (or the drug label); topic = category."""
        template_source = text.template.source
        url = text.drug.label_url if template_source == DRUG_LABEL_SOURCE and text.drug else None
        if template_source != DRUG_LABEL_SOURCE:
            url = self._templates.links.references[template_source].url
        url = url or self._templates.links.references["astct-2019"].url
        category = text.finding.category.value
        topic = Coding(
            system=self._templates.links.topic_system, code=category, display=category.replace("-", " ")
        )
        return Source(label=self._settings.source_label, url=url, topic=topic)

    def _repeat_line(self, text: CardText) -> str:
        """A repeat (clinical/burden.py): when the card first interrupted, and that nothing worse has happened since;
        or the feedback that holds it."""
        p = text.params
        if p.get("held_by"):
            displays = {r.code: r.display for r in self._templates.override_reasons.reasons}
            reason = displays.get(str(p["held_by"]), str(p["held_by"]))
            return self._templates.phrase("repeat-held", reason=reason, held_until=text.when(p.get("held_until")))
        return self._templates.phrase("repeat", first_shown_at=text.when(p.get("first_shown_at")))

    def _override_reasons(self) -> list[OverrideReason]:
        """The same reasons on every card: built once (validating them per card was 6% of a hook call)."""
        if self._reasons is None:
            reasons = self._templates.override_reasons
            self._reasons = tuple(
                OverrideReason(system=reasons.system, code=r.code, display=r.display) for r in reasons.reasons
            )
        return list(self._reasons)

    def _links(self, text: CardText) -> list[Link]:
        """ASTCT consensus, the drug's label when known, and the SMART app when configured."""
        labels = self._templates.links.labels
        astct_url = self._templates.links.references["astct-2019"].url or ""
        links = [Link(label=labels["astct"], url=astct_url, type="absolute")]
        if text.drug is not None and text.drug.label_url:
            label = fill(labels["drug-label"], {"drug_name": text.drug_name or text.drug.generic_name})
            links.append(Link(label=label, url=text.drug.label_url, type="absolute"))
        if self._settings.smart_app_url:
            context = smart_app_context(text.finding)  # the finding, so the app opens on it (CRS status cards)
            links.append(
                Link(label=labels["smart-app"], url=self._settings.smart_app_url, type="smart", appContext=context)
            )
        return links


def dedupe(findings: list[Finding]) -> list[Finding]:
    """At most one CRS-status finding (most severe, first wins ties) and one per (rule_id, drug)."""
    status = [f for f in findings if f.rule_id in CRS_STATUS_RULES]
    keep_status = min(status, key=lambda f: _SEVERITY_RANK[f.severity.value]) if status else None
    seen: set[tuple[str, str | None]] = set()
    result: list[Finding] = []
    for finding in findings:
        if finding.rule_id in CRS_STATUS_RULES and finding is not keep_status:
            log.info("duplicate CRS-status finding %s dropped", finding.rule_id)
            continue
        key = (finding.rule_id, finding.drug.id if finding.drug else None)
        if key in seen:
            log.info("duplicate finding %s dropped", finding.rule_id)
            continue
        seen.add(key)
        result.append(finding)
    return result


def finding_extension(finding: Finding) -> dict[str, Any]:
    """The machine-readable finding contract of a card (see the module docstring for the null policy)."""
    extension: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "category": Category(finding.category).value,
        "astctGrade": finding.astct_grade,
        "astctGradeIsMinimum": finding.astct_grade_is_minimum,
    }
    if finding.params.get("repeat"):
        extension["repeat"] = True  # shown before and nothing worse since: info, not an interruption
        extension["firstShownAt"] = finding.params.get("first_shown_at")
    if finding.category is Category.active_icans:
        extension["icansGrade"] = finding.icans_grade  # always present on ICANS cards, null when ungraded
        extension["icansGradeIsMinimum"] = finding.icans_grade_is_minimum
    documented = finding.params.get("documented_grade")
    if finding.category in (Category.active_crs, Category.active_icans) and documented is not None:
        extension["documentedGrade"] = documented  # the grade the chart's coded diagnosis carries
    if finding.drug is not None:
        drug = finding.drug
        extension["drug"] = {
            "id": drug.id,
            "name": drug.name,
            "class": drug.drug_class,
            "riskTier": drug.risk_tier,
        }
    if finding.days_since_exposure is not None:
        extension["daysSinceExposure"] = finding.days_since_exposure
    evidence = [_evidence(e) for e in finding.evidence]
    if evidence:
        extension["evidence"] = evidence
    return extension


def _evidence(item: Any) -> dict[str, Any]:
    values = {
        "reference": item.reference,
        "code": item.code,
        "value": item.value,
        "unit": item.unit,
        "effective": utc_iso(item.effective) if item.effective else None,
    }
    return {k: v for k, v in values.items() if v is not None and v != ""}
