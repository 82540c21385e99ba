"""One card of each kind, as a clinician sees it: a scenario's card rendered from its Markdown into a page styled
like the CDS Hooks sandbox's card list (indicator bar, summary, detail, suggestion buttons, links), for
Chromium to draw (tests/integration/test_card_gallery.py; `make cards` writes docs/images/cards/*.png).
"""

from __future__ import annotations

import html
from typing import Any

from markdown_it import MarkdownIt

#: (file name, scenario id, the card's rule id): one card of each kind the service sends.
GALLERY: tuple[tuple[str, str, str], ...] = (
    ("active-crs-grade-3", "grade-3-one-vasopressor", "crs.active"),
    ("active-crs-child", "paediatric-6y-sbp-80-hypotensive", "crs.active"),
    ("active-icans", "crs-grade-2-with-icans-grade-2", "icans.active"),
    ("monitoring-window", "class-cart-axicel-day3-quiet", "crs.monitoring-window"),
    ("monitoring-window-warning", "ferritin-above-10000", "crs.monitoring-window"),
    ("monitoring-gap", "monitoring-gap", "crs.monitoring-gap"),
    ("order-risk", "order-sign-high-teclistamab-no-premedication", "order.risk"),
    ("pre-infusion-risk", "order-sign-axicel-easix-above-cutoff", "order.pre-infusion-risk"),
    ("data-gap", "unreadable-vital-signs", "data.unreadable"),
)

COLOURS = {"critical": "#c62828", "warning": "#ef8c00", "info": "#1565c0"}

STYLE = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0;
       background: #f4f5f7; color: #212121; }
.card { width: 560px; margin: 12px; background: #fff; border-radius: 4px; box-shadow: 0 1px 3px #0003;
        border-left: 6px solid var(--bar); padding: 12px 16px; }
.summary { font-weight: 600; font-size: 15px; margin: 0 0 8px; }
.detail p, .detail ul { margin: 6px 0; } .detail ul { padding-left: 20px; }
.detail table { border-collapse: collapse; } .detail td, .detail th { border: 1px solid #ccc; padding: 2px 6px; }
.source { color: #616161; font-size: 12px; margin-top: 8px; }
.suggestions button, .links a { display: inline-block; margin: 6px 6px 0 0; padding: 4px 10px; font: inherit;
        font-size: 13px; border: 1px solid #1565c0; border-radius: 3px; background: #fff; color: #1565c0; }
"""


def card_page(card: dict[str, Any]) -> str:
    """The card as a self-contained HTML page (no network): its detail rendered from Markdown as CommonMark with
    tables, the way EHRs and the sandbox render it."""
    detail = MarkdownIt("commonmark").enable(["table"]).render(card.get("detail") or "")
    buttons = "".join(f"<button>{html.escape(s['label'])}</button>" for s in card.get("suggestions") or [])
    links = "".join(f"<a>{html.escape(link['label'])}</a>" for link in card.get("links") or [])
    source = html.escape((card.get("source") or {}).get("label", ""))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>"
        f"<div class='card' style='--bar:{COLOURS[card['indicator']]}'>"
        f"<p class='summary'>{html.escape(card['summary'])}</p><div class='detail'>{detail}</div>"
        f"<div class='suggestions'>{buttons}</div><div class='links'>{links}</div>"
        f"<div class='source'>Source: {source}</div></div></body></html>"
    )
