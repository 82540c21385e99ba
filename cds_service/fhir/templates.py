"""Prefetch template rendering (CDS Hooks 2.0 "Prefetch tokens").

    "Observation?patient={{context.patientId}}&_count=200" + context{patientId: "p 1"}
        -> "Observation?patient=p%201&_count=200"

Tokens: `{{context.<field>}}` for root-level primitive context fields (patientId, encounterId, userId, ...)
and the four user tokens of 2.0 derived from `context.userId` ("Practitioner/123" -> `{{userPractitionerId}}`
= "123"). A token without a value means the query is not made: `render_template` returns None, so a literal
`{{...}}` is never sent to a server. Values are percent-encoded as query values.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from cds_service.cdshooks.models import HookContext

_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

#: user token -> the resource type `context.userId` must name for the token to have a value.
USER_TOKENS: dict[str, str] = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}


def token_values(context: HookContext) -> dict[str, str]:
    """Every token with a value in this context: `context.<field>` of primitive fields, and user tokens."""
    values: dict[str, str] = {}
    for name, value in context.model_dump(exclude_none=True).items():
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
            values[f"context.{name}"] = str(value)
    user_type, _, user_id = (context.userId or "").rpartition("/")
    user_type = user_type.rsplit("/", 1)[-1]  # tolerate an absolute userId URL
    for token, resource_type in USER_TOKENS.items():
        if user_type == resource_type and user_id:
            values[token] = user_id
    return values


def render_template(template: str, context: HookContext) -> str | None:
    """The template with every token replaced by its percent-encoded value; None if one has none."""
    values = token_values(context)
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(match.group(1))
        if value is None:
            missing = True
            return ""
        return quote(value, safe="")

    rendered = _TOKEN.sub(substitute, template)
    if missing or "{{" in rendered or "}}" in rendered:
        return None
    return rendered


def missing_tokens(template: str, context: HookContext) -> list[str]:
    """The tokens of a template that have no value in this context (for logs and data-gap wording)."""
    values = token_values(context)
    return [m.group(1) for m in _TOKEN.finditer(template) if m.group(1) not in values]
