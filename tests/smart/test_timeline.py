"""The CRS timeline: the grade over time comes from the cards' own rule, cut to what was known at each time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cds_service.clinical.rules import RuleConfig, evaluate
from cds_service.clinical.timeline import MAX_POINTS, build_timeline, change_points
from cds_service.knowledge.loader import load_knowledge
from cds_service.web.intake import facts_from_resources
from tests.conftest import REPO
from tests.smart.chart_kit import (
    AXICEL,
    NOW,
    TOCILIZUMAB,
    administration,
    at,
    blood_pressure,
    o2_flow,
    patient,
    rising_crs_chart,
    searchset,
    temperature,
    vital,
)

KB = load_knowledge(REPO / "cards")
CONFIG = RuleConfig()


def timeline_of(resources, now: datetime = NOW):
    return build_timeline(facts_from_resources(resources, KB, now), KB, CONFIG)


def grade_at(tl, moment: str):
    t = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    (step,) = [s for s in tl.crs if s.start <= t < s.end or (s.end == t == tl.now)]
    return step.grade


def test_the_grade_rises_with_fever_then_hypotension_then_a_vasopressor() -> None:
    tl = timeline_of(rising_crs_chart())
    assert grade_at(tl, at(20)) is None  # inside the window, no sign yet
    assert grade_at(tl, at(8)) == 1  # fever from 10 h ago
    assert grade_at(tl, at(5)) == 2  # systolic 84 from 6 h ago
    assert grade_at(tl, at(1)) == 3  # norepinephrine from 2 h ago
    assert [s.start for s in tl.crs if s.grade == 2] == [NOW - timedelta(hours=6)]


def test_the_last_step_is_the_card_the_ehr_shows_now() -> None:
    facts = facts_from_resources(rising_crs_chart(), KB, NOW)
    (card,) = [f for f in evaluate(facts, KB, hook="patient-view", config=CONFIG) if f.rule_id.startswith("crs.")]
    tl = build_timeline(facts, KB, CONFIG)
    assert (tl.crs[-1].rule_id, tl.crs[-1].grade, tl.crs[-1].end) == (card.rule_id, card.astct_grade, NOW)
    assert tl.finding is not None and tl.finding.astct_grade == card.astct_grade == 3


def test_a_value_recorded_later_does_not_change_the_grade_before_it() -> None:
    chart = [patient(), administration("ma-axicel", AXICEL, 72), temperature("t-late", 2, 39.5)]
    tl = timeline_of(chart)
    assert grade_at(tl, at(3)) is None
    assert grade_at(tl, at(1)) == 1


def test_a_fever_leaves_the_grade_when_it_leaves_the_24_hour_window() -> None:
    chart = [patient(), administration("ma-axicel", AXICEL, 72), temperature("t-old", 40, 38.9)]
    tl = timeline_of(chart)
    assert grade_at(tl, at(30)) == 1
    assert grade_at(tl, at(10)) is None
    (fever,) = [s for s in tl.crs if s.grade == 1]
    assert fever.end - fever.start == timedelta(hours=24, seconds=1)


def test_tocilizumab_lets_hypotension_be_graded_without_fever_from_the_dose_on() -> None:
    chart = [
        patient(),
        administration("ma-axicel", AXICEL, 72),
        administration("ma-toci", TOCILIZUMAB, 12),
        blood_pressure("bp-low", 20, 82),
    ]
    tl = timeline_of(chart)
    assert grade_at(tl, at(15)) is None  # hypotension without fever, before tocilizumab: no grade
    assert grade_at(tl, at(10)) == 2
    assert [t.treatment_id for t in tl.treatments] == ["tocilizumab"]


def test_the_timeline_starts_a_day_before_the_infusion_and_outside_any_window_14_days_back() -> None:
    assert timeline_of(rising_crs_chart()).start == NOW - timedelta(hours=72 + 24)
    assert timeline_of([patient(), temperature("t", 5, 37)]).start == NOW - timedelta(days=14)


def test_the_systolic_threshold_is_the_childs_own_and_90_for_an_adult() -> None:
    adult = timeline_of(rising_crs_chart()).systolic_thresholds
    assert [(s.value, s.group) for s in adult] == [(90.0, "adult")]
    child = [patient(birth_date=(NOW - timedelta(days=6 * 365 + 100)).date().isoformat()), *rising_crs_chart()[1:]]
    steps = timeline_of(child).systolic_thresholds
    assert [(s.value, s.group) for s in steps] == [(82.0, "age 6 years")]


def test_a_temperature_in_an_unknown_unit_is_marked_not_usable_and_not_drawn() -> None:
    chart = [patient(), administration("ma-axicel", AXICEL, 72), temperature("t-k", 3, 311.0, unit="K")]
    tl = timeline_of(chart)
    assert [(u.concept, u.reference) for u in tl.unusable] == [("temperature", "Observation/t-k")]
    assert "K" in tl.unusable[0].reason
    assert tl.series["temperature"] == ()
    assert tl.crs[-1].cannot_exclude == ("fever",)


def test_oxygen_records_become_bands_until_the_next_record() -> None:
    chart = [patient(), administration("ma-axicel", AXICEL, 72), o2_flow("f-1", 10, 2), o2_flow("f-2", 4, 10)]
    bands = timeline_of(chart).oxygen
    assert [(b.flow_l_min, b.start, b.end) for b in bands] == [
        (2.0, NOW - timedelta(hours=10), NOW - timedelta(hours=4)),
        (10.0, NOW - timedelta(hours=4), NOW),
    ]


def test_neurological_scores_are_drawn_from_the_facts() -> None:
    chart = [patient(), administration("ma-axicel", AXICEL, 72), vital("gcs-1", "9269-2", 5, 13, "{score}")]
    gcs = timeline_of(chart).series["gcs"]
    assert [(m.value, m.reference) for m in gcs] == [(13.0, "Observation/gcs-1")]


def ice_score(oid: str, hours: float, score: int) -> dict:
    raw = vital(oid, "0000-0", hours, score, "{score}")
    raw["code"] = {"text": "ICE score"}  # no verified code: matched by name (cards/icans.yaml)
    return raw


def test_the_icans_grade_follows_the_ice_scores_with_the_cards_own_rule() -> None:
    chart = [patient(), administration("ma-axicel", AXICEL, 120),
             ice_score("ice-1", 30, 10), ice_score("ice-2", 12, 8), ice_score("ice-3", 3, 4)]
    facts = facts_from_resources(chart, KB, NOW)
    tl = build_timeline(facts, KB, CONFIG)
    steps = [(s.start, s.severity, s.grade) for s in tl.icans]
    assert steps[-2:] == [(NOW - timedelta(hours=12), "warning", 1), (NOW - timedelta(hours=3), "critical", 2)]
    (before,) = [s for s in tl.icans if s.start <= NOW - timedelta(hours=20) < s.end]
    assert before.severity is None  # ICE 10/10 30 h ago: no ICANS card then
    (card,) = [f for f in evaluate(facts, KB, hook="patient-view", config=CONFIG) if f.rule_id == "icans.active"]
    assert (tl.icans[-1].grade, tl.icans[-1].is_minimum, tl.icans[-1].tool) == (
        card.icans_grade, card.icans_grade_is_minimum, "ICE")
    assert [m.value for m in tl.series["ice_score"]] == [10.0, 8.0, 4.0]


def test_a_seizure_makes_the_icans_step_critical_from_its_time() -> None:
    seizure = {"resourceType": "Condition", "id": "sz", "subject": {"reference": "Patient/" + patient()["id"]},
               "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                              "code": "active"}]},
               "code": {"text": "Seizure"}, "onsetDateTime": at(5)}
    tl = timeline_of([patient(), administration("ma-axicel", AXICEL, 120), seizure])
    last = tl.icans[-1]
    assert (last.start, last.severity, last.seizure) == (NOW - timedelta(hours=5), "critical", True)
    assert tl.icans[-2].severity is None


def test_consecutive_equal_steps_are_merged_and_steps_tile_the_span() -> None:
    tl = timeline_of(rising_crs_chart())
    assert tl.crs[0].start == tl.start and tl.crs[-1].end == NOW
    assert all(a.end == b.start for a, b in zip(tl.crs, tl.crs[1:], strict=False))
    assert all((a.grade, a.rule_id) != (b.grade, b.rule_id) or a.is_minimum != b.is_minimum
               for a, b in zip(tl.crs, tl.crs[1:], strict=False))


def test_too_many_change_points_are_moved_onto_a_grid_and_the_timeline_says_so() -> None:
    hourly = [temperature(f"t-{q}", q / 4, 37.0 + (q % 3) * 0.6) for q in range(1, 14 * 24 * 4)]
    facts = facts_from_resources([patient(), administration("ma-axicel", AXICEL, 14 * 24), searchset(*hourly)], KB, NOW)
    points, on_grid = change_points(facts, KB, NOW - timedelta(days=14), 24)
    assert on_grid and len(points) <= MAX_POINTS and points[-1] == NOW
    tl = build_timeline(facts, KB, CONFIG)
    assert tl.points_capped and tl.crs[-1].end == NOW


@pytest.mark.parametrize("hours", [0.5, 47.0])
def test_the_rule_runs_at_the_moment_a_value_is_recorded(hours: float) -> None:
    facts = facts_from_resources([patient(), administration("ma-axicel", AXICEL, 72), temperature("t", hours, 38.5)],
                                 KB, NOW)
    points, _ = change_points(facts, KB, NOW - timedelta(days=4), 24)
    assert NOW - timedelta(hours=hours) in points
