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


def test_the_active_crs_detail_has_an_evidence_table_with_value_unit_and_utc_time(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.active_crs(2)], patient_id="p")
    rows = parse(card.detail or "").rows
    assert rows[0] == ["What", "Value", "Unit", "Time"]
    assert ["Temperature", "38.9", "°C", "2026-11-24 14:20 UTC"] in rows
    assert ["Systolic blood pressure", "84", "mmHg", "2026-11-24 14:20 UTC"] in rows


def test_the_active_crs_detail_shows_grading_steps_differential_management_and_sources(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.active_crs(3, minimum=True)], patient_id="p")
    html = to_html(card.detail or "")
    for expected in (
        "How the grade was reached",
        "The more severe of hypotension and hypoxia gives ASTCT grade 2.",
        "Infection or sepsis",
        "Neutropenic fever",
        "Management for ASTCT grade 3",
        "Dexamethasone 10 mg IV every 6 h",
        "No vasopressor administrations were available.",
        "Biol Blood Marrow Transplant 2019;25:625",
        "J Clin Oncol 2021;39:3978",
    ):
        assert expected in html, expected


def test_label_anchored_monitoring_cites_the_label_and_institution_items_say_per_local_protocol(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.active_crs(2)], patient_id="p")
    detail = card.detail or ""
    assert "7 days after infusion (label: Yescarta US prescribing information, section 2.3)" in detail
    assert "Stay within 2 hours of the treating centre for 2 weeks (per local protocol)" in detail
    assert "(per local protocol)" in detail.split("Management for ASTCT grade 2")[1]


def test_an_evidence_label_with_pipes_and_html_stays_inside_one_cell_as_text(renderer: CardRenderer) -> None:
    hostile = Evidence(
        "Temp | <script>alert(1)</script> [x](http://evil)", "Observation/1", None, "a|b", "Cel", None
    )
    (card,) = renderer.render([cases.active_crs(2, evidence=(hostile,))], patient_id="p")
    tables = parse(card.detail or "")
    assert ["Temp | <script>alert(1)</script> [x](http://evil)", "a|b", "°C", "—"] in tables.rows
    assert "script" not in tables.tags and "a" not in tables.tags


def test_data_gap_descriptions_are_escaped_text(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.data_gap(items=["labs *refused* <b>now</b>"])], patient_id="p")
    html = to_html(card.detail or "")
    assert "labs *refused* &lt;b&gt;now&lt;/b&gt;" in html
    assert "<em>" not in html and "<b>" not in html


def test_the_pre_infusion_detail_has_a_labs_table(renderer: CardRenderer) -> None:
    (card,) = renderer.render([cases.pre_infusion_risk()], patient_id="p")
    rows = parse(card.detail or "").rows
    assert ["LDH", "612", "U/L", "2026-11-24 14:20 UTC"] in rows
    assert ["platelets", "120", "10⁹/L", "2026-11-24 14:20 UTC"] in rows


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
