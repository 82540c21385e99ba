"""Evaluate a hook request with no HTTP server: the same pipeline as the route, for `crs-cds evaluate`.

The input is a CDS Hooks request file, or a scenario folder (`fixtures/scenarios/<id>/`), whose times are
written against its anchor: evaluated at its anchor by default, or shifted to any other time (`--at`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from cds_service.cdshooks.body import validate
from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES, SERVICES_BY_ID
from cds_service.errors import InvalidRequest, UnknownService
from cds_service.pipeline import answer_hook
from cds_service.runtime import build_runtime, system_clock
from cds_service.security.authenticator import Caller
from cds_service.settings import AuthMode, Environment, Settings
from cds_service.store import SqlStore

#: The operator running the CLI: no JWT, and no issuer-approved FHIR servers (the SSRF guard then allows
#: only loopback servers, and only in development mode).
CLI_CALLER = Caller(issuer="crs-cds-cli", tenant=None, fhir_servers=(), auth_disabled=True)


@dataclass(frozen=True)
class OfflineRequest:
    """What to evaluate: the request JSON, the clock's time (None: the current time), and for a no-prefetch
    scenario an in-memory FHIR server with its data; `settings` are the scenario's own overrides."""

    data: dict[str, Any]
    now: datetime | None = None
    fhir_transport: httpx.AsyncBaseTransport | None = None
    settings: dict[str, Any] | None = None


def load_request(path: Path, at: datetime | None = None) -> OfflineRequest:
    """A request file (evaluated at `at`, else now) or a scenario folder (shifted from its anchor to `at`)."""
    if path.is_dir():
        from cds_service.tooling.scenarios import build_request, load_scenario, scenario_bundle
        from cds_service.tooling.validation import fhir_transport

        scenario = load_scenario(path)
        now = at or scenario.anchor
        transport = fhir_transport(scenario_bundle(scenario, now)) if scenario.no_prefetch else None
        return OfflineRequest(build_request(scenario, now), now, transport, scenario.settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"cannot read {path}: {exc}") from None
    return OfflineRequest(data, at)


async def evaluate_file(path: Path, settings: Settings, *, service_id: str | None = None) -> dict[str, Any]:
    return await evaluate_request(load_request(path), settings, service_id=service_id)


async def evaluate_request(
    offline: OfflineRequest, settings: Settings, *, service_id: str | None = None
) -> dict[str, Any]:
    """The response JSON the request would get, with the clock at `offline.now`."""
    if offline.settings:
        settings = Settings(**{**settings.model_dump(), **offline.settings})
    return await evaluate_data(
        offline.data, settings, service_id=service_id, now=offline.now, fhir_transport=offline.fhir_transport
    )


async def evaluate_data(
    data: Any,
    settings: Settings,
    *,
    service_id: str | None = None,
    now: datetime | None = None,
    fhir_transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """The response JSON a hook call with this body would get (at `now`, default the current time)."""
    request = validate(HookRequest, data)
    if service_id is None:
        service = next((s for s in SERVICES if s.hook == request.hook), None)
        if service is None:
            raise UnknownService(f"no service answers the hook '{request.hook}'")
    elif (service := SERVICES_BY_ID.get(service_id)) is None:
        raise UnknownService(f"no CDS service with id '{service_id}'")
    # Offline there is no caller to authenticate: evaluate as the development service would, without a JWT.
    offline = settings.model_copy(
        update={"environment": Environment.development, "auth_mode": AuthMode.disabled, "redis_url": None}
    )
    clock = (lambda: now) if now is not None else system_clock
    runtime = build_runtime(offline, clock=clock, store=_memory_store(), fhir_transport=fhir_transport)
    try:
        response = await answer_hook(request, service, runtime, CLI_CALLER)
    finally:
        await runtime.aclose()
    return response.model_dump(mode="json")


def _memory_store() -> SqlStore:
    store = SqlStore("sqlite:///:memory:")
    store.create_schema()
    return store
