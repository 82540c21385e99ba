"""What an active-CRS card offers and considers, through the HTTP API: tocilizumab at the dose of the charted
weight within the label's limits, blood cultures and antibiotics when due, this patient's differential with its
values, and guidance by drug class (never the CAR-T algorithm on another class's card).
"""

from __future__ import annotations

from typing import Any

from tests.chart_kit import (
    LOINC,
    SUBJECT,
    at,
    by_rule,
    cards_of,
    patient,
    patient_view,
    searchset,
    systolic,
    temperature,
    vital,
)


def given(drug: str, hours: float, oid: str, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration", "id": oid, "status": status, "subject": SUBJECT,
        "medicationCodeableConcept": {"text": drug}, "effectiveDateTime": at(hours),
    }


def lab(text: str, value: float, unit: str, hours: float, oid: str, *, code: str | None = None,
        flag: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": oid, "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": {"text": text, **({"coding": [{"system": LOINC, "code": code}]} if code else {})},
        "subject": SUBJECT, "effectiveDateTime": at(hours),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }
    if flag:
        resource["interpretation"] = [{"coding": [{"code": flag}]}]
    return resource


def grade_2(drug: str = "axicabtagene ciloleucel", *, administrations: tuple[dict[str, Any], ...] = (),
            labs: tuple[dict[str, Any], ...] = (), statements: tuple[dict[str, Any], ...] = (),
            weight_kg: float | None = 80) -> dict[str, Any]:
    """Fever 38.9 °C and a systolic of 84 mmHg with no vasopressor, 3 days after `drug`: ASTCT grade 2."""
    vitals = [temperature(38.9), systolic(84)]
    if weight_kg is not None:
        vitals.append(vital("29463-7", weight_kg, "kg", "kg", 24, "w1"))
    return patient_view(
        patient("1970-05-01"),
        medicationAdministrations=searchset(given(drug, 72, "drug-1"), *administrations),
        medicationStatements=searchset(*statements),
        vitalSigns=searchset(*vitals),
        labs=searchset(*labs),
    )


def crs_card(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    card = by_rule(cards_of(client, body))["crs.active"]
    assert card["extension"]["org.crs-cds.finding"]["astctGrade"] == 2
    return card


def labels(card: dict[str, Any]) -> list[str]:
    return [s["label"] for s in card.get("suggestions") or []]


def test_grade_2_after_car_t_offers_tocilizumab_by_weight_blood_cultures_and_antibiotics(client):
    card = crs_card(client, grade_2())
    assert labels(card)[:3] == [
        "Tocilizumab 640 mg IV over 1 h",
        "Blood cultures (peripheral and line)",
        "Empiric antibiotics per local protocol",
    ]
    assert "Tocilizumab 640 mg IV over 1 h (8 mg/kg for 80 kg)" in card["detail"]


def test_a_heavy_patient_gets_at_most_800_mg(client):
    card = crs_card(client, grade_2(weight_kg=130))
    assert "Tocilizumab 800 mg IV over 1 h" in labels(card)


def test_three_doses_in_24_hours_stop_the_offer_and_the_card_says_why(client):
    doses = tuple(given("tocilizumab", h, f"toci-{h}") for h in (20, 12, 9))
    card = crs_card(client, grade_2(administrations=doses))
    assert not any(label.startswith("Tocilizumab") for label in labels(card))
    assert "Tocilizumab: 3 doses in 24 h already (the maximum is 3)." in card["detail"]


def test_a_dose_2_hours_ago_says_when_the_next_may_be_given(client):
    card = crs_card(client, grade_2(administrations=(given("tocilizumab", 2, "toci-1"),)))
    assert not any(label.startswith("Tocilizumab") for label in labels(card))
    assert "Tocilizumab: the next dose no sooner than 18:00 UTC (8 h after the last)." in card["detail"]


def test_the_differential_shows_culture_lactate_and_neutrophils_with_their_values(client):
    culture = {
        "resourceType": "Observation", "id": "bc-1", "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": "600-7"}]}, "subject": SUBJECT,
        "effectiveDateTime": at(10), "valueCodeableConcept": {"text": "Escherichia coli"},
    }
    labs = (culture, lab("Lactate", 3.2, "mmol/L", 3, "lac-1"), lab("Neutrophils", 0.3, "10*9/L", 4, "anc-1",
                                                                      code="751-8"))
    card = crs_card(client, grade_2(labs=labs))
    detail = card["detail"]
    assert "Lactate 3.2 mmol/L at 09:00 UTC." in detail
    assert "Neutrophils 0.3 ×10⁹/L at 08:00 UTC." in detail
    culture_line = (
        "Blood culture positive (Escherichia coli, 02:00 UTC): treat the infection; the CRS grade is provisional."
    )
    assert culture_line in detail
    assert "Neutropenic fever: empiric broad-spectrum antibiotics now" in detail


