"""extract_facts as a whole: times, notes, gaps, age, and independence from the order of resources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.domain.age import age_days_at
from cds_service.domain.facts import DataGap, O2Device
from cds_service.intake.times import parse_time
from cds_service.reading.extract import extract_facts
from cds_service.reading.times import NAIVE_NOTE, Notes, to_aware
from tests.clinical.facts_kit import (
    NOW,
    administration,
    component,
    condition,
    facts_of,
    hours_ago,
    kb,
    observation,
    parsed_record,
    procedure,
    quantity,
    request,
    statement,
)

# ---------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-03T10:00:00+02:00", datetime(2026, 5, 3, 8, tzinfo=UTC)),
        ("2026-05-03", datetime(2026, 5, 3, tzinfo=UTC)),
        ("2026-05", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-05-03T10:00:00Z", datetime(2026, 5, 3, 10, tzinfo=UTC)),
    ],
)
def test_fhir_times_become_aware_datetimes(text, expected):
    notes = Notes()
    assert to_aware(parse_time(text), notes) == expected
    assert notes.render() == ()


def test_a_time_without_a_zone_is_read_as_utc_with_a_note():
    notes = Notes()
    moment = to_aware(parse_time("2026-05-03T10:00:00"), notes)
    assert moment == datetime(2026, 5, 3, 10, tzinfo=UTC)
    assert notes.render() == (NAIVE_NOTE,)


@pytest.mark.parametrize("text", ["yesterday", "2026-02-30", "2026-13", "10:00", ""])
def test_text_that_is_not_a_fhir_time_is_not_read(text):
    assert parse_time(text) is None


def test_an_administration_time_without_a_zone_still_places_the_exposure_with_a_note():
    naive = (NOW - timedelta(hours=30)).replace(tzinfo=None).isoformat()
    facts = facts_of(administration("Kymriah", effectiveDateTime=naive))
    (exposure,) = facts.exposures
    assert exposure.last == NOW - timedelta(hours=30)
    assert NAIVE_NOTE in facts.quality_notes


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        extract_facts(parsed_record(), kb(), NOW.replace(tzinfo=None))


# ---------------------------------------------------------------- notes, gaps, patient


def test_an_observation_whose_code_cannot_be_read_is_set_aside_by_reference_never_by_content():
    broken = {
        "resourceType": "Observation",
        "id": "bad",
        "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": 8310,
        "valueQuantity": {"value": 39.4, "unit": "Cel"},
    }
    facts = facts_of(broken)
    (item,) = facts.set_aside
    assert (item.reference, item.field, item.kind) == ("Observation/bad", "code", "observation")
    assert "39.4" not in repr(item)


def test_a_set_aside_observation_of_a_category_no_rule_reads_is_not_kept_for_a_card():
    broken = {"resourceType": "Observation", "id": "b", "category": {"coding": [{"code": "social-history"}]},
              "code": 12}
    assert facts_of(broken).set_aside == ()


def test_data_gaps_are_copied_unchanged():
    gap = DataGap("vitalSigns", "vital signs could not be read (the FHIR server refused access)", "forbidden")
    facts = facts_of(gaps=[gap])
    assert facts.data_gaps == (gap,)


def test_patient_id_and_birth_date_come_from_the_record():
    facts = facts_of({"resourceType": "Patient", "id": "p1", "birthDate": "2019-03-04"})
    assert (facts.patient_id, facts.birth_date, facts.now) == ("p1", date(2019, 3, 4), NOW)


def test_a_partial_birth_date_counts_from_its_first_day_with_a_note():
    facts = facts_of({"resourceType": "Patient", "id": "p1", "birthDate": "2019-03"})
    assert facts.birth_date == date(2019, 3, 1)
    assert facts.quality_notes == ("the birth date is partial: age is counted from its first day",)


def test_no_patient_means_no_birth_date():
    assert facts_of().birth_date is None


@pytest.mark.parametrize(
    ("birth", "when", "days"),
    [
        (date(2026, 11, 24), datetime(2026, 11, 24, 23, 59, tzinfo=UTC), 0),
        (date(2025, 11, 24), datetime(2026, 11, 24, 0, 0, tzinfo=UTC), 365),
        (date(2026, 11, 24), datetime(2026, 11, 23, 22, 0, tzinfo=UTC), 0),  # before birth: not negative
        (None, NOW, None),
    ],
)
def test_age_in_days_at_a_moment(birth, when, days):
    assert age_days_at(birth, when) == days


def test_age_is_counted_on_the_calendar_date_of_the_moment_in_its_own_zone():
    late_evening_in_new_york = datetime(2026, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert age_days_at(date(2026, 1, 1), late_evening_in_new_york) == 0


# ---------------------------------------------------------------- order independence

CHART = [
    {"resourceType": "Patient", "id": "p1", "birthDate": "1980-02-02"},
    administration("Kymriah", id="a1", effectiveDateTime=hours_ago(80)),
    administration("norepinephrine", "in-progress", id="a2", effectivePeriod={"start": hours_ago(3)}),
    administration("tocilizumab", id="a3", effectiveDateTime=hours_ago(5)),
    request("teclistamab", "stopped", id="r1", authoredOn=hours_ago(300)),
    request("teclistamab", "completed", id="r2", authoredOn=hours_ago(200)),
    statement("pembrolizumab", "active", id="s1", effectivePeriod={"start": hours_ago(900)}),
    procedure("CAR-T cell infusion", id="p1", performedDateTime=hours_ago(80)),
    condition("D89.832", id="c1", onsetDateTime=hours_ago(4)),
    observation("8310-5", quantity(101.3, "[degF]"), id="t1", when=hours_ago(2)),
    observation("8310-5", quantity(38.9, "Cel"), id="t2", when=hours_ago(2)),
    observation("8310-5", quantity(38.9, "K"), id="t3", when=hours_ago(2)),
    observation(
        "85354-9",
        None,
        id="bp",
        when=hours_ago(2),
        components=[component("8480-6", quantity(84, "mm[Hg]")), component("8462-4", quantity(40, "mm[Hg]"))],
    ),
    observation(["59408-5", "2708-6"], quantity(90, "%"), id="ox", when=hours_ago(1)),
    observation("107117-4", None, id="dev", when=hours_ago(1), valueString="nasal cannula"),
    observation("3151-8", quantity(4, "L/min"), id="flow", when=hours_ago(1)),
    observation("3151-8", quantity(3, "L/min"), id="flow2", when=hours_ago(1)),
    observation("1988-5", quantity(8.1, "mg/dL"), id="crp", when=hours_ago(6)),
]


def test_the_reference_chart_gives_the_expected_facts():
    facts = facts_of(*CHART)
    assert {e.drug_id for e in facts.exposures} == {
        "tisagenlecleucel",
        "car-t-unspecified",
        "teclistamab",
        "pembrolizumab",
    }
    assert [(s.device, s.flow_l_min, s.reference) for s in facts.o2_support] == [
        (O2Device.nasal_cannula, 4.0, "Observation/dev")
    ]
    assert len(facts.series("temperature")) == 2
    assert [v.vasopressor_id for v in facts.vasopressors] == ["norepinephrine"]
    assert [t.treatment_id for t in facts.treatments] == ["tocilizumab"]
    assert [d.grade for d in facts.diagnoses] == [2]


@settings(max_examples=25, deadline=None)
@given(st.permutations(CHART))
def test_shuffling_the_order_of_the_resources_changes_nothing(shuffled):
    assert facts_of(*shuffled) == facts_of(*CHART)
