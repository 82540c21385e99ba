"""Oxygen support: delivery method (coded or text), flow, FiO2, and how parts charted together combine."""

from __future__ import annotations

import pytest

from cds_service.domain.facts import O2Device, O2Support
from tests.clinical.facts_kit import component, facts_of, hours_ago, observation, quantity

METHOD = "107117-4"


def method(text: str | None = None, *, id: str = "dev", when: str | None = None, coded: dict | None = None) -> dict:
    extra = {"valueCodeableConcept": coded} if coded is not None else {"valueString": text}
    return observation(METHOD, None, id=id, when=when or hours_ago(1), **extra)


def flow(litres: float, *, id: str = "flow", when: str | None = None) -> dict:
    return observation("3151-8", quantity(litres, "L/min"), id=id, when=when or hours_ago(1))


def fio2(percent: float, *, id: str = "fio2", when: str | None = None) -> dict:
    return observation("3150-0", quantity(percent, "%"), id=id, when=when or hours_ago(1))


def single(facts) -> O2Support:
    assert len(facts.o2_support) == 1, facts.o2_support
    return facts.o2_support[0]


@pytest.mark.parametrize(
    ("text", "device"),
    [
        ("Room air", O2Device.room_air),
        ("nasal cannula", O2Device.nasal_cannula),
        ("HFNC", O2Device.high_flow_nasal_cannula),
        ("Non-rebreather mask", O2Device.non_rebreather),
        ("Venturi mask", O2Device.venturi),
        ("BiPAP", O2Device.bipap),
        ("CPAP", O2Device.cpap),
        ("intubated", O2Device.mechanical_ventilation),
    ],
)
def test_the_delivery_method_as_text_gives_the_device(text: str, device: O2Device):
    support = single(facts_of(method(text)))
    assert (support.device, support.flow_l_min, support.reference) == (device, None, "Observation/dev")


def test_the_delivery_method_as_a_coded_value_is_read_by_its_display_and_text():
    coded = {"coding": [{"system": "http://example.org/local", "code": "x1", "display": "Face mask"}]}
    assert single(facts_of(method(coded=coded))).device is O2Device.face_mask
    assert single(facts_of(method(coded={"text": "high flow nasal cannula"}))).device is (
        O2Device.high_flow_nasal_cannula
    )


@pytest.mark.parametrize(
    "raw",
    [
        method("device per respiratory therapy flowsheet"),
        method(coded={"coding": [{"system": "http://example.org/local", "code": "zz-91"}]}),
        method(coded={"text": "see nursing note"}),
    ],
)
def test_an_unrecognised_delivery_method_is_oxygen_of_unknown_device_never_discarded(raw: dict):
    facts = facts_of(raw)
    support = single(facts)
    assert (support.device, support.flow_l_min, support.reference) == (O2Device.unknown, None, "Observation/dev")
    assert facts.quality_notes == (
        "an oxygen delivery method the service does not recognise was read as oxygen, device unknown",
    )
    assert facts.unusable == ()


def test_an_unrecognised_delivery_method_keeps_the_flow_charted_with_it():
    when = hours_ago(1)
    support = single(facts_of(method("device per RT flowsheet", when=when), flow(5, when=when)))
    assert (support.device, support.flow_l_min) == (O2Device.unknown, 5.0)


@pytest.mark.parametrize("text", ["None", "off", "No O2"])
def test_an_unrecognised_delivery_method_that_says_no_oxygen_is_unusable_not_oxygen_given(text: str):
    facts = facts_of(method(text))
    assert facts.o2_support == ()
    (unusable,) = facts.unusable
    assert (unusable.concept, unusable.reason, unusable.reference) == (
        "o2_device",
        "oxygen delivery method not recognised",
        "Observation/dev",
    )


def test_an_empty_delivery_method_says_nothing():
    facts = facts_of(method(coded={"coding": []}))
    assert (facts.o2_support, facts.unusable) == ((), ())


def test_a_flow_with_no_device_is_oxygen_of_unknown_device():
    support = single(facts_of(flow(4)))
    assert (support.device, support.flow_l_min, support.reference) == (O2Device.unknown, 4.0, "Observation/flow")


def test_a_device_and_a_flow_charted_at_the_same_time_are_one_record():
    when = hours_ago(1)
    support = single(facts_of(method("nasal cannula", when=when), flow(3, when=when)))
    assert (support.device, support.flow_l_min, support.reference) == (O2Device.nasal_cannula, 3.0, "Observation/dev")


def test_a_nasal_cannula_above_six_litres_keeps_its_device_and_flow_for_the_grading():
    when = hours_ago(1)
    support = single(facts_of(method("nasal cannula", when=when), flow(8, when=when)))
    assert (support.device, support.flow_l_min) == (O2Device.nasal_cannula, 8.0)


def test_a_device_and_a_flow_at_different_times_stay_apart():
    facts = facts_of(method("nasal cannula", when=hours_ago(3)), flow(2, when=hours_ago(1)))
    assert [(s.device, s.flow_l_min) for s in facts.o2_support] == [
        (O2Device.nasal_cannula, None),
        (O2Device.unknown, 2.0),
    ]


def test_pulse_oximetry_with_a_flow_component_is_oxygen_of_unknown_device():
    raw = observation(["59408-5", "2708-6"], quantity(93, "%"), components=[component("3151-8", quantity(2, "L/min"))])
    support = single(facts_of(raw))
    assert (support.device, support.flow_l_min) == (O2Device.unknown, 2.0)


@pytest.mark.parametrize(("percent", "given"), [(21, False), (21.5, True), (40, True)])
def test_fio2_above_room_air_with_no_device_means_oxygen_given(percent: float, given: bool):
    facts = facts_of(fio2(percent))
    assert [(s.device, s.flow_l_min) for s in facts.o2_support] == ([(O2Device.unknown, None)] if given else [])


@pytest.mark.parametrize("fraction", [0.4, 0.21, 1])
def test_fio2_below_room_air_in_percent_is_unusable_never_room_air(fraction: float):
    facts = facts_of(fio2(fraction))
    assert (facts.o2_support, facts.measurements) == ((), ())
    (unusable,) = facts.unusable
    assert (unusable.concept, unusable.reason, unusable.reference) == (
        "fio2",
        "FiO2 below room air: probably a fraction sent as percent",
        "Observation/fio2",
    )
    assert facts.quality_notes == ("fio2 below 21 % not used (probably a fraction sent as percent)",)


def test_a_zero_flow_with_no_device_says_nothing_about_oxygen():
    assert facts_of(flow(0)).o2_support == ()


def test_fio2_with_a_named_device_adds_no_unknown_device_record():
    when = hours_ago(1)
    support = single(facts_of(method("Venturi", when=when), fio2(35, when=when)))
    assert support.device is O2Device.venturi
