"""The JSON examples printed in the CDS Hooks 2.0 specification, read through our wire models.

The example files, and where each comes from, are in tests/spec_examples/ (see its README.md).
Response-side examples must survive a round trip unchanged: `model_dump(mode="json")` equals the printed
JSON, so we emit no null or empty value and drop nothing. Request-side examples must validate and keep
every field.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cds_service.cdshooks.models import (
    Action,
    Card,
    CdsResponse,
    DiscoveryResponse,
    FeedbackRequest,
    FhirAuthorization,
    HookContext,
    HookRequest,
    OverrideReason,
    ServiceDescriptor,
    Source,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "spec_examples"

DISCOVERY_EXAMPLES = ["discovery-response.json", "discovery-extension.json"]
PREFETCH_TEMPLATE_EXAMPLES = [
    "prefetch-template-hemoglobin-a1c.json",
    "prefetch-template-user-read.json",
    "prefetch-template-user-search.json",
    "prefetch-templates.json",
    "prefetch-template-fragment.json",
]
REQUEST_EXAMPLES = ["request-patient-view.json", "request-extension.json"]
CONTEXT_EXAMPLES = [
    "context-patient-id.json",
    "context-draft-orders.json",
    "context-draft-orders-with-medication-request-id.json",
    "context-patient-view-fragment.json",
    "context-hook-definition-example.json",
]
VALID_RESPONSE_EXAMPLES = ["response-example.json", "response-empty.json"]
FEEDBACK_EXAMPLES = [
    "feedback-accepted.json",
    "feedback-overridden-without-reason.json",
    "feedback-overridden-with-reason.json",
]


def example(name: str) -> Any:
    """The parsed JSON of one example file."""
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def request_dump(request: HookRequest) -> dict[str, Any]:
    """A request as JSON again, leaving out the optional fields the sender did not send."""
    return request.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------- the example files


def test_every_example_file_is_named_in_the_readme_with_its_source() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in EXAMPLES.glob("*.json"))
    assert files, "no example files found"
    assert [name for name in files if f"`{name}`" not in readme] == []


def test_no_example_file_keeps_jekyll_raw_markup() -> None:
    files = EXAMPLES.glob("*.json")
    leftovers = [path.name for path in files if "{%" in path.read_text(encoding="utf-8")]
    assert leftovers == []


# ---------------------------------------------------------------- discovery


@pytest.mark.parametrize("name", DISCOVERY_EXAMPLES)
def test_discovery_example_round_trips_unchanged(name: str) -> None:
    printed = example(name)
    assert DiscoveryResponse.model_validate(printed).model_dump(mode="json") == printed


@pytest.mark.parametrize("name", PREFETCH_TEMPLATE_EXAMPLES)
def test_prefetch_template_example_round_trips_in_a_service_descriptor(name: str) -> None:
    printed = {"hook": "patient-view", "id": "example", "description": "example", **example(name)}
    assert ServiceDescriptor.model_validate(printed).model_dump(mode="json") == printed


# ---------------------------------------------------------------- requests


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_request_example_validates_and_keeps_every_field(name: str) -> None:
    printed = example(name)
    assert request_dump(HookRequest.model_validate(printed)) == printed


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_request_example_with_unknown_fields_and_an_extension_still_validates(name: str) -> None:
    sent = copy.deepcopy(example(name))
    sent["org.example.unknownField"] = {"nested": [1, 2]}
    sent["context"]["org.example.unknownContextField"] = "kept"
    sent["extension"] = {**sent.get("extension", {}), "org.example.flag": True}
    if "fhirAuthorization" in sent:
        sent["fhirAuthorization"]["org.example.unknownTokenField"] = "kept"

    request = HookRequest.model_validate(sent)

    assert request.extension is not None and request.extension["org.example.flag"] is True
    assert request.model_extra == {"org.example.unknownField": {"nested": [1, 2]}}
    assert request.context.model_extra == {"org.example.unknownContextField": "kept"}
    assert request_dump(request) == sent


def test_fhir_authorization_example_validates_and_never_shows_its_token() -> None:
    printed = example("fhir-authorization.json")["fhirAuthorization"]
    authorization = FhirAuthorization.model_validate(printed)
    assert authorization.model_dump(mode="json", exclude_none=True) == printed
    assert printed["access_token"] not in repr(authorization)
    assert printed["access_token"] not in str(authorization)


@pytest.mark.parametrize("name", CONTEXT_EXAMPLES)
def test_context_example_validates_and_keeps_every_field(name: str) -> None:
    printed = example(name)["context"]
    assert HookContext.model_validate(printed).model_dump(mode="json", exclude_none=True) == printed


def test_prefetch_data_example_is_accepted_as_printed_in_a_request() -> None:
    sent = {**example("request-patient-view.json"), **example("prefetch-data.json")}
    request = HookRequest.model_validate(sent)
    assert request.prefetch == example("prefetch-data.json")["prefetch"]


# ---------------------------------------------------------------- responses


@pytest.mark.parametrize("name", VALID_RESPONSE_EXAMPLES)
def test_response_example_round_trips_unchanged(name: str) -> None:
    printed = example(name)
    assert CdsResponse.model_validate(printed).model_dump(mode="json") == printed


def test_response_example_keeps_the_smart_link_and_its_app_context() -> None:
    response = CdsResponse.model_validate(example("response-example.json"))
    smart = [link for link in response.cards[0].links or [] if link.type == "smart"]
    assert [link.appContext for link in smart] == ['{"session":3456356,"settings":{"module":4235}}']


def test_autolaunchable_example_is_rejected_for_its_missing_indicator() -> None:
    with pytest.raises(ValidationError, match="indicator"):
        CdsResponse.model_validate(example("response-autolaunchable.json"))


def test_autolaunchable_example_round_trips_once_the_required_indicator_is_added() -> None:
    fixed = example("response-autolaunchable.json")
    fixed["cards"][0]["indicator"] = "info"
    assert CdsResponse.model_validate(fixed).model_dump(mode="json") == fixed


def test_system_action_example_is_rejected_for_its_missing_description() -> None:
    with pytest.raises(ValidationError, match="description"):
        CdsResponse.model_validate(example("response-system-actions.json"))


def test_system_action_example_round_trips_once_the_required_description_is_added() -> None:
    fixed = example("response-system-actions.json")
    fixed["systemActions"][0]["description"] = "Update the MRI order"
    assert CdsResponse.model_validate(fixed).model_dump(mode="json") == fixed


@pytest.mark.parametrize("name", ["action-create.json", "action-update.json"])
def test_action_example_round_trips_unchanged(name: str) -> None:
    printed = example(name)
    assert Action.model_validate(printed).model_dump(mode="json") == printed


def test_delete_action_example_round_trips_unchanged() -> None:
    printed = example("action-delete.json")
    assert Action.model_validate(printed).model_dump(mode="json") == printed


def test_source_example_with_topic_round_trips_unchanged() -> None:
    printed = example("source.json")["source"]
    assert Source.model_validate(printed).model_dump(mode="json") == printed


def test_override_reasons_example_round_trips_unchanged_on_a_card() -> None:
    printed = {
        "summary": "Example Card",
        "indicator": "info",
        "source": {"label": "Static CDS Service Example"},
        **example("override-reasons.json"),
    }
    card = Card.model_validate(printed)
    assert all(isinstance(reason, OverrideReason) for reason in card.overrideReasons or [])
    assert card.model_dump(mode="json") == printed


# ---------------------------------------------------------------- feedback


@pytest.mark.parametrize("name", FEEDBACK_EXAMPLES)
def test_feedback_example_validates_and_keeps_every_field(name: str) -> None:
    printed = example(name)
    feedback = FeedbackRequest.model_validate(printed)
    assert feedback.model_dump(mode="json", exclude_none=True) == printed


def test_accepted_feedback_example_names_the_card_and_the_accepted_suggestion() -> None:
    entry = FeedbackRequest.model_validate(example("feedback-accepted.json")).feedback[0]
    assert entry.outcome == "accepted"
    assert [suggestion.id for suggestion in entry.acceptedSuggestions or []] == [
        "e56e1945-20b3-4393-8503-a1a20fd73152"
    ]
    assert entry.outcomeTimestamp.utcoffset() is not None


def test_overridden_feedback_example_carries_the_reason_code_and_comment() -> None:
    entry = FeedbackRequest.model_validate(example("feedback-overridden-with-reason.json")).feedback[0]
    assert entry.overrideReason is not None and entry.overrideReason.reason is not None
    assert entry.overrideReason.reason.code == "d7ecf885"
    assert entry.overrideReason.userComment == "A comment entered by the clinician."
