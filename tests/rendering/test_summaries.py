"""Summaries: every variant of every template stays under 140 characters with worst-case parameters.

Worst case: the longest drug name of the knowledge base (the test set's is longer than any real one), four
more drugs in their windows, 3-digit day and hour counts, long lists. The grade is never cut; lists shrink.
"""

from __future__ import annotations

import re

import pytest
import rendering_cases as cases
from rendering_fakes import LONGEST_TEST_NAME, FakeKnowledge

from cds_service.domain.findings import DrugRef, Finding
from cds_service.rendering.registry import TEMPLATE_SPECS
from cds_service.rendering.renderer import CardRenderer
from cds_service.rendering.templates import TemplateSet, placeholders

LONG = DrugRef("longest-name", LONGEST_TEST_NAME, "anti-thymocyte-globulin", "moderate")
OTHERS = [LONGEST_TEST_NAME + f" {i}" for i in range(4)]
LONG_LIST = [f"{LONGEST_TEST_NAME} premedication {i}" for i in range(6)]
WINDOW = {"drug_name": LONGEST_TEST_NAME, "other_drugs": OTHERS, "days_since_exposure": 999}
NEURO = [{"id": "ferritin-hlh", "value": 99999, "threshold": 10000, "effective": "2026-11-24T14:00:00Z"}] * 3


def _crs(variant_params: dict[str, object], grade: int | None, minimum: bool = False) -> Finding:
    finding = cases.active_crs(grade, minimum=minimum, **WINDOW, **variant_params)
    return _with_drug(finding)


def _with_drug(finding: Finding) -> Finding:
    from dataclasses import replace

    return replace(finding, drug=LONG, days_since_exposure=finding.params.get("days_since_exposure", 999))


WORST_CASES: list[tuple[str, str, Finding]] = [
    ("active-crs", "possible", _crs({}, 4)),
    ("active-crs", "possible-minimum", _crs({}, 4, minimum=True)),
    ("active-crs", "documented", _crs({"status": "documented"}, 4)),
    ("active-crs", "documented-minimum", _crs({"status": "documented"}, 4, minimum=True)),
    ("active-crs", "documented-ungraded", _crs({"status": "documented"}, None)),
    ("active-crs", "documented-conflict", _crs({"status": "documented", "documented_grade": 4}, 1)),
    (
        "active-crs",
        "documented-conflict-minimum",
        _crs({"status": "documented", "documented_grade": 4}, 3, minimum=True),
    ),
    ("active-crs", "documented-conflict-ungraded", _crs({"status": "documented", "documented_grade": 4}, None)),
    ("active-crs", "no-fever", _crs({"fever": False}, None)),
    ("active-crs", "no-temperature", _crs({"fever": None}, None)),
    ("active-crs", "ungraded", _crs({"hypotension": False, "hypoxia": None}, None)),
    ("monitoring-window", "quiet", _with_drug(cases.monitoring_window(**WINDOW))),
    ("monitoring-window", "quiet-neuro", _with_drug(cases.monitoring_window(**WINDOW, neuro_tool="ICE"))),
    ("monitoring-window", "warning", _with_drug(cases.monitoring_window(**WINDOW, signals=NEURO))),
    (
        "monitoring-window",
        "unexcluded",
        _with_drug(cases.monitoring_window(**WINDOW, cannot_exclude=["fever", "hypotension", "hypoxia"])),
    ),
    ("monitoring-window", "unread", _with_drug(cases.monitoring_window(**WINDOW, vital_signs_unread=True))),
    (
        "monitoring-window",
        "unread-neuro",
        _with_drug(cases.monitoring_window(**WINDOW, vital_signs_unread=True, neuro_tool="ICE", icans_open=True)),
    ),
    ("monitoring-window", "unmeasured", _with_drug(cases.monitoring_window(**WINDOW, unmeasured=True))),
    (
        "monitoring-window",
        "icans-open",
        _with_drug(cases.monitoring_window(**WINDOW, neuro_tool="ICE", icans_open=True)),
    ),
    ("active-icans", "graded", _with_drug(cases.active_icans(4, **WINDOW))),
    ("active-icans", "graded-minimum", _with_drug(cases.active_icans(3, minimum=True, **WINDOW))),
    ("active-icans", "seizure", _with_drug(cases.active_icans(4, seizure=True, **WINDOW))),
    ("active-icans", "documented", _with_drug(cases.active_icans(None, documented=True, documented_grade=4, **WINDOW))),
    ("active-icans", "documented-ungraded", _with_drug(cases.active_icans(None, documented=True, **WINDOW))),
    ("active-icans", "gcs", _with_drug(cases.active_icans(None, low_gcs=3, tool="CAPD", **WINDOW))),
    ("monitoring-gap", "gap", _with_drug(cases.monitoring_gap(drug_name=LONGEST_TEST_NAME, hours=999))),
    ("data-gap", "unreadable", cases.data_gap(items=["x" * 500] * 20, skipped_count=99999)),
    ("data-gap", "signs", cases.data_gap(items=["x" * 500] * 20, signs=["fever", "hypotension", "hypoxia"])),
    ("order-risk", "high-boxed", cases.order_risk(LONG, tier="high", already_exposed_days=999)),
    ("order-risk", "high", cases.order_risk(LONG, tier="high", boxed_warning=False)),
    ("order-risk", "moderate", cases.order_risk(LONG, tier="moderate")),
    ("order-risk", "low", cases.order_risk(LONG, tier="low")),
    (
        "order-risk",
        "high-boxed-neuro",
        cases.order_risk(
            LONG, tier="high", boxed_neurotoxicity=True, missing_premedication=LONG_LIST, missing_baseline=LONG_LIST
        ),
    ),
    (
        "pre-infusion-risk",
        "computed",
        _with_drug(
            cases.pre_infusion_risk(drug_name=LONGEST_TEST_NAME, easix=123456.789, reference_cutoff=4.67)
        ),
    ),
    (
        "pre-infusion-risk",
        "not-computable",
        _with_drug(
            cases.pre_infusion_risk(
                drug_name=LONGEST_TEST_NAME,
                easix=None,
                m_easix=None,
                missing_labs=["lactate dehydrogenase", "creatinine", "platelets", "C-reactive protein"],
            )
        ),
    ),
]


