"""A suggestion is not offered again while its order is on the chart (issue 15): an accepted suggestion becomes a
draft or an active order, and the next call sees it there.

A suggested order is on the chart when an active, on-hold or draft order (facts.orders) authored in the last
`ORDER_LOOKBACK` (or with no authored time) has its code, or its display or label as text. A suggestion all of
whose orders are on the chart is dropped from the finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from cds_service.domain.facts import Facts, OrderOnChart
from cds_service.domain.findings import Finding, SuggestedOrder, Suggestion
from cds_service.knowledge.text import normalise

ORDER_LOOKBACK = timedelta(hours=24)


def without_ordered(findings: Iterable[Finding], facts: Facts) -> list[Finding]:
    """The findings without the suggestions all of whose orders are on the chart already."""
    recent = [o for o in facts.orders if _recent(o, facts.now)]
    if not recent:
        return list(findings)
    return [_without_charted(finding, recent) for finding in findings]


def _recent(order: OrderOnChart, now: datetime) -> bool:
    """Authored within ORDER_LOOKBACK, or with no authored time."""
    return order.authored is None or now - order.authored <= ORDER_LOOKBACK


def _without_charted(finding: Finding, chart: list[OrderOnChart]) -> Finding:
    kept = tuple(s for s in finding.suggestions if not _all_on_chart(s, chart))
    if kept == finding.suggestions:
        return finding
    return replace(finding, suggestions=kept)


def _all_on_chart(suggestion: Suggestion, chart: list[OrderOnChart]) -> bool:
    return all(_on_chart(o, chart) for o in suggestion.orders)


def _on_chart(order: SuggestedOrder, chart: list[OrderOnChart]) -> bool:
    """An order of the same resource type on the chart has the code, or the display or label as text."""
    code = _system_code(order)
    names = _names(order)
    same_type = [existing for existing in chart if existing.resource_type == order.resource_type]
    return any(_has_code(existing, code) or _named(existing, names) for existing in same_type)


def _system_code(order: SuggestedOrder) -> str | None:
    """ "system|code" ("|code" without a system), or None for an order without a code."""
    if not order.code:
        return None
    return f"{order.system or ''}|{order.code}"


def _names(order: SuggestedOrder) -> set[str]:
    """The order's display and label, normalised (empty ones left out)."""
    return {n for n in (normalise(order.display), normalise(order.label)) if n}


def _has_code(existing: OrderOnChart, code: str | None) -> bool:
    return code is not None and code in existing.codes


def _named(existing: OrderOnChart, names: set[str]) -> bool:
    """The order's text is one of the names, or one of its " / "-separated parts is."""
    return any(name == existing.text or name in existing.text.split(" / ") for name in names)
