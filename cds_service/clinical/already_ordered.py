"""A suggestion is not offered again while its order is on the chart (issue 15): an accepted suggestion becomes a
draft or an active order, and the next call sees it there.

A suggested order is on the chart when an active, on-hold or draft order (facts.orders) authored in the last
`ORDER_LOOKBACK` (or with no authored time) has its code, or its display or label as text. A suggestion all of
whose orders are on the chart is dropped from the finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from cds_service.domain.facts import Facts, OrderOnChart
from cds_service.domain.findings import Finding, SuggestedOrder
from cds_service.knowledge.text import normalise

ORDER_LOOKBACK = timedelta(hours=24)


def without_ordered(findings: Iterable[Finding], facts: Facts) -> list[Finding]:
    recent = [o for o in facts.orders if o.authored is None or facts.now - o.authored <= ORDER_LOOKBACK]
    if not recent:
        return list(findings)
    out = []
    for finding in findings:
        kept = tuple(s for s in finding.suggestions if not all(_on_chart(o, recent) for o in s.orders))
        out.append(finding if kept == finding.suggestions else replace(finding, suggestions=kept))
    return out


def _on_chart(order: SuggestedOrder, chart: list[OrderOnChart]) -> bool:
    code = f"{order.system or ''}|{order.code}" if order.code else None
    names = {n for n in (normalise(order.display), normalise(order.label)) if n}
    for existing in chart:
        if existing.resource_type != order.resource_type:
            continue
        if code is not None and code in existing.codes:
            return True
        if any(name == existing.text or name in existing.text.split(" / ") for name in names):
            return True
    return False
