"""Prefetch template rendering: every 2.0 token, URL-encoding, and no query when a token has no value."""

from __future__ import annotations

import pytest

from cds_service.cdshooks.models import HookContext
from cds_service.fhir.templates import missing_tokens, render_template


def context(**fields: object) -> HookContext:
    return HookContext.model_validate(fields)


def test_context_tokens_are_replaced() -> None:
    rendered = render_template(
        "Encounter/{{context.encounterId}}?patient={{context.patientId}}",
        context(patientId="123", encounterId="e9"),
    )
    assert rendered == "Encounter/e9?patient=123"


@pytest.mark.parametrize(
    ("user_id", "token"),
    [
        ("Practitioner/abc", "userPractitionerId"),
        ("PractitionerRole/abc", "userPractitionerRoleId"),
        ("Patient/abc", "userPatientId"),
        ("RelatedPerson/abc", "userRelatedPersonId"),
    ],
)
def test_user_tokens_come_from_the_user_id_of_their_type(user_id: str, token: str) -> None:
    assert render_template(f"X?who={{{{{token}}}}}", context(userId=user_id)) == "X?who=abc"


def test_a_user_token_of_another_type_has_no_value() -> None:
    assert render_template("Patient/{{userPatientId}}", context(userId="Practitioner/abc")) is None


def test_the_user_id_token_itself_is_encoded() -> None:
    assert (
        render_template("X?u={{context.userId}}", context(userId="Practitioner/abc"))
        == "X?u=Practitioner%2Fabc"
    )


def test_values_are_url_encoded_as_query_values() -> None:
    rendered = render_template("Observation?patient={{context.patientId}}", context(patientId="a b&c=d#e"))
    assert rendered == "Observation?patient=a%20b%26c%3Dd%23e"


def test_a_token_without_value_means_no_query() -> None:
    assert render_template("Observation?patient={{context.patientId}}", context()) is None


def test_an_unknown_token_means_no_query_and_is_never_sent_literally() -> None:
    assert render_template("Observation?date=gt{{today() - 90 days}}", context(patientId="1")) is None
    assert render_template("Medication/{{context.medication.id}}", context(patientId="1")) is None


def test_missing_tokens_names_what_had_no_value() -> None:
    template = "Observation?patient={{context.patientId}}&encounter={{context.encounterId}}"
    assert missing_tokens(template, context(patientId="1")) == ["context.encounterId"]


def test_a_template_without_tokens_is_unchanged() -> None:
    assert render_template("Metadata?_count=1", context()) == "Metadata?_count=1"
