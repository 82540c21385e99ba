"""Children through the HTTP API: every dose on a card or in a suggestion is by weight or body surface, fluids in
mL/kg, age thresholds from birth, and a birth date known only to the year said on the card.

The cases are those the review found wrong: a 6-year-old of 20 kg on blinatumomab (5 mg/m2 of dexamethasone is
about 4 mg, not the adult 20 mg), a 20 kg child with grade 3 CRS (12 mg/kg of tocilizumab = 240 mg from the charted
weight, never an adult flat dose or a 500-1000 mL bolus).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.chart_kit import (
    SUBJECT,
    at,
    by_rule,
    car_t_given,
    cards_of,
    patient,
    patient_view,
    searchset,
    systolic,
    temperature,
    vital,
)
from tests.conftest import NOW

SIX_YEARS = (NOW - timedelta(days=6 * 365 + 40)).date().isoformat()
#: Adult flat doses that must never headline a child's card.
ADULT_FLAT = re.compile(r"500-1000 mL|dexamethasone 10 mg|dexamethasone 20 mg|methylprednisolone 500 mg", re.I)


def weight(kg: float, hours: float = 24) -> dict[str, Any]:
    return vital("29463-7", kg, "kg", "kg", hours, f"w{kg}")


def height(cm: float, hours: float = 24) -> dict[str, Any]:
    return vital("8302-2", cm, "cm", "cm", hours, f"h{cm}")


def tisagenlecleucel(hours: float) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration", "id": "tisacel-1", "status": "completed", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "tisagenlecleucel (Kymriah)"}, "effectiveDateTime": at(hours),
    }


def norepinephrine() -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration", "id": "ne-1", "status": "in-progress", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "norepinephrine infusion"},
        "effectivePeriod": {"start": at(2)},
    }


def grade_3_child(*extra: dict[str, Any], birth_date: str = SIX_YEARS) -> dict[str, Any]:
    """Fever 39.4 °C and a systolic of 70 mmHg on one vasopressor, 3 days after tisagenlecleucel: ASTCT grade 3."""
    return patient_view(
        patient(birth_date),
        medicationAdministrations=searchset(tisagenlecleucel(72), norepinephrine()),
        vitalSigns=searchset(temperature(39.4), systolic(70), *extra),
    )


def test_a_20_kg_child_with_grade_3_crs_gets_tocilizumab_12_mg_per_kg_computed_and_no_adult_flat_dose(client):
    crs = by_rule(cards_of(client, grade_3_child(weight(20))))["crs.active"]
    assert crs["extension"]["org.crs-cds.finding"]["astctGrade"] == 3
    detail = crs["detail"]
    assert "Tocilizumab 240 mg IV over 1 h (12 mg/kg for 20 kg)" in detail
    assert not ADULT_FLAT.search(detail), detail
    labels = [s["label"] for s in crs.get("suggestions") or []]
    assert "Tocilizumab 240 mg IV over 1 h" in labels
    (toci,) = [s for s in crs["suggestions"] if s["label"].startswith("Tocilizumab")]
    (action,) = toci["actions"]
    assert "12 mg/kg for 20 kg" in action["resource"]["dosageInstruction"][0]["text"]


def test_without_a_charted_weight_the_child_card_says_so_and_offers_no_tocilizumab_order(client):
    crs = by_rule(cards_of(client, grade_3_child()))["crs.active"]
    assert "weight not charted" in crs["detail"]
    assert not [s for s in crs.get("suggestions") or [] if s["label"].startswith("Tocilizumab")]
    assert not ADULT_FLAT.search(crs["detail"])


def test_a_child_with_grade_2_crs_is_told_fluids_in_ml_per_kg(client):
    body = patient_view(
        patient(SIX_YEARS),
        medicationAdministrations=searchset(tisagenlecleucel(72)),
        vitalSigns=searchset(temperature(39.0), systolic(75), weight(20)),
    )
    crs = by_rule(cards_of(client, body))["crs.active"]
    assert crs["extension"]["org.crs-cds.finding"]["astctGrade"] == 2  # 75 mmHg < 70 + 2 x 6 = 82 (PALS)
    assert "mL/kg" in crs["detail"] and "500-1000 mL" not in crs["detail"]


def test_a_six_year_old_on_blinatumomab_gets_dexamethasone_by_body_surface(client):
    draft = {
        "resourceType": "MedicationRequest", "id": "blin-1", "status": "draft", "intent": "order", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "blinatumomab (Blincyto)"},
    }
    body = patient_view(patient(SIX_YEARS), vitalSigns=searchset(weight(20), height(115)))
    body.update(hook="order-sign")
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}
    card = by_rule(cards_of(client, body, "crs-order-sign"))["order.risk"]
    labels = [s["label"] for s in card["suggestions"]]
    assert "Dexamethasone 4 mg before blinatumomab" in labels  # 5 mg/m2 x 0.8 m2 (Mosteller)
    assert not any("20 mg" in label for label in labels)
    assert "dexamethasone 4 mg (5 mg/m2, maximum 20 mg; BSA 0.8 m2)" in card["detail"]
    # The label's grade 3 CRS line for a child under 45 kg: by body surface, never the adult 8 mg.
    assert "Grade 3 CRS (under 45 kg): interrupt and give dexamethasone 4 mg (5 mg/m2, maximum 8 mg; BSA 0.8 m2)" in (
        card["detail"])
    assert "dexamethasone 8 mg every 8 h" not in card["detail"]


def test_a_child_whose_weight_is_not_charted_gets_the_under_45_kg_wording_and_is_told_so(client):
    draft = {
        "resourceType": "MedicationRequest", "id": "blin-1", "status": "draft", "intent": "order", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "blinatumomab (Blincyto)"},
    }
    body = patient_view(patient(SIX_YEARS))
    body.update(hook="order-sign")
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}
    detail = by_rule(cards_of(client, body, "crs-order-sign"))["order.risk"]["detail"]
    assert "dexamethasone 5 mg/m2, maximum 8 mg (height and weight needed for the dose) every 8 h" in detail
    assert "(weight not charted; 45 kg or more: Grade 3 CRS: interrupt and give dexamethasone 8 mg" in detail


def test_a_neonate_is_graded_against_the_neonatal_threshold(client):
    ten_days = (NOW - timedelta(days=10)).date().isoformat()

    def window(sbp: float) -> dict[str, Any]:
        body = patient_view(
            patient(ten_days),
            medicationAdministrations=searchset(tisagenlecleucel(72)),
            vitalSigns=searchset(temperature(38.6), systolic(sbp)),
        )
        return by_rule(cards_of(client, body))["crs.active"]["extension"]["org.crs-cds.finding"]

    assert window(62)["astctGrade"] == 1  # PALS neonate: hypotension below 60 mmHg, so 62 is fever alone
    assert window(58)["astctGrade"] == 2


def test_a_birth_date_known_only_to_the_year_uses_the_older_age_and_says_so(client):
    year_only = str((NOW - timedelta(days=6 * 365 + 200)).year)
    crs = by_rule(cards_of(client, grade_3_child(weight(20), birth_date=year_only)))["crs.active"]
    assert "Birth date known only to the year" in crs["detail"]


def test_a_weight_in_pounds_is_converted_before_the_dose(client):
    pounds = vital("29463-7", 44.1, "lb", "[lb_av]", 24, "wlb")
    crs = by_rule(cards_of(client, grade_3_child(pounds)))["crs.active"]
    assert "(12 mg/kg for 20 kg)" in crs["detail"]



def test_a_birth_date_in_the_future_is_an_unknown_age_never_a_newborns_threshold(client):
    body = patient_view(patient("2062-03-02"), medicationAdministrations=searchset(car_t_given(72)),
                        vitalSigns=searchset(temperature(38.9), systolic(84)))
    card = by_rule(cards_of(client, body))["crs.active"]
    finding = card["extension"]["org.crs-cds.finding"]
    assert (card["indicator"], finding["astctGrade"]) == ("critical", 2)  # 84 < 90: a newborn's 60 would hide it
    assert "a birth date that cannot be right (in the future): adult thresholds were used" in card["detail"]


def test_with_no_birth_date_the_card_says_adult_thresholds_were_used(client):
    patient_resource = {k: v for k, v in patient().items() if k != "birthDate"}
    body = patient_view(patient_resource, medicationAdministrations=searchset(car_t_given(72)),
                        vitalSigns=searchset(temperature(38.9), systolic(84)))
    card = by_rule(cards_of(client, body))["crs.active"]
    assert "birth date: adult thresholds were used" in card["detail"]
