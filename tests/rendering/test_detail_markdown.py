"""Card detail: well-formed GitHub-Flavoured Markdown with an evidence table; data cannot inject markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import rendering_cases as cases
from markdown_it import MarkdownIt
from test_golden_cards import SCENARIOS

from cds_service.domain.findings import Evidence
from cds_service.rendering.renderer import CardRenderer


def to_html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


class _Tables(HTMLParser):
    """Collects table rows as lists of cell texts, and every tag name seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(markdown: str) -> _Tables:
    parser = _Tables()
    parser.feed(to_html(markdown))
    return parser


def _found(markdown: str) -> str:
    return next(block for block in markdown.split("\n\n") if block.startswith("**Found:**"))


def test_the_active_crs_detail_states_each_value_rounded_with_its_unit_and_local_time(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.active_crs(2)], patient_id="p")
    assert _found(card.detail or "") == (
        "**Found:** Temperature 38.9 °C at 14:20 UTC; systolic blood pressure 84 mmHg at 14:20 UTC; "
        "oxygen flow 2 L/min at 14:20 UTC."
    )


def test_the_active_crs_detail_goes_found_grade_missing_now_consider_sources_in_that_order(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.active_crs(3, minimum=True)], patient_id="p")
    detail = card.detail or ""
    order = ["**Found:**", "**ASTCT 2019:**", "**Not recorded or not usable:**", "**Do now**", "**Consider**",
             "Sources:"]
    positions = [detail.index(heading) for heading in order]
    assert positions == sorted(positions)
    for expected in (
        "No vasopressor administrations were available.",
        "Dexamethasone 10 mg IV every 6 h; taper once improved.",
        "Neutropenic fever: empiric broad-spectrum antibiotics now",
        "Sources: ASTCT 2019; ASCO 2021;",
    ):
        assert expected in detail, expected
    assert ".." not in detail


def test_institution_items_say_per_local_protocol_once_after_their_own_words(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.active_crs(2)], patient_id="p")
    detail = card.detail or ""
    assert "- IV fluid bolus 500-1000 mL normal saline; repeat if systolic stays low (per local protocol).\n" in detail
    assert ". (per local protocol)" not in detail


def test_a_hostile_evidence_label_stays_text(renderer: CardRenderer) -> None:
    hostile = Evidence(
        "Temp | <script>alert(1)</script> [x](http://evil)", "Observation/1", None, "a|b", "Cel", None
    )
    (card,) = renderer.render([cases.active_crs(2, evidence=(hostile,))], patient_id="p")
    html = to_html(card.detail or "")
    assert "Temp | &lt;script&gt;alert(1)&lt;/script&gt; [x](http://evil) a|b °C" in html
    tags = parse(card.detail or "").tags
    assert "script" not in tags and "a" not in tags


def test_data_gap_descriptions_are_escaped_text(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.data_gap(items=["labs *refused* <b>now</b>"])], patient_id="p")
    html = to_html(card.detail or "")
    assert "labs *refused* &lt;b&gt;now&lt;/b&gt;" in html
    assert "<em>" not in html and "<b>" not in html


def test_the_pre_infusion_detail_states_the_labs_it_used_and_cites_korell_once(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.pre_infusion_risk()], patient_id="p")
    detail = card.detail or ""
    assert "Pre-infusion labs: LDH 612 U/L, creatinine 1.2 mg/dL, platelets 120 ×10⁹/L (14:20 UTC)." in detail
    assert detail.endswith("Sources: Korell 2022.")
    assert "Front Immunol" not in detail  # the full citation is behind the link, not on the card


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_detail_parses_with_tables_of_consistent_width_and_no_raw_html(
    renderer: CardRenderer, scenario: str
) -> None:
    for card in renderer.render(SCENARIOS[scenario](), patient_id="p"):
        markdown = card.detail or ""
        tables = parse(markdown)
        assert tables.tags <= {
            "p",
            "h4",
            "ul",
            "li",
            "strong",
            "em",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        }
        widths = {len(row) for row in tables.rows}
        assert len(widths) <= 2  # the 4-column evidence table and the 2-column last-recorded table
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", markdown), "times must read 2026-11-24 14:20 UTC"


@pytest.mark.parametrize(
    "hostile", ["1. not a list", "- not a list", "+ not a list", "# not a heading", "==="]
)
def test_data_that_starts_like_markdown_blocks_stays_one_bullet_of_text(
    renderer: CardRenderer, hostile: str
) -> None:
    (card,) = renderer.render([cases.data_gap(items=[hostile], skipped_count=0)], patient_id="p")
    html = to_html(card.detail or "")
    assert f"<li>{hostile}</li>" in html
    assert html.count("<li>") == 1 and "<ol" not in html and "<h1>" not in html