def test_long_term_corticosteroids_name_adrenal_insufficiency(client):
    prednisone = {
        "resourceType": "MedicationStatement", "id": "pred-1", "status": "active", "subject": SUBJECT,
        "medicationCodeableConcept": {"text": "prednisone 10 mg tablet"},
        "effectivePeriod": {"start": at(30 * 24)},
    }
    card = crs_card(client, grade_2(statements=(prednisone,)))
    assert "On corticosteroids for 30 days: consider adrenal insufficiency" in card["detail"]


def test_a_cortisol_the_laboratory_flagged_low_names_adrenal_insufficiency(client):
    cortisol = lab("Cortisol", 2.1, "ug/dL", 6, "cort-1", flag="L")
    card = crs_card(client, grade_2(labs=(cortisol,)))
    assert "Cortisol 2.1 µg/dL at 06:00 UTC, flagged low: consider adrenal insufficiency." in card["detail"]


def test_a_bispecific_card_says_withhold_the_next_dose_and_never_gives_the_car_t_algorithm(client):
    card = crs_card(client, grade_2("teclistamab"))
    detail = card["detail"]
    assert "Withhold the next dose of teclistamab until CRS resolves" in detail
    assert "500-1000 mL" not in detail and "640 mg" not in detail


def test_a_checkpoint_inhibitor_card_points_to_immune_related_adverse_events(client):
    card = by_rule(cards_of(client, grade_2("nivolumab")))["crs.active"]
    detail = card["detail"]
    assert "CRS is rare after checkpoint inhibitors: assess for immune-related adverse events." in detail
    assert "tocilizumab" not in detail.lower() and "T-cell engager" not in detail


def test_an_anti_thymocyte_globulin_card_treats_an_infusion_reaction(client):
    card = by_rule(cards_of(client, grade_2("anti-thymocyte globulin (rabbit)")))["crs.active"]
    assert "stop the" in card["detail"] and "infusion" in card["detail"]
    assert "tocilizumab" not in card["detail"].lower()


def test_what_is_already_ordered_is_not_suggested_again(client):
    toci_order = {
        "resourceType": "MedicationRequest", "id": "toci-order", "status": "active", "intent": "order",
        "subject": SUBJECT, "authoredOn": at(1),
        "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                  "code": "612865"}], "text": "tocilizumab 640 mg IV"},
    }
    cultures = {
        "resourceType": "ServiceRequest", "id": "bc-order", "status": "active", "intent": "order", "subject": SUBJECT,
        "authoredOn": at(1), "code": {"coding": [{"system": LOINC, "code": "600-7"}], "text": "Blood culture"},
    }
    body = grade_2()
    body["prefetch"]["medicationRequests"] = searchset(toci_order)
    body["prefetch"]["serviceRequests"] = searchset(cultures)
    card = crs_card(client, body)
    assert labels(card)[:1] == ["Empiric antibiotics per local protocol"]
    fresh = crs_card(client, grade_2())
    assert labels(fresh)[:2] == ["Tocilizumab 640 mg IV over 1 h", "Blood cultures (peripheral and line)"]