def _variant_pattern(text: str) -> re.Pattern[str]:
    """A regex for a template summary: literal text kept, each placeholder any non-empty text."""
    parts = re.split(r"\{[A-Za-z_]+\}", text)
    return re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$", re.IGNORECASE | re.DOTALL)


def test_the_worst_cases_cover_every_summary_variant_of_every_template() -> None:
    covered = {(template, variant) for template, variant, _ in WORST_CASES}
    declared = {(template, v) for template, spec in TEMPLATE_SPECS.items() for v in spec.summaries}
    assert covered == declared


@pytest.mark.parametrize(
    ("template", "variant", "finding"), WORST_CASES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_worst_case_summary_stays_under_140_characters_and_keeps_its_wording(
    renderer: CardRenderer, templates: TemplateSet, template: str, variant: str, finding: Finding
) -> None:
    (card,) = renderer.render([finding], patient_id="p")
    assert len(card.summary) < 140
    assert _variant_pattern(templates.cards[template].summaries[variant]).match(card.summary), card.summary


@pytest.mark.parametrize("grade", [1, 2, 3, 4])
def test_the_grade_survives_shortening_of_a_long_drug_list(renderer: CardRenderer, grade: int) -> None:
    (card,) = renderer.render([_crs({}, grade)], patient_id="p")
    assert f"ASTCT grade {grade}," in card.summary
    assert card.summary.startswith(f"Possible CRS, ASTCT grade {grade}, 999 days after anti-thymocyte globulin")
    assert card.summary.endswith(ACTIONS[grade])  # the next action is never what gets cut


ACTIONS = {
    1: ": supportive care and infection work-up",
    2: ": tocilizumab, IV fluids, consider ICU",
    3: ": ICU, tocilizumab and a corticosteroid",
    4: ": ICU, tocilizumab, high-dose methylprednisolone",
}


def test_a_long_drug_list_is_shortened_to_the_first_drug_and_a_count(renderer: CardRenderer) -> None:
    finding = cases.active_crs(2, other_drugs=["tisagenlecleucel", "teclistamab", "rituximab"])
    (card,) = renderer.render([finding], patient_id="p")
    assert card.summary == (
        "Possible CRS, ASTCT grade 2, 3 days after axicabtagene ciloleucel and 3 more: "
        "tocilizumab, IV fluids, consider ICU"
    )


def test_other_drugs_are_all_named_when_they_fit(renderer: CardRenderer) -> None:
    finding = cases.active_crs(2, other_drugs=["tisagenlecleucel"])
    (card,) = renderer.render([finding], patient_id="p")
    assert card.summary == (
        "Possible CRS, ASTCT grade 2, 3 days after axicabtagene ciloleucel and tisagenlecleucel: "
        "tocilizumab, IV fluids, consider ICU"
    )


def test_every_template_summary_names_only_declared_placeholders(templates: TemplateSet) -> None:
    for card in templates.cards.values():
        for text in card.summaries.values():
            assert placeholders(text) <= set(card.params)


def test_the_test_knowledge_base_name_is_at_least_as_long_as_any_catalogue_drug_name() -> None:
    longest = max(len(d.generic_name) for d in FakeKnowledge().drugs.values())
    assert len(LONGEST_TEST_NAME) == longest >= 60
