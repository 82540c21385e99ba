"""Vasopressors, CRS treatments, diagnoses and draft orders."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cds_service.domain.facts import DiagnosisFact
from tests.clinical.facts_kit import (
    NOW,
    PATIENT,
    administration,
    condition,
    direct_facts,
    facts_of,
    hours_ago,
    request,
    statement,
    status_concept,
)


def at(hours: float):
    return NOW - timedelta(hours=hours)


# ---------------------------------------------------------------- vasopressors


def test_a_running_vasopressor_infusion_has_no_end():
    raw = administration("norepinephrine 4 mg in 250 mL", "in-progress", effectivePeriod={"start": hours_ago(3)})
    (use,) = facts_of(raw).vasopressors
    assert (use.vasopressor_id, use.is_vasopressin, use.start, use.end) == ("norepinephrine", False, at(3), None)
    assert use.reference == "MedicationAdministration/ma1"


def test_a_completed_vasopressor_infusion_has_its_end():
    raw = administration("vasopressin", effectivePeriod={"start": hours_ago(10), "end": hours_ago(6)})
    (use,) = facts_of(raw).vasopressors
    assert (use.vasopressor_id, use.is_vasopressin, use.start, use.end) == ("vasopressin", True, at(10), at(6))


def test_a_completed_single_time_vasopressor_dose_is_a_bolus_not_a_vasopressor_in_use():
    assert facts_of(administration("phenylephrine", effectiveDateTime=hours_ago(2))).vasopressors == ()


def test_an_active_vasopressor_order_is_running_from_its_authored_time():
    (use,) = facts_of(request("norepinephrine", "active", authoredOn=hours_ago(5))).vasopressors
    assert (use.start, use.end, use.reference) == (at(5), None, "MedicationRequest/mr1")


@pytest.mark.parametrize("status", ["completed", "stopped", "cancelled", "draft"])
def test_a_vasopressor_order_that_is_not_active_is_not_a_vasopressor_in_use(status: str):
    assert facts_of(request("norepinephrine", status)).vasopressors == ()


@pytest.mark.parametrize("status", ["not-done", "entered-in-error"])
def test_a_vasopressor_administration_not_given_is_ignored(status: str):
    raw = administration("epinephrine", status, effectivePeriod={"start": hours_ago(3)})
    assert direct_facts(raw).vasopressors == ()


@pytest.mark.parametrize("status", ["stopped", "on-hold"])
def test_a_stopped_or_held_vasopressor_infusion_counts_for_its_period(status: str):
    raw = administration("norepinephrine", status, effectivePeriod={"start": hours_ago(6), "end": hours_ago(1)})
    (use,) = facts_of(raw).vasopressors
    assert (use.vasopressor_id, use.start, use.end) == ("norepinephrine", at(6), at(1))


@pytest.mark.parametrize("status", ["stopped", "on-hold"])
def test_a_stopped_vasopressor_infusion_without_a_charted_end_ran_at_least_at_its_start(status: str):
    (use,) = facts_of(administration("norepinephrine", status, effectivePeriod={"start": hours_ago(2)})).vasopressors
    assert (use.start, use.end) == (at(2), at(2))


@pytest.mark.parametrize("status", [None, "unknown"])
def test_a_vasopressor_infusion_with_no_or_an_unknown_status_counts_as_running_while_its_period_is_open(status):
    raw = administration("norepinephrine", status, effectivePeriod={"start": hours_ago(2)})
    (use,) = facts_of(raw).vasopressors
    assert (use.start, use.end) == (at(2), None)


def test_a_stopped_single_time_vasopressor_dose_is_not_a_vasopressor_in_use():
    assert facts_of(administration("norepinephrine", "stopped", effectiveDateTime=hours_ago(2))).vasopressors == ()


def route(text: str) -> dict:
    return {"coding": [{"system": "http://snomed.info/sct", "code": "000", "display": text}]}


@pytest.mark.parametrize(
    "raw",
    [
        request("EPINEPHrine 0.3 mg auto-injector IM PRN anaphylaxis"),
        request("phenylephrine 2.5% ophthalmic solution"),
        request("Lidocaine 1% with epinephrine 1:100,000"),
        request("bupivacaine 0.25% / epinephrine"),
        request("racemic epinephrine 2.25% nebulised"),
        request("epinephrine 1 mg/mL", dosageInstruction=[{"route": route("Intramuscular route")}]),
        request("epinephrine 1 mg/mL", dosageInstruction=[{"route": {"text": "SC"}}]),
        request("oxymetazoline nasal spray / phenylephrine nasal"),
        request("phenylephrine eye drops"),
        request("norepinephrine 4 mg/250 mL", dosageInstruction=[{"asNeededBoolean": True}]),
        request("norepinephrine 4 mg/250 mL", dosageInstruction=[{"asNeededCodeableConcept": {"text": "hypotension"}}]),
        administration(
            "epinephrine 0.5 mg",
            "in-progress",
            effectivePeriod={"start": hours_ago(1)},
            dosage={
                "route": route("Intramuscular use"),
            },
        ),
        administration("EpiPen epinephrine auto-injector", "in-progress", effectivePeriod={"start": hours_ago(1)}),
    ],
)
def test_as_needed_local_and_anaesthetic_uses_are_not_running_vasopressors(raw: dict):
    assert facts_of(raw).vasopressors == ()


@pytest.mark.parametrize(
    "raw",
    [
        request("norepinephrine 4 mg/250 mL", dosageInstruction=[{"route": route("Intravenous route")}]),
        request("norepinephrine 4 mg/250 mL", dosageInstruction=[{"asNeededBoolean": False}]),
        request("EPINEPHrine infusion 0.05 mcg/kg/min", dosageInstruction=[{"route": {"text": "IV"}}]),
        administration(
            "phenylephrine 100 mcg/mL",
            "in-progress",
            effectivePeriod={"start": hours_ago(1)},
            dosage={
                "route": route("Intravenous"),
            },
        ),
    ],
)
def test_continuous_systemic_vasopressors_still_count(raw: dict):
    assert len(facts_of(raw).vasopressors) == 1


def test_a_vasopressor_is_not_a_catalogue_exposure():
    raw = administration("norepinephrine", "in-progress", effectivePeriod={"start": hours_ago(3)})
    assert facts_of(raw).exposures == ()


# ---------------------------------------------------------------- treatments


def test_tocilizumab_given_is_an_anti_cytokine_treatment_at_its_time():
    (given,) = facts_of(administration("tocilizumab 8 mg/kg IV", effectiveDateTime=hours_ago(6))).treatments
    assert (given.treatment_id, given.kind, given.time) == ("tocilizumab", "anti-cytokine", at(6))


def test_a_corticosteroid_infusion_is_timed_at_its_start():
    raw = administration("dexamethasone 10 mg", effectivePeriod={"start": hours_ago(4), "end": hours_ago(3)})
    (given,) = facts_of(raw).treatments
    assert (given.treatment_id, given.kind, given.time) == ("dexamethasone", "corticosteroid", at(4))


def test_a_treatment_statement_counts_as_given():
    (given,) = facts_of(statement("Solu-Medrol", effectiveDateTime=hours_ago(30))).treatments
    assert (given.treatment_id, given.reference) == ("methylprednisolone", "MedicationStatement/ms1")


@pytest.mark.parametrize(
    "raw",
    [
        administration("tocilizumab", "not-done"),
        request("tocilizumab", "active"),
        statement("tocilizumab", "not-taken"),
        administration("diphenhydramine 25 mg"),  # a premedication, not a CRS treatment
    ],
)
def test_orders_not_given_doses_and_premedications_are_not_treatments_given(raw: dict):
    assert facts_of(raw).treatments == ()


# ---------------------------------------------------------------- diagnoses


def test_a_crs_diagnosis_with_its_grade():
    raw = condition("D89.832", onsetDateTime=hours_ago(12))
    assert facts_of(raw).diagnoses == (DiagnosisFact("crs", "D89.832", 2, at(12), "Condition/c1"),)


def test_an_icans_diagnosis_without_grade_and_onset_from_the_recorded_date():
    (dx,) = facts_of(condition("G92.00", recordedDate=hours_ago(8))).diagnoses
    assert (dx.concept, dx.grade, dx.onset) == ("icans", None, at(8))


@pytest.mark.parametrize(
    ("extra", "stands"),
    [
        ({}, True),
        ({"clinicalStatus": status_concept("condition-clinical", "active")}, True),
        ({"clinicalStatus": status_concept("condition-clinical", "relapse")}, True),
        ({"clinicalStatus": status_concept("condition-clinical", "resolved")}, False),
        ({"clinicalStatus": status_concept("condition-clinical", "inactive")}, False),
        ({"verificationStatus": status_concept("condition-ver-status", "confirmed")}, True),
        ({"verificationStatus": status_concept("condition-ver-status", "refuted")}, False),
        ({"verificationStatus": status_concept("condition-ver-status", "entered-in-error")}, False),
    ],
)
def test_a_diagnosis_stands_by_its_clinical_and_verification_status(extra: dict, stands: bool):
    assert len(direct_facts(condition("D89.833", **extra)).diagnoses) == (1 if stands else 0)


@pytest.mark.parametrize(
    ("verification", "documented"),
    [
        (None, True),
        ("confirmed", True),
        ("provisional", False),
        ("differential", False),
        ("unconfirmed", False),
        ("refuted", False),
        ("entered-in-error", False),
    ],
)
def test_a_crs_diagnosis_is_documented_only_when_confirmed_or_without_verification(
    verification: str | None, documented: bool
):
    extra = {"verificationStatus": status_concept("condition-ver-status", verification)} if verification else {}
    assert len(direct_facts(condition("D89.832", **extra)).diagnoses) == (1 if documented else 0)


def test_an_icans_diagnosis_still_stands_when_provisional():
    extra = {"verificationStatus": status_concept("condition-ver-status", "provisional")}
    assert len(direct_facts(condition("G92.00", **extra)).diagnoses) == 1


def test_a_condition_the_knowledge_base_does_not_list_is_no_diagnosis_fact():
    assert facts_of(condition("J18.9")).diagnoses == ()


# ---------------------------------------------------------------- draft orders


def draft_request(drug: str, id: str) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "subject": PATIENT,
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "999999", "display": drug}],
            "text": drug,
        },
    }


def service_request(id: str) -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "subject": PATIENT,
        "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5", "display": "C reactive protein"}]},
    }


def test_draft_orders_become_draft_orders_and_draft_exposures():
    drafts = [
        draft_request("Tecvayli 0.06 mg/kg", "d1"),
        draft_request("Dexamethasone 16 mg", "d2"),
        service_request("s1"),
    ]
    facts = facts_of(drafts=drafts)
    by_ref = {d.reference: d for d in facts.draft_orders}
    assert sorted(by_ref) == ["MedicationRequest/d1", "MedicationRequest/d2", "ServiceRequest/s1"]
    assert (by_ref["MedicationRequest/d1"].drug_id, by_ref["MedicationRequest/d1"].treatment_id) == (
        "teclistamab",
        None,
    )
    assert (by_ref["MedicationRequest/d2"].drug_id, by_ref["MedicationRequest/d2"].treatment_id) == (
        None,
        "dexamethasone",
    )
    assert by_ref["ServiceRequest/s1"].codes == ("http://loinc.org|1988-5",)
    assert by_ref["ServiceRequest/s1"].text == "c reactive protein"
    assert by_ref["MedicationRequest/d1"].text == "tecvayli 0 06 mg kg"
    (exposure,) = facts.exposures
    assert (exposure.drug_id, exposure.source, exposure.is_draft, exposure.last) == (
        "teclistamab",
        "draft-order",
        True,
        None,
    )
    assert not any(d.selected for d in facts.draft_orders)


@pytest.mark.parametrize("selection", ["MedicationRequest/d1", "https://ehr.example.org/fhir/MedicationRequest/d1"])
def test_a_selected_draft_order_is_marked_selected(selection: str):
    facts = facts_of(drafts=[draft_request("Tecvayli", "d1"), draft_request("Kymriah", "d2")], selections=(selection,))
    assert {d.reference: d.selected for d in facts.draft_orders} == {
        "MedicationRequest/d1": True,
        "MedicationRequest/d2": False,
    }


def test_a_draft_order_outside_the_catalogue_is_a_draft_order_without_exposure():
    facts = facts_of(drafts=[draft_request("amoxicillin 500 mg", "d1")])
    assert facts.exposures == ()
    ((reference, drug_id),) = [(d.reference, d.drug_id) for d in facts.draft_orders]
    assert (reference, drug_id) == ("MedicationRequest/d1", None)


def test_a_draft_order_with_a_contained_medication_is_recognised():
    draft = draft_request("x", "d1")
    del draft["medicationCodeableConcept"]
    draft["contained"] = [{"resourceType": "Medication", "id": "m", "code": {"text": "Kymriah"}}]
    draft["medicationReference"] = {"reference": "#m"}
    (order,) = facts_of(drafts=[draft]).draft_orders
    assert order.drug_id == "tisagenlecleucel"


def test_a_draft_order_keeps_the_prescribers_own_words_for_evidence():
    (order,) = facts_of(drafts=[draft_request("Tecvayli 0.06 mg/kg SC", "d1")]).draft_orders
    assert (order.display, order.text) == ("Tecvayli 0.06 mg/kg SC", "tecvayli 0 06 mg kg sc")
