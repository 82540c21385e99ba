"""HTTP routes of the CDS Hooks API: discovery, service invocation, feedback. Thin: parse, call, answer."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from cds_service.api.openapi import request_body
from cds_service.cdshooks.body import parse_json, read_body, validate
from cds_service.cdshooks.models import CdsResponse, DiscoveryResponse, FeedbackRequest, HookRequest
from cds_service.cdshooks.services import SERVICES, SERVICES_BY_ID, ServiceDefinition
from cds_service.errors import AuthenticationError, InvalidRequest, Unavailable, UnknownService
from cds_service.observability.metrics import CONTENT_TYPE
from cds_service.pipeline import FINDING_EXTENSION, answer_hook
from cds_service.runtime import Runtime
from cds_service.security.authenticator import Caller
from cds_service.store import StoredFeedback
from cds_service.store.report import build_report

log = logging.getLogger("cds_service.routes")
router = APIRouter()
metrics_router = APIRouter()  # included when CRS_CDS_METRICS_ENABLED (the default)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _caller(request: Request) -> Caller:
    """Verify the CDS Hooks JWT against the exact URL called (public base URL + path)."""
    runtime = _runtime(request)
    url = runtime.settings.public_base_url.rstrip("/") + request.url.path
    try:
        return await runtime.authenticator.authenticate(request.headers.get("authorization"), url)
    except AuthenticationError as exc:
        runtime.metrics.auth_failures.labels(exc.reason).inc()
        raise


def _service(service_id: str) -> ServiceDefinition:
    service = SERVICES_BY_ID.get(service_id)
    if service is None:
        raise UnknownService(f"no CDS service with id '{service_id}'; GET /cds-services lists them")
    return service


def _json(model: BaseModel) -> Response:
    """The model as compact UTF-8 JSON, serialised once by pydantic: the JSON JSONResponse sent, the same values
    (a float below 0.0001 is written without an exponent: 0.00001, not 1e-05)."""
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("/cds-services", response_model=DiscoveryResponse, response_model_exclude_none=True)
async def discovery(request: Request) -> Response:
    await _caller(request)
    return _json(DiscoveryResponse(services=[s.descriptor() for s in SERVICES]))


@router.post("/cds-services/{service_id}", response_model=CdsResponse, openapi_extra=request_body(HookRequest))
async def invoke(service_id: str, request: Request) -> Response:
    runtime = _runtime(request)
    started = time.perf_counter()
    try:
        caller = await _caller(request)
        service = _service(service_id)
        raw = await read_body(request, runtime.settings.max_body_bytes)
        hook_request = validate(HookRequest, parse_json(raw, runtime.settings))
        response = await answer_hook(hook_request, service, runtime, caller)
    finally:
        runtime.metrics.observe_hook(service_id, time.perf_counter() - started)
    for card in response.cards:
        rule = str((card.extension or {}).get(FINDING_EXTENSION, {}).get("ruleId", "unknown"))
        runtime.metrics.observe_card(rule, card.indicator.value)
    return _json(response)


@router.post("/cds-services/{service_id}/feedback", openapi_extra=request_body(FeedbackRequest))
async def feedback(service_id: str, request: Request) -> JSONResponse:
    runtime = _runtime(request)
    await _caller(request)
    service = _service(service_id)
    raw = await read_body(request, runtime.settings.max_body_bytes)
    body = validate(FeedbackRequest, parse_json(raw, runtime.settings))
    received = runtime.clock()
    entries = [_stored(service.id, entry, received) for entry in body.feedback]
    await runtime.audit.flush()  # so a card issued a moment ago is known to its feedback
    new = await anyio.to_thread.run_sync(runtime.store.record_feedback, entries)
    log.info("feedback stored service=%s entries=%d new=%d", service.id, len(entries), new)
    return JSONResponse({"received": len(entries), "stored": new})


def _stored(service_id: str, entry: Any, received: datetime) -> StoredFeedback:
    reason = entry.overrideReason.model_dump(mode="json", exclude_none=True) if entry.overrideReason else None
    return StoredFeedback(
        service_id=service_id,
        card_uuid=entry.card,
        outcome=entry.outcome,
        accepted_suggestions=[s.id for s in entry.acceptedSuggestions] if entry.acceptedSuggestions else None,
        override_reason=reason,
        outcome_timestamp=entry.outcomeTimestamp.astimezone(UTC),
        received_at=received,
    )


@router.get("/governance/feedback")
async def governance_feedback(request: Request, weeks: int = 12) -> JSONResponse:
    """The feedback report of `crs-cds report feedback` as JSON: the same authentication as the hooks (a CDS
    Hooks JWT of a trusted issuer; none in development with authentication disabled)."""
    runtime = _runtime(request)
    await _caller(request)
    if not 1 <= weeks <= 520:
        raise InvalidRequest("weeks must be between 1 and 520", expression=["weeks"])
    since = runtime.clock() - timedelta(weeks=weeks)
    cards, entries = await anyio.to_thread.run_sync(runtime.store.report_rows, since)
    lines = [line.as_json() for line in build_report(cards, entries)]
    return JSONResponse({"since": since.isoformat(), "lines": lines})


@router.get("/healthz", include_in_schema=True)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when the store (and Redis, when configured) answers; a 503 OperationOutcome names what does not."""
    runtime = _runtime(request)
    store_ok = await anyio.to_thread.run_sync(runtime.store.ping)
    redis_ok = await runtime.redis_reachable()
    down = [name for name, ok in (("store", store_ok), ("redis", redis_ok)) if ok is False]
    if down:
        raise Unavailable(f"not ready: {' and '.join(down)} unreachable")
    body = {"status": "ready", "knowledge": runtime.knowledge.version, "store": "reachable"}
    if redis_ok is not None:
        body["redis"] = "reachable"
    return JSONResponse(body)


@metrics_router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format: hook latency, cards, FHIR fetches, authentication failures, store errors."""
    return Response(_runtime(request).metrics.exposition(), media_type=CONTENT_TYPE)
