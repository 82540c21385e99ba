"""Evaluate a hook request with no HTTP server: the same pipeline as the route, for `crs-cds evaluate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cds_service.cdshooks.body import validate
from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES, SERVICES_BY_ID
from cds_service.errors import InvalidRequest, UnknownService
from cds_service.pipeline import answer_hook
from cds_service.runtime import build_runtime
from cds_service.security.authenticator import Caller
from cds_service.settings import AuthMode, Environment, Settings
from cds_service.store import SqlStore

#: The operator running the CLI: no JWT, and no issuer-approved FHIR servers (the SSRF guard then allows
#: only loopback servers, and only in development mode).
CLI_CALLER = Caller(issuer="crs-cds-cli", tenant=None, fhir_servers=(), auth_disabled=True)


async def evaluate_file(path: Path, settings: Settings, *, service_id: str | None = None) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"cannot read {path}: {exc}") from None
    return await evaluate_data(data, settings, service_id=service_id)


async def evaluate_data(data: Any, settings: Settings, *, service_id: str | None = None) -> dict[str, Any]:
    """The response JSON a hook call with this body would get."""
    request = validate(HookRequest, data)
    if service_id is None:
        service = next((s for s in SERVICES if s.hook == request.hook), None)
        if service is None:
            raise UnknownService(f"no service answers the hook '{request.hook}'")
    elif (service := SERVICES_BY_ID.get(service_id)) is None:
        raise UnknownService(f"no CDS service with id '{service_id}'")
    # Offline there is no caller to authenticate: evaluate as the development service would, without a JWT.
    offline = settings.model_copy(update={"environment": Environment.development, "auth_mode": AuthMode.disabled})
    runtime = build_runtime(offline, store=_memory_store())
    try:
        response = await answer_hook(request, service, runtime, CLI_CALLER)
    finally:
        await runtime.aclose()
    return response.model_dump(mode="json")


def _memory_store() -> SqlStore:
    store = SqlStore("sqlite:///:memory:")
    store.create_schema()
    return store
