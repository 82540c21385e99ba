"""The OpenAPI document, made to say what the service really does.

FastAPI's generated document is corrected in three ways: the request bodies (read by hand for the size and
JSON limits) are declared as component schemas whose `$ref`s resolve; every operation lists exactly the
statuses it can answer, each error with the OperationOutcome schema as `application/fhir+json`; and
FastAPI's 422 (never sent: validation errors are 400s) is removed. `tests/cdshooks/test_openapi_document.py`
validates the result with openapi-spec-validator.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

FHIR_JSON = "application/fhir+json"
_REF = "#/components/schemas/{model}"


class OperationOutcomeIssue(BaseModel):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str | None = None
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    """The body of every non-2xx answer (FHIR R4 OperationOutcome, one issue)."""

    resourceType: Literal["OperationOutcome"]
    issue: list[OperationOutcomeIssue]


_WHY = {
    400: "Malformed JSON, a schema violation (the field is in issue[0].expression) or a hook mismatch.",
    401: "A CDS Hooks JWT is missing or not acceptable (the reason is logged, not returned).",
    404: "No CDS service with this id.",
    412: "No data could be had for the patient, neither from prefetch nor from the FHIR server.",
    413: "The request body is larger than CRS_CDS_MAX_BODY_BYTES.",
    500: "An internal error; the service log has the details.",
    503: "A dependency is unreachable (the store, or Redis for the replay cache); retry later.",
}

#: (method, path) -> the error statuses the operation can answer.
ERROR_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("get", "/cds-services"): (401, 500, 503),
    ("post", "/cds-services/{service_id}"): (400, 401, 404, 412, 413, 500, 503),
    ("post", "/cds-services/{service_id}/feedback"): (400, 401, 404, 413, 500, 503),
    ("get", "/governance/feedback"): (400, 401, 500, 503),
    ("get", "/healthz"): (),
    ("get", "/readyz"): (503,),
    ("get", "/metrics"): (),
    ("post", "/smart/timeline"): (400, 413, 500),
    ("get", "/smart/config"): (),
}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body by hand: a required JSON body of `model`."""
    ref = {"$ref": _REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def body_models() -> tuple[type[BaseModel], ...]:
    from cds_service.cdshooks.models import FeedbackRequest, HookRequest

    return (HookRequest, FeedbackRequest, OperationOutcome)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document of `app`, corrected as the module docstring says (cached on the app)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema([(m, "validation") for m in body_models()], ref_template=_REF)
    schemas.update(definitions.get("$defs", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _set_errors(operation, ERROR_STATUSES.get((method, path), (500,)))
    app.openapi_schema = document
    return document


def _set_errors(operation: dict[str, Any], statuses: tuple[int, ...]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    outcome = {"schema": {"$ref": _REF.format(model="OperationOutcome")}}
    for status in statuses:
        responses[str(status)] = {"description": _WHY[status], "content": {FHIR_JSON: outcome}}
