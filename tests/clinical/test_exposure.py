"""Exposure timeline: which medication resources count, from when to when, and the window helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cds_service.clinical.windows import exposure_time, exposures_in_window, whole_days
from cds_service.domain.facts import Exposure, Facts
from tests.clinical.facts_kit import (
    NOW,
    PATIENT,
    administration,
    direct_facts,
    dispense,
    facts_of,
    hours_ago,
    kb,
    procedure,
    request,
    statement,
)

KYMRIAH = "Kymriah (tisagenlecleucel) suspension for IV infusion"
TISA = "tisagenlecleucel"


def at(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def one(facts) -> Exposure:
    assert len(facts.exposures) == 1, facts.exposures
    return facts.exposures[0]


# ---------------------------------------------------------------- MedicationAdministration


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        ("completed", True),
        ("in-progress", True),
        ("on-hold", True),
        ("stopped", True),
        ("unknown", True),  # the sender does not know: an exposure is never hidden by that
        ("not-done", False),
        ("entered-in-error", False),
    ],
)
def test_an_administration_counts_by_its_status(status: str, counted: bool):
    facts = direct_facts(administration(KYMRIAH, status, effectiveDateTime=hours_ago(30)))
    assert len(facts.exposures) == (1 if counted else 0)


def test_a_completed_administration_reached_the_patient_at_its_time():
    e = one(facts_of(administration(KYMRIAH, effectiveDateTime=hours_ago(30))))
    assert (e.drug_id, e.source, e.reference) == (TISA, "MedicationAdministration", "MedicationAdministration/ma1")
    assert (e.start, e.last, e.ongoing, e.is_draft) == (at(30), at(30), False, False)
    assert e.matched_by.startswith("text:")


def test_an_administration_period_runs_from_its_start_to_its_end():
    raw = administration("blinatumomab", effectivePeriod={"start": hours_ago(100), "end": hours_ago(4)})
    e = one(facts_of(raw))
    assert (e.drug_id, e.start, e.last, e.ongoing) == ("blinatumomab", at(100), at(4), False)


def test_an_infusion_in_progress_without_an_end_is_ongoing_until_now():
    raw = administration("blinatumomab", "in-progress", effectivePeriod={"start": hours_ago(50)})
    e = one(facts_of(raw))
    assert (e.start, e.last, e.ongoing) == (at(50), NOW, True)


def test_a_given_dose_is_never_later_than_now():
    future = (NOW + timedelta(hours=5)).isoformat()
    e = one(facts_of(administration(KYMRIAH, effectiveDateTime=future)))
    assert e.start == e.last == NOW


def test_a_contained_medication_is_recognised():
    raw = {
        "resourceType": "MedicationAdministration",
        "id": "ma1",
        "status": "completed",
        "subject": PATIENT,
        "contained": [{"resourceType": "Medication", "id": "m", "code": {"text": "Yescarta"}}],
        "medicationReference": {"reference": "#m"},
        "effectiveDateTime": hours_ago(20),
    }
    assert one(facts_of(raw)).drug_id == "axicabtagene-ciloleucel"


def test_a_referenced_medication_resource_is_recognised():
    medication = {"resourceType": "Medication", "id": "teclistamab-vial", "code": {"text": "Tecvayli"}}
    raw = administration("x", effectiveDateTime=hours_ago(20))
    del raw["medicationCodeableConcept"]
    raw["medicationReference"] = {"reference": "Medication/teclistamab-vial"}
    assert one(facts_of(raw, medication)).drug_id == "teclistamab"


def test_a_medication_outside_the_catalogue_is_no_exposure():
    assert facts_of(administration("acetaminophen 1 g")).exposures == ()


# ---------------------------------------------------------------- MedicationRequest


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        ("active", True),
        ("completed", True),
        ("on-hold", True),
        ("stopped", True),
        ("cancelled", False),
        ("entered-in-error", False),
        ("draft", False),
        ("unknown", False),
    ],
)
def test_an_order_counts_by_its_status(status: str, counted: bool):
    assert len(direct_facts(request("teclistamab", status)).exposures) == (1 if counted else 0)


@pytest.mark.parametrize(
    ("intent", "counted"),
    [("order", True), ("original-order", True), ("instance-order", True), ("proposal", False), ("plan", False)],
)
def test_only_orders_count_not_proposals_or_plans(intent: str, counted: bool):
    assert len(facts_of(request("teclistamab", intent=intent)).exposures) == (1 if counted else 0)


def test_a_stopped_order_counts_up_to_its_validity_end():
    raw = request(
        "teclistamab",
        "stopped",
        authoredOn=hours_ago(200),
        dispenseRequest={"validityPeriod": {"start": hours_ago(200), "end": hours_ago(120)}},
    )
    e = one(facts_of(raw))
    assert (e.start, e.last, e.ongoing) == (at(200), at(120), False)


def test_a_stopped_order_counts_up_to_its_dosage_bounds_end():
    timing = {"timing": {"repeat": {"boundsPeriod": {"start": hours_ago(200), "end": hours_ago(96)}}}}
    e = one(facts_of(request("teclistamab", "stopped", authoredOn=hours_ago(200), dosageInstruction=[timing])))
    assert e.last == at(96)


def test_a_stopped_order_without_dates_counts_at_its_authored_time():
    e = one(facts_of(request("teclistamab", "stopped", authoredOn=hours_ago(150))))
    assert (e.start, e.last) == (at(150), at(150))


def test_the_latest_timing_event_is_the_last_date_of_an_order():
    timing = {"timing": {"event": [hours_ago(80), hours_ago(30)]}}
    e = one(facts_of(request("teclistamab", "completed", dosageInstruction=[timing])))
    assert e.last == at(30)


def test_an_active_order_with_a_last_date_ahead_is_ongoing():
    future = (NOW + timedelta(days=3)).isoformat()
    raw = request("blinatumomab", "active", dispenseRequest={"validityPeriod": {"end": future}})
    e = one(facts_of(raw))
    assert (e.last, e.ongoing) == (NOW, True)


def test_an_active_order_without_a_last_date_counts_from_its_authored_time():
    e = one(facts_of(request("blinatumomab", "active", authoredOn=hours_ago(40))))
    assert (e.last, e.ongoing) == (at(40), False)


# ---------------------------------------------------------------- statements, dispenses, procedures


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        ("completed", True),
        ("active", True),
        ("stopped", True),
        ("not-taken", False),
        ("intended", False),
        ("entered-in-error", False),
    ],
)
def test_a_medication_statement_counts_unless_not_taken(status: str, counted: bool):
    assert len(direct_facts(statement("pembrolizumab", status)).exposures) == (1 if counted else 0)


def test_an_active_statement_is_ongoing():
    e = one(facts_of(statement("pembrolizumab", "active", effectivePeriod={"start": hours_ago(500)})))
    assert (e.start, e.last, e.ongoing) == (at(500), NOW, True)


@pytest.mark.parametrize(("status", "counted"), [("completed", True), ("in-progress", False), ("cancelled", False)])
def test_a_dispense_counts_when_completed(status: str, counted: bool):
    assert len(facts_of(dispense("teclistamab", status)).exposures) == (1 if counted else 0)


def test_a_dispense_without_hand_over_time_uses_its_preparation_time():
    e = one(facts_of(dispense("teclistamab", whenPrepared=hours_ago(26))))
    assert (e.source, e.last) == ("MedicationDispense", at(26))


@pytest.mark.parametrize(
    ("status", "counted"), [("completed", True), ("in-progress", True), ("not-done", False), ("stopped", False)]
)
def test_a_car_t_infusion_procedure_counts_when_completed_or_in_progress(status: str, counted: bool):
    assert len(direct_facts(procedure(KYMRIAH, status)).exposures) == (1 if counted else 0)


def test_a_procedure_period_gives_start_and_last():
    raw = procedure("Carvykti infusion", performedPeriod={"start": hours_ago(30), "end": hours_ago(29)})
    e = one(facts_of(raw))
    assert (e.drug_id, e.source, e.start, e.last) == ("ciltacabtagene-autoleucel", "Procedure", at(30), at(29))


def test_a_procedure_of_a_non_cellular_drug_is_no_exposure():
    assert facts_of(procedure("teclistamab injection")).exposures == ()


def test_a_date_without_a_time_is_the_start_of_that_day_in_utc():
    e = one(facts_of(administration(KYMRIAH, effectiveDateTime="2026-11-20")))
    assert e.last == datetime(2026, 11, 20, tzinfo=UTC)


# ---------------------------------------------------------------- windows over exposures (clinical.windows)


def exposure(last: datetime | None, *, ongoing: bool = False, draft: bool = False) -> Exposure:
    return Exposure(TISA, "MedicationAdministration", None, last, last, "text:x", is_draft=draft, ongoing=ongoing)


def days_since(e: Exposure) -> int | None:
    moment = exposure_time(e, NOW)
    return None if moment is None else whole_days(NOW, moment)


@pytest.mark.parametrize(
    ("hours", "days"), [(0, 0), (23.9, 0), (24, 1), (24 * 7 + 1, 7), (24 * 28, 28), (24 * 28 + 1, 28)]
)
def test_days_since_counts_whole_days_since_the_last_exposure(hours: float, days: int):
    assert days_since(exposure(at(hours))) == days


def test_days_since_is_zero_while_ongoing_and_none_without_a_time():
    assert days_since(exposure(at(100), ongoing=True)) == 0
    assert days_since(exposure(None)) is None


def _in_window(e: Exposure) -> bool:
    facts = Facts(now=NOW, patient_id="p1", birth_date=None, exposures=(e,))
    return bool(exposures_in_window(facts, kb()))


@pytest.mark.parametrize(("offset_days", "inside"), [(-1000, True), (-1, True), (0, True), (0.01, False), (30, False)])
def test_in_window_uses_the_drugs_exposure_window(offset_days: float, inside: bool):
    drug = kb().drugs[TISA]
    days = max(0, drug.exposure_window_days + offset_days)  # days since the last dose
    assert _in_window(exposure(NOW - timedelta(days=days))) is inside


def test_a_draft_or_undated_exposure_is_never_in_a_window():
    assert not _in_window(exposure(at(1), draft=True))
    assert not _in_window(exposure(None))
