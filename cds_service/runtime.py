"""The shared objects of a running service, built once from Settings (in the app lifespan or by the CLI)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cds_service.clinical.rules import RuleConfig
from cds_service.fhir.client import FhirGateway
from cds_service.knowledge.loader import KnowledgeBase, load_knowledge
from cds_service.rendering.renderer import CardRenderer
from cds_service.rendering.templates import load_templates
from cds_service.security.authenticator import Authenticator, build_authenticator
from cds_service.settings import Settings
from cds_service.store import SqlStore
from cds_service.store.audit import AuditWriter

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def random_uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class Runtime:
    settings: Settings
    knowledge: KnowledgeBase
    renderer: CardRenderer
    gateway: FhirGateway
    authenticator: Authenticator
    store: SqlStore
    rule_config: RuleConfig
    clock: Clock
    audit: AuditWriter

    async def aclose(self) -> None:
        await self.audit.aclose()
        await self.gateway.aclose()
        await self.authenticator.aclose()
        self.store.dispose()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    uuid_factory: Callable[[], str] = random_uuid,
    fhir_transport: httpx.AsyncBaseTransport | None = None,
    jwks_transport: httpx.AsyncBaseTransport | None = None,
    store: SqlStore | None = None,
) -> Runtime:
    """Load knowledge and templates (failing fast with KnowledgeError), open the store, create the clients."""
    knowledge = load_knowledge(settings.knowledge_dir, settings.site_knowledge_file)
    templates = load_templates(settings.knowledge_dir / "templates")
    if store is None:
        store = SqlStore(settings.database_url)
        store.create_schema()
    return Runtime(
        settings=settings,
        knowledge=knowledge,
        renderer=CardRenderer(templates, settings, knowledge, uuid_factory=uuid_factory, clock=clock),
        gateway=FhirGateway.create(settings, transport=fhir_transport),
        authenticator=build_authenticator(settings, clock=clock, transport=jwks_transport),
        store=store,
        rule_config=RuleConfig.from_settings(settings, knowledge),
        clock=clock,
        audit=AuditWriter(store),
    )


def describe(runtime: Runtime) -> dict[str, Any]:
    return {"knowledge_version": runtime.knowledge.version, "store": runtime.store.dialect}
