"""Each kind of card, drawn by Debian chromium from the Markdown the service sends: what the clinician reads first
(the finding and "Do now") sits at the top of the card, and the card fits a sandbox column without scrolling.

`make cards` runs this with CRS_CDS_WRITE_CARDS=1, which also writes the screenshots of docs/CARDS.md to
docs/images/cards/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cds_service.tooling.scenarios import build_request, load_scenarios
from cds_service.tooling.validation import scenario_settings
from tests.conftest import FIXTURES, NOW, REPO, make_client
from tests.integration.browser import chromium_context
from tests.integration.card_gallery import GALLERY, card_page

OUT = REPO / "docs" / "images" / "cards"
WRITE = os.environ.get("CRS_CDS_WRITE_CARDS") == "1"
SCENARIOS = {s.id: s for s in load_scenarios(FIXTURES)}
#: A sandbox card column at 1280 px is about 900 px tall: "Do now" must start well inside it.
DO_NOW_WITHIN_PX = 420
CARD_MAX_PX = 900


def _card(tmp_path: Path, scenario_id: str, rule_id: str) -> dict[str, Any]:
    scenario = SCENARIOS[scenario_id]
    settings = scenario_settings(scenario, database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with make_client(settings) as client:
        response = client.post(f"/cds-services/{scenario.service}", json=build_request(scenario, NOW))
    assert response.status_code == 200, response.text
    cards = [c for c in response.json()["cards"] if c["extension"]["org.crs-cds.finding"]["ruleId"] == rule_id]
    assert cards, f"{scenario_id} sent no {rule_id} card"
    return cards[0]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), viewport={"width": 600, "height": 1000}) as b:
        yield b


@pytest.mark.parametrize(("name", "scenario_id", "rule_id"), GALLERY, ids=[g[0] for g in GALLERY])
def test_the_card_reads_top_down_and_fits_a_sandbox_column(
    browser: Any, tmp_path: Path, name: str, scenario_id: str, rule_id: str
) -> None:
    card = _card(tmp_path, scenario_id, rule_id)
    page = browser.new_page()
    try:
        page.set_content(card_page(card))
        box = page.locator(".card").bounding_box()
        assert box is not None and box["height"] <= CARD_MAX_PX, f"{name}: card {box} taller than {CARD_MAX_PX} px"
        assert page.locator(".summary").inner_text() == card["summary"]
        do_now = page.locator("p", has_text="Do now")
        if "**Do now**" in (card.get("detail") or ""):
            top = do_now.first.bounding_box()
            assert top is not None and top["y"] - box["y"] <= DO_NOW_WITHIN_PX, f"{name}: 'Do now' at {top}"
        if WRITE:
            OUT.mkdir(parents=True, exist_ok=True)
            page.locator(".card").screenshot(path=str(OUT / f"{name}.png"))
    finally:
        page.close()
