"""Suggestions: create actions whose resources are valid FHIR R4 drafts for the patient (R4B models)."""

from __future__ import annotations

import pytest
import rendering_cases as cases
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.domain.findings import SuggestedOrder, Suggestion
from cds_service.rendering.renderer import CardRenderer

MODELS = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}


def _actions(renderer: CardRenderer, patient_id: str | None = "pat-9") -> list[dict[str, object]]:
    (card,) = renderer.render([cases.order_missing()], patient_id=patient_id)
    return [a.model_dump(mode="json") for s in card.suggestions or [] for a in s.actions or []]


def test_every_suggested_resource_validates_as_fhir_r4(renderer: CardRenderer) -> None:
    actions = _actions(renderer)
    assert len(actions) == 4
    for action in actions:
        resource = action["resource"]
        assert isinstance(resource, dict)
        MODELS[resource["resourceType"]].model_validate(resource)


def test_suggested_resources_are_draft_orders_for_the_patient(renderer: CardRenderer) -> None:
    for action in _actions(renderer, "pat-9"):
        resource = action["resource"]
        assert isinstance(resource, dict)
        assert action["type"] == "create" and action["description"]
        assert (resource["status"], resource["intent"]) == ("draft", "order")
        assert resource["subject"] == {"reference": "Patient/pat-9"}


def test_a_medication_with_a_known_code_carries_the_coding_and_one_without_only_text(
    renderer: CardRenderer,
) -> None:
    medications = [
        a["resource"] for a in _actions(renderer) if a["resource"]["resourceType"] == "MedicationRequest"
    ]  # type: ignore[index]
    coded, uncoded = (m["medicationCodeableConcept"] for m in medications)  # type: ignore[index]
    assert coded["coding"] == [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3264", "display": "dexamethasone"}
    ]
    assert uncoded == {"text": "acetaminophen"}
    assert medications[0]["dosageInstruction"] == [{"text": "16 mg PO or IV 1-3 h before each step-up dose"}]  # type: ignore[index]


def test_suggestions_have_uuids_labels_recommendation_and_the_card_selection_behaviour_any(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.order_missing()], patient_id="p")
    assert card.selectionBehavior == "any"
    assert [(s.label, s.isRecommended) for s in card.suggestions or []] == [
        ("Dexamethasone 16 mg 1-3 h before each step-up dose", True),
        ("Acetaminophen 650-1000 mg", True),
        ("Baseline: C reactive protein, Ferritin", False),
    ]
    uuids = [card.uuid, *(s.uuid for s in card.suggestions or [])]
    assert len(set(uuids)) == 4 and all(uuids)


def test_without_a_patient_id_no_order_is_suggested_and_no_selection_behaviour_is_set(
    renderer: CardRenderer,
) -> None:
    (card,) = renderer.render([cases.order_missing()], patient_id=None)
    assert card.suggestions is None and card.selectionBehavior is None


@pytest.mark.parametrize("resource_type", ["Procedure", "Task"])
def test_an_order_of_an_unsupported_resource_type_is_left_out(
    renderer: CardRenderer, resource_type: str
) -> None:
    from dataclasses import replace

    odd = Suggestion(label="odd", orders=(SuggestedOrder(resource_type, "x", None, None, "x"),))
    (card,) = renderer.render([replace(cases.order_missing(), suggestions=(odd,))], patient_id="p")
    assert card.suggestions is None
