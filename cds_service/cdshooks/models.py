"""CDS Hooks 2.0 wire models: requests, responses (cards), feedback and discovery.

Requests are tolerant: unknown fields and `extension` objects are accepted (other servers broke on exactly this).
Responses leave out absent and empty values, as the specification requires (`{"cards": []}` excepted).
Spec: HL7 CDS Hooks 2.0 (v2.0.1), sections "Calling a CDS Service", "CDS Service Response", "Feedback".
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)

SUMMARY_MAX = 140  # the spec: "<140 characters"; we enforce at most 140
MAX_ID = 256  # card, suggestion and hookInstance ids: UUIDs in practice; the store keeps up to this length


class _Tolerant(BaseModel):
    """Request-side model: unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Strict(BaseModel):
    """Response-side model: serialises without None and without empty containers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_serializer(mode="wrap")
    def _omit_empty(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != [] and v != {} and v != ""}
        return data


# ---------------------------------------------------------------- request


class FhirAuthorization(_Tolerant):
    access_token: str = Field(min_length=1)
    token_type: str = Field(min_length=1)
    expires_in: int
    scope: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    patient: str | None = None

    def __repr__(self) -> str:  # never show the token
        return f"FhirAuthorization(token_type={self.token_type!r}, scope={self.scope!r}, subject={self.subject!r})"

    __str__ = __repr__


class HookContext(_Tolerant):
    """The union of the contexts of patient-view, order-select and order-sign (hook library STU1)."""

    userId: str | None = None
    patientId: str | None = None
    encounterId: str | None = None
    selections: list[str] | None = None
    draftOrders: dict[str, Any] | None = None

    @field_validator("draftOrders")
    @classmethod
    def _draft_orders_is_bundle(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("resourceType") != "Bundle":
            raise ValueError("draftOrders must be a FHIR Bundle")
        return value


class HookRequest(_Tolerant):
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1, max_length=MAX_ID)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: HookContext
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _authorization_needs_server(self) -> HookRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirServer is required when fhirAuthorization is present (cds-r-1)")
        return self


# ---------------------------------------------------------------- response


class Indicator(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


INDICATOR_ORDER = {Indicator.critical: 0, Indicator.warning: 1, Indicator.info: 2}


class Coding(_Strict):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = None


class OverrideReason(Coding):
    display: str = Field(min_length=1)  # required on override reasons (cds-resp-4)


class Source(_Strict):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Strict):
    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    resource: dict[str, Any] | None = None
    resourceId: str | None = None  # a relative reference, e.g. "ServiceRequest/1" (2.0: string)

    @model_validator(mode="after")
    def _resource_matches_type(self) -> Action:
        if self.type in ("create", "update") and self.resource is None:
            raise ValueError(f"a {self.type} action needs a resource")
        if self.type == "delete" and not self.resourceId:
            raise ValueError("a delete action needs resourceId (cds-resp-2)")
        return self


class Suggestion(_Strict):
    label: str = Field(min_length=1)
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Link(_Strict):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]
    appContext: str | None = None
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _app_context_only_on_smart(self) -> Link:
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is allowed only on smart links (cds-resp-3)")
        return self


class Card(_Strict):
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = None
    links: list[Link] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _selection_behavior_with_suggestions(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions are present (cds-resp-6)")
        recommended = sum(1 for s in self.suggestions or [] if s.isRecommended)
        if self.selectionBehavior == "at-most-one" and recommended > 1:
            raise ValueError("at most one recommended suggestion with at-most-one (cds-resp-1)")
        return self


class CdsResponse(BaseModel):
    """`{"cards": [...]}`; cards is always present, even empty (the one exception to "omit empty")."""

    model_config = ConfigDict(extra="forbid")

    cards: list[Card] = Field(default_factory=list)
    systemActions: list[Action] | None = None

    @model_serializer(mode="wrap")
    def _keep_cards(self, handler: Any) -> Any:
        data = handler(self)
        if not data.get("systemActions"):
            data.pop("systemActions", None)
        return data


# ---------------------------------------------------------------- feedback


class AcceptedSuggestion(_Tolerant):
    id: str = Field(min_length=1, max_length=MAX_ID)


class FeedbackCoding(_Tolerant):
    """A Coding as an EHR sends it back (extra fields such as userSelected tolerated)."""

    system: str | None = None
    code: str | None = None
    display: str | None = None


class OverrideReasonFeedback(_Tolerant):
    reason: FeedbackCoding | None = None
    userComment: str | None = Field(None, max_length=10_000)


class FeedbackEntry(_Tolerant):
    card: str = Field(min_length=1, max_length=MAX_ID)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReasonFeedback | None = None
    outcomeTimestamp: AwareDatetime

    @field_validator("outcomeTimestamp")
    @classmethod
    def _representable_in_utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("outcomeTimestamp is out of range") from None

    @model_validator(mode="after")
    def _outcome_rules(self) -> FeedbackEntry:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when the outcome is accepted (cds-fb-2)")
        if self.outcome == "accepted" and self.overrideReason is not None:
            raise ValueError("overrideReason is only allowed when the outcome is overridden (cds-fb-3)")
        return self


class FeedbackRequest(_Tolerant):
    feedback: list[FeedbackEntry] = Field(min_length=1, max_length=1000)  # a batch; more is a 400


# ---------------------------------------------------------------- discovery


class ServiceDescriptor(_Strict):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None
    extension: dict[str, Any] | None = None


class DiscoveryResponse(BaseModel):
    services: list[ServiceDescriptor]


def utc_iso(moment: datetime) -> str:
    """RFC 3339 text of an aware datetime, in UTC with a Z."""
    from datetime import UTC

    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
