"""Unit conversions to canonical units: every accepted spelling, refused spellings, and round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.reading.units import TABLE, canonical_unit, quantity_spellings, to_canonical

UCUM = "http://unitsofmeasure.org"

CONVERSIONS = [
    # concept, value, unit spelling, expected canonical value
    ("temperature", "38.5", "Cel", 38.5),
    ("temperature", "38.5", "degC", 38.5),
    ("temperature", "38.5", "°C", 38.5),
    ("temperature", "100.4", "[degF]", 38.0),
    ("temperature", "100.4", "degF", 38.0),
    ("temperature", "100.4", "°F", 38.0),
    ("temperature", "98.6", "[degF]", 37.0),
    ("temperature", "212", "[degF]", 100.0),
    ("heart_rate", "110", "/min", 110.0),
    ("heart_rate", "110", "{beats}/min", 110.0),
    ("heart_rate", "110", "beats/min", 110.0),
    ("respiratory_rate", "24", "{breaths}/min", 24.0),
    ("respiratory_rate", "24", "/min", 24.0),
    ("systolic", "85", "mm[Hg]", 85.0),
    ("systolic", "85", "mmHg", 85.0),
    ("diastolic", "50", "mm Hg", 50.0),
    ("map", "65", "mm[Hg]", 65.0),
    ("spo2", "91", "%", 91.0),
    ("fio2", "40", "%", 40.0),
    ("fio2", "0.4", "1", 40.0),
    ("o2_flow", "4", "L/min", 4.0),
    ("o2_flow", "4", "l/min", 4.0),
    ("o2_flow", "500", "mL/min", 0.5),
    ("crp", "12", "mg/L", 12.0),
    ("crp", "1.2", "mg/dL", 12.0),
    ("hs_crp", "0.3", "mg/dL", 3.0),
    ("ferritin", "1500", "ng/mL", 1500.0),
    ("ferritin", "1500", "ug/L", 1500.0),
    ("ldh", "350", "U/L", 350.0),
    ("ldh", "350", "IU/L", 350.0),
    ("creatinine", "1.1", "mg/dL", 1.1),
    ("creatinine", "88.42", "umol/L", 1.0),
    ("creatinine", "176.84", "µmol/L", 2.0),
    ("platelets", "150", "10*3/uL", 150.0),
    ("platelets", "150", "10*9/L", 150.0),
    ("platelets", "150", "/nL", 150.0),
    ("platelets", "150", "10^3/uL", 150.0),
    ("platelets", "150", "K/uL", 150.0),
    ("platelets", "150", "x10E3/uL", 150.0),
    ("platelets", "150000", "/uL", 150.0),
    ("neutrophils", "0.4", "10*3/uL", 0.4),
    ("neutrophils", "400", "/mm3", 0.4),
    ("fibrinogen", "250", "mg/dL", 250.0),
    ("fibrinogen", "2.5", "g/L", 250.0),
    ("il6", "40", "pg/mL", 40.0),
    ("il6", "40", "ng/L", 40.0),
    ("d_dimer", "0.5", "ug/mL{FEU}", 0.5),
    ("d_dimer", "500", "ng/mL{DDU}", 0.5),
    ("gcs", "14", "{score}", 14.0),
    ("gcs", "14", "1", 14.0),
]


@pytest.mark.parametrize(("concept", "value", "unit", "expected"), CONVERSIONS)
def test_each_accepted_unit_converts_to_the_canonical_unit(concept: str, value: str, unit: str, expected: float):
    assert to_canonical(concept, Decimal(value), [unit]) == pytest.approx(expected, abs=1e-9)


UNKNOWN = [
    ("temperature", "K"),  # kelvin: never seen for body temperature, not in the table
    ("temperature", "C"),  # UCUM coulomb
    ("temperature", "F"),  # UCUM farad
    ("temperature", ""),  # no unit at all
    ("crp", "mg/mL"),
    ("creatinine", "mmol/L"),
    ("platelets", "%"),
    ("heart_rate", "/s"),
    ("ferritin", "pmol/L"),
]


@pytest.mark.parametrize(("concept", "unit"), UNKNOWN)
def test_a_unit_the_service_does_not_know_is_not_converted(concept: str, unit: str):
    assert to_canonical(concept, Decimal("38"), [unit]) is None


def test_a_concept_without_a_unit_table_is_not_converted():
    assert to_canonical("bp_panel", Decimal("1"), ["mm[Hg]"]) is None
    assert canonical_unit("o2_device") is None


def test_spellings_are_matched_case_insensitively_within_one_concept():
    assert to_canonical("crp", Decimal("1.5"), ["MG/DL"]) == 15.0
    assert to_canonical("temperature", Decimal("37"), ["CEL"]) == 37.0


def test_no_two_spellings_of_one_concept_differ_only_in_case_with_different_meanings():
    for concept, (_, table) in TABLE.items():  # the module also refuses such a table at import
        by_fold: dict[str, object] = {}
        for spelling, conversion in table.items():
            assert by_fold.setdefault(spelling.casefold(), conversion) == conversion, (concept, spelling)


def test_the_ucum_code_wins_over_the_display_unit():
    spellings = quantity_spellings(unit="degC", system=UCUM, code="[degF]")
    assert to_canonical("temperature", Decimal("100.4"), spellings) == 38.0


def test_a_code_from_another_system_is_ignored_and_the_display_unit_used():
    spellings = quantity_spellings(unit="mg/dL", system="http://example.org/local-units", code="mg/L")
    assert to_canonical("crp", Decimal("2"), spellings) == 20.0


def test_a_quantity_without_code_and_unit_is_accepted_only_for_scores():
    spellings = quantity_spellings(unit=None, system=None, code=None)
    assert to_canonical("gcs", Decimal("15"), spellings) == 15.0
    assert to_canonical("temperature", Decimal("38"), spellings) is None


def test_every_concept_has_its_canonical_unit_in_its_own_table():
    for concept, (unit, _) in TABLE.items():
        assert to_canonical(concept, Decimal("7"), [unit]) == 7.0, concept


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2500, max_value=4500))
def test_converting_a_temperature_to_fahrenheit_and_back_changes_nothing(hundredths: int):
    celsius = Decimal(hundredths) / 100
    fahrenheit = celsius * 9 / 5 + 32
    assert to_canonical("temperature", fahrenheit, ["[degF]"]) == float(celsius)


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=0, max_value=2000, places=2))
def test_a_value_in_the_canonical_unit_is_unchanged(value: Decimal):
    for concept, (unit, _) in TABLE.items():
        assert to_canonical(concept, value, [unit]) == float(value)


def test_an_spo2_sent_as_a_fraction_with_unit_1_is_read_as_percent():
    assert to_canonical("spo2", Decimal("0.86"), ["1"]) == 86.0


def test_an_spo2_above_1_with_unit_1_becomes_more_than_100_percent_and_the_reader_refuses_it():
    assert to_canonical("spo2", Decimal("86"), ["1"]) == 8600.0  # observations.py: "value and unit disagree"
