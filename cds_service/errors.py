"""The whole exception tree of crs-cds, and the one place each kind maps to an HTTP status.

    CrsCdsError                         base; never raised itself                      500
    ├── RequestError                    the caller sent something we cannot use        400
    │   ├── InvalidRequest              malformed JSON, schema violation, hook mismatch 400
    │   ├── PayloadTooLarge             body above the configured limit                 413
    │   └── UnknownService              no service with that id                         404
    ├── AuthenticationError             JWT missing or not acceptable                   401
    ├── PreconditionFailed              needed FHIR data obtainable neither way         412
    ├── Unavailable                     a shared dependency (Redis) is unreachable      503
    ├── KnowledgeError                  a knowledge or template file is invalid         start-up failure (500)
    └── StoreError                      the feedback/audit store failed, or its schema  500 (hooks log it);
                                        is behind the code                              start-up failure

Every non-2xx response body is a FHIR OperationOutcome built by `operation_outcome()`; the mapping from
exception to status lives in `http_status` on each class, never in message text.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CrsCdsError(Exception):
    """Base of every error the service raises on purpose."""

    http_status: ClassVar[int] = 500
    issue_code: ClassVar[str] = "exception"  # FHIR IssueType code

    def __init__(self, message: str, *, expression: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression or []


class RequestError(CrsCdsError):
    """The caller sent something the service cannot use (400)."""

    http_status = 400
    issue_code = "invalid"


class InvalidRequest(RequestError):
    """Malformed JSON, a schema violation (with the offending field in `expression`), or a hook mismatch."""


class PayloadTooLarge(RequestError):
    """The request body is larger than `Settings.max_body_bytes` (413)."""

    http_status = 413
    issue_code = "too-long"


class UnknownService(RequestError):
    """No CDS service has the requested id (404)."""

    http_status = 404
    issue_code = "not-found"


class AuthenticationError(CrsCdsError):
    """The caller's JWT is missing or not acceptable (401). The reason is logged, never returned.

    `reason` is a short fixed code ("expired", "replay", ...) for metrics; `message` the log text.
    """

    http_status = 401
    issue_code = "login"
    public_message: ClassVar[str] = "Authentication required: a valid CDS Hooks JWT was not presented."

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class Unavailable(CrsCdsError):
    """A shared dependency the call needs (the Redis replay cache) cannot be reached (503). Retry later."""

    http_status = 503
    issue_code = "transient"


class PreconditionFailed(CrsCdsError):
    """Data the service needs could be had neither from prefetch nor from the FHIR server (412)."""

    http_status = 412
    issue_code = "not-found"


class KnowledgeError(CrsCdsError):
    """A knowledge or card-template file is invalid; names file, entry and field. Stops start-up."""


class StoreError(CrsCdsError):
    """The feedback/audit store failed. Feedback answers 500; hooks log it and still answer."""

    issue_code = "transient"


def operation_outcome(
    message: str, *, severity: str = "error", code: str = "exception", expression: list[str] | None = None
) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome with one issue, as plain JSON."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def outcome_for(error: CrsCdsError) -> dict[str, Any]:
    """The OperationOutcome body for an error, hiding the reason of authentication failures."""
    if isinstance(error, AuthenticationError):
        return operation_outcome(AuthenticationError.public_message, code=error.issue_code)
    return operation_outcome(error.message, code=error.issue_code, expression=error.expression)
