"""Observations -> Measurements: statuses, times, panels, SpO2 codings, units and notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cds_service.domain.facts import Measurement, UnusableValue
from cds_service.reading.times import FUTURE_SKEW_TOLERANCE
from tests.clinical.facts_kit import (
    NOW,
    UCUM,
    component,
    direct_facts,
    facts_of,
    hours_ago,
    iso,
    observation,
    quantity,
)

TEMP = "8310-5"


def temperature(value: float = 38.5, unit: str = "Cel", **kw) -> dict:
    return observation(TEMP, quantity(value, unit), **kw)


def only(facts, concept: str) -> Measurement:
    series = facts.series(concept)
    assert len(series) == 1, series
    return series[0]


@pytest.mark.parametrize(
    ("status", "used"),
    [
        ("final", True),
        ("amended", True),
        ("corrected", True),
        ("preliminary", True),
        ("registered", False),
        ("cancelled", False),
        ("entered-in-error", False),
        ("unknown", False),
    ],
)
def test_observation_status_decides_whether_the_value_is_used(status: str, used: bool):
    facts = direct_facts(temperature(status=status))
    assert len(facts.series("temperature")) == (1 if used else 0)


def test_a_value_with_a_data_absent_reason_is_skipped():
    raw = observation(TEMP, None, dataAbsentReason={"text": "not performed"})
    facts = facts_of(raw)
    assert facts.measurements == ()
    assert facts.quality_notes == ()


def test_a_temperature_in_fahrenheit_is_read_in_celsius():
    m = only(facts_of(temperature(100.4, "[degF]")), "temperature")
    assert (m.value, m.unit, m.code, m.reference) == (38.0, "Cel", TEMP, "Observation/o1")


def test_a_temperature_with_an_unknown_unit_is_not_used_and_noted_without_its_value():
    facts = facts_of(temperature(311.6, "K"))
    assert facts.measurements == ()
    assert facts.quality_notes == ("temperature with unit 'K' not used (unit not known to the service)",)
    assert "311" not in facts.quality_notes[0]


def test_a_value_with_a_comparator_is_not_used():
    raw = observation("1988-5", {**quantity(5, "mg/L"), "comparator": "<"})
    facts = facts_of(raw)
    assert facts.series("crp") == ()
    assert facts.quality_notes == ("crp given with a comparator (<) not used",)


def test_repeated_notes_are_counted_once():
    facts = facts_of(temperature(1, "K", id="a"), temperature(2, "K", id="b"))
    assert facts.quality_notes == ("temperature with unit 'K' not used (unit not known to the service) (2 times)",)


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        ({"effectiveDateTime": "2026-11-24T08:00:00+02:00"}, datetime(2026, 11, 24, 6, tzinfo=UTC)),
        ({"effectiveInstant": "2026-11-24T09:30:00Z"}, datetime(2026, 11, 24, 9, 30, tzinfo=UTC)),
        (
            {"effectivePeriod": {"start": "2026-11-24T07:00:00Z", "end": "2026-11-24T08:00:00Z"}},
            datetime(2026, 11, 24, 8, tzinfo=UTC),
        ),
        ({"effectivePeriod": {"start": "2026-11-24T07:00:00Z"}}, datetime(2026, 11, 24, 7, tzinfo=UTC)),
        ({"effectiveDateTime": "2026-11-23"}, datetime(2026, 11, 23, tzinfo=UTC)),
    ],
)
def test_the_effective_time_comes_from_each_effective_form(timing: dict, expected: datetime):
    raw = observation(TEMP, quantity(38.2, "Cel"), **timing)
    assert only(facts_of(raw), "temperature").effective == expected


def test_an_observation_without_a_time_is_not_used_and_noted():
    raw = observation(TEMP, quantity(38.2, "Cel"))
    del raw["effectiveDateTime"]
    facts = facts_of(raw)
    assert facts.measurements == ()
    assert facts.quality_notes == ("an observation without a readable effective time was not used",)
    (unusable,) = facts.unusable
    assert (unusable.concept, unusable.reason) == ("temperature", "it has no time")


def bp_panel(sbp: float, dbp: float, *extra: dict) -> dict:
    return observation(
        "85354-9",
        None,
        components=[component("8480-6", quantity(sbp, "mm[Hg]")), component("8462-4", quantity(dbp, "mm[Hg]")), *extra],
    )


def test_a_blood_pressure_panel_gives_systolic_diastolic_and_a_computed_map():
    facts = facts_of(bp_panel(84, 45))
    assert (only(facts, "systolic").value, only(facts, "diastolic").value) == (84.0, 45.0)
    mean = only(facts, "map")
    assert (mean.value, mean.code, mean.reference) == (58.0, "computed-map", "Observation/o1")


def test_a_measured_map_in_the_panel_is_used_instead_of_a_computed_one():
    facts = facts_of(bp_panel(84, 45, component("8478-0", quantity(61, "mm[Hg]"))))
    mean = only(facts, "map")
    assert (mean.value, mean.code) == (61.0, "8478-0")


def test_a_panel_component_with_a_data_absent_reason_gives_no_value_and_no_computed_map():
    raw = observation(
        "85354-9",
        None,
        components=[
            component("8480-6", quantity(84, "mm[Hg]")),
            component("8462-4", dataAbsentReason={"text": "not measured"}),
        ],
    )
    facts = facts_of(raw)
    assert [m.concept for m in facts.measurements] == ["systolic"]


def test_standalone_systolic_and_diastolic_are_read_without_a_computed_map():
    facts = facts_of(
        observation("8480-6", quantity(88, "mmHg"), id="s"),
        observation("8462-4", quantity(50, "mm[Hg]"), id="d"),
        observation("8478-0", quantity(63, "mm[Hg]"), id="m"),
    )
    assert only(facts, "systolic").value == 88.0
    assert only(facts, "diastolic").value == 50.0
    assert only(facts, "map").code == "8478-0"


def test_a_systolic_in_kilopascals_is_read_in_mmhg():
    m = only(facts_of(observation("8480-6", quantity(11.2, "kPa"), id="s")), "systolic")
    assert (round(m.value, 1), m.unit) == (84.0, "mm[Hg]")  # 11.2 kPa / 0.133322 (UCUM): hypotension stays visible


def test_a_pulse_oximetry_observation_with_both_spo2_codings_is_one_measurement():
    raw = observation(["2708-6", "59408-5"], quantity(90, "%"))
    m = only(facts_of(raw), "spo2")
    assert (m.value, m.code) == (90.0, "2708-6")


def test_spo2_is_read_from_either_code_alone():
    facts = facts_of(
        observation("59408-5", quantity(93, "%"), id="a", when=hours_ago(3)),
        observation("2708-6", quantity(95, "%"), id="b", when=hours_ago(1)),
    )
    assert [m.value for m in facts.series("spo2")] == [93.0, 95.0]


def test_pulse_oximetry_components_give_o2_flow_and_fio2():
    raw = observation(
        ["59408-5", "2708-6"],
        quantity(91, "%"),
        components=[component("3151-8", quantity(3, "L/min")), component("3150-0", quantity(32, "%"))],
    )
    facts = facts_of(raw)
    assert only(facts, "o2_flow").value == 3.0
    assert only(facts, "fio2").value == 32.0


def test_fio2_given_as_a_fraction_is_read_as_a_percentage():
    m = only(facts_of(observation("3150-0", quantity(0.6, "1"))), "fio2")
    assert (m.value, m.unit) == (60.0, "%")


@pytest.mark.parametrize(("code", "value", "unit"), [("3150-0", 40, "1"), ("3150-0", 101, "%"), ("59408-5", 930, "%")])
def test_a_percentage_outside_0_to_100_is_not_used(code: str, value: float, unit: str):
    facts = facts_of(observation(code, quantity(value, unit)))
    assert facts.measurements == ()
    assert len(facts.quality_notes) == 1
    assert "outside 0-100 %" in facts.quality_notes[0]


def test_labs_are_read_in_canonical_units():
    facts = facts_of(
        observation("1988-5", quantity(4.2, "mg/dL"), id="crp"),
        observation("2160-0", quantity(97.3, "umol/L"), id="cr"),
        observation("777-3", quantity(85, "10*3/uL"), id="plt"),
        observation("3255-7", quantity(1.8, "g/L"), id="fib"),
        observation("751-8", quantity(0.3, "10*9/L"), id="anc"),
    )
    assert only(facts, "crp").value == pytest.approx(42.0)
    assert only(facts, "creatinine").value == pytest.approx(1.1004, abs=1e-4)
    assert only(facts, "platelets").unit == "10*9/L"
    assert only(facts, "fibrinogen").value == pytest.approx(180.0)
    assert only(facts, "neutrophils").value == 0.3


def test_a_glasgow_coma_score_may_be_an_integer_value():
    raw = observation("9269-2", None, valueInteger=13)
    m = only(facts_of(raw), "gcs")
    assert (m.value, m.unit) == (13.0, "{score}")


def test_a_numeric_concept_given_as_an_integer_is_not_used():
    raw = observation(TEMP, None, valueInteger=38)
    assert facts_of(raw).measurements == ()


def test_an_observation_the_knowledge_base_does_not_know_is_ignored():
    raw = observation("39156-5", quantity(24.1, "kg/m2"))  # BMI: no rule reads it
    facts = facts_of(raw)
    assert facts.measurements == ()
    assert facts.quality_notes == ()


def test_the_ucum_code_is_read_even_when_the_display_unit_is_missing():
    raw = observation(TEMP, {"value": 100.4, "system": UCUM, "code": "[degF]"})
    assert only(facts_of(raw), "temperature").value == 38.0


def test_measurements_are_oldest_first_in_a_series():
    facts = facts_of(
        temperature(38.9, id="late", when=hours_ago(1)),
        temperature(37.2, id="early", when=hours_ago(10)),
    )
    assert [m.reference for m in facts.series("temperature")] == ["Observation/early", "Observation/late"]
    assert all(m.effective <= NOW for m in facts.measurements)


# ---------------------------------------------------------------- unusable values


@pytest.mark.parametrize(
    ("raw", "concept", "reason"),
    [
        (temperature(101.3, "degrees F"), "temperature", "unit 'degrees F' is not known"),
        (observation("777-3", quantity(85, "thousand/cmm")), "platelets", "unit 'thousand/cmm' is not known"),
        (observation("1988-5", {**quantity(5, "mg/L"), "comparator": "<"}), "crp", "value has a comparator (<)"),
        (observation("59408-5", quantity(930, "%")), "spo2", "outside 0-100 %: value and unit disagree"),
        (observation(TEMP, None, valueString="38.6"), "temperature", "value is not a quantity"),
        (observation(TEMP, None, valueInteger=38), "temperature", "value is not a quantity"),
    ],
)
def test_a_refused_value_is_kept_as_unusable_with_a_reason_that_never_names_the_value(raw, concept, reason):
    facts = facts_of(raw)
    assert facts.measurements == ()
    (unusable,) = facts.unusable
    assert (unusable.concept, unusable.effective, unusable.reason, unusable.reference) == (
        concept, NOW - timedelta(hours=2), reason, "Observation/o1"
    )
    assert len(facts.quality_notes) == 1
    assert not any(digit in reason + facts.quality_notes[0] for digit in ("101", "85", "930", "38", "5)"))


def test_a_refused_panel_component_is_unusable_and_the_other_components_are_used():
    facts = facts_of(bp_panel(84, 45, component("8478-0", quantity(61, "cm[H2O]"))))
    assert only(facts, "systolic").value == 84.0
    assert [(u.concept, u.reason) for u in facts.unusable] == [("map", "unit 'cm[H2O]' is not known")]


def test_unusable_values_are_sorted_by_time():
    facts = facts_of(
        temperature(1, "K", id="late", when=hours_ago(1)),
        temperature(2, "K", id="early", when=hours_ago(5)),
    )
    assert [u.reference for u in facts.unusable] == ["Observation/early", "Observation/late"]


def test_a_usable_value_is_not_unusable():
    assert facts_of(temperature(38.6)).unusable == ()


# ---------------------------------------------------------------- times in the future


def test_the_clock_skew_tolerance_is_fifteen_minutes():
    assert timedelta(minutes=15) == FUTURE_SKEW_TOLERANCE


@pytest.mark.parametrize("minutes", [1, 3, 15])
def test_a_value_a_few_minutes_in_the_future_is_used_as_taken_now(minutes: int):
    facts = facts_of(temperature(38.6, when=iso(NOW + timedelta(minutes=minutes))))
    m = only(facts, "temperature")
    assert (m.value, m.effective) == (38.6, NOW)
    assert (facts.unusable, facts.quality_notes) == ((), ())


def test_a_value_beyond_the_clock_skew_tolerance_is_unusable_and_noted():
    later = NOW + timedelta(minutes=16)
    facts = facts_of(temperature(38.6, when=iso(later)))
    assert facts.measurements == ()
    assert facts.unusable == (UnusableValue("temperature", later, "recorded in the future", "Observation/o1"),)
    assert facts.quality_notes == ("temperature recorded in the future not used",)


def test_a_panel_in_the_future_makes_each_of_its_values_unusable():
    raw = bp_panel(84, 45)
    raw["effectiveDateTime"] = iso(NOW + timedelta(hours=2))
    facts = facts_of(raw)
    assert facts.measurements == ()
    assert sorted(u.concept for u in facts.unusable) == ["diastolic", "systolic"]


def test_a_period_whose_end_is_after_now_is_read_at_its_start():
    timing = {"effectivePeriod": {"start": hours_ago(1), "end": iso(NOW + timedelta(minutes=30))}}
    facts = facts_of(observation(TEMP, quantity(38.6, "Cel"), **timing))
    assert only(facts, "temperature").effective == NOW - timedelta(hours=1)
    assert facts.unusable == ()


def test_a_period_entirely_in_the_future_is_unusable():
    timing = {"effectivePeriod": {"start": iso(NOW + timedelta(hours=1)), "end": iso(NOW + timedelta(hours=2))}}
    facts = facts_of(observation(TEMP, quantity(38.6, "Cel"), **timing))
    assert facts.measurements == ()
    assert [(u.concept, u.reason) for u in facts.unusable] == [("temperature", "recorded in the future")]
