"""Suggestions: `SuggestedOrder`s turned into CDS Hooks create actions carrying FHIR R4 draft resources
(plain JSON).

The renderer never imports fhir.resources; the tests validate every resource produced here with the R4B
models.

    MedicationRequest: status draft, intent order, subject Patient/<id>, medicationCodeableConcept
                       (coding when system and code are known, else text only), dosageInstruction text,
                       authoredOn
    ServiceRequest:    status draft, intent order, subject Patient/<id>, code, note text, authoredOn
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cds_service.cdshooks.models import Action, Suggestion, utc_iso
from cds_service.domain.findings import SuggestedOrder
from cds_service.domain.findings import Suggestion as SuggestionFinding

SUPPORTED_RESOURCE_TYPES = frozenset({"MedicationRequest", "ServiceRequest"})


def suggestions(
    items: tuple[SuggestionFinding, ...],
    *,
    patient_id: str | None,
    uuid_factory: Callable[[], str],
    now: datetime,
) -> list[Suggestion]:
    """CDS Hooks suggestions for a finding's suggestions; none without a patient id (a draft needs a subject).

    Orders of a resource type other than MedicationRequest/ServiceRequest are left out; a suggestion left with
    no action is dropped.
    """
    if not patient_id:
        return []
    result: list[Suggestion] = []
    for item in items:
        actions = [
            _action(order, patient_id, now)
            for order in item.orders
            if order.resource_type in SUPPORTED_RESOURCE_TYPES
        ]
        if actions:
            result.append(
                Suggestion(
                    label=item.label, uuid=uuid_factory(), isRecommended=item.is_recommended, actions=actions
                )
            )
    return result


#: Per draft type: where the concept goes and where the order text goes (R4 MedicationRequest / ServiceRequest).
_DRAFT_FIELDS = {
    "MedicationRequest": ("medicationCodeableConcept", "dosageInstruction"),
    "ServiceRequest": ("code", "note"),
}


def _action(order: SuggestedOrder, patient_id: str, now: datetime) -> Action:
    """A create action for one suggested order: a draft MedicationRequest or ServiceRequest for this patient."""
    resource_type = order.resource_type if order.resource_type in _DRAFT_FIELDS else "ServiceRequest"
    concept_field, text_field = _DRAFT_FIELDS[resource_type]
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "status": "draft",
        "intent": "order",
        concept_field: codeable_concept(order),
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": utc_iso(now),
    }
    if order.text:
        resource[text_field] = [{"text": order.text}]
    return Action(type="create", description=order.label, resource=resource)


def codeable_concept(order: SuggestedOrder) -> dict[str, Any]:
    """The order's concept: a coding when system and code are both known, always the display as text."""
    concept: dict[str, Any] = {"text": order.display}
    if order.system and order.code:
        concept["coding"] = [{"system": order.system, "code": order.code, "display": order.display}]
    return concept
