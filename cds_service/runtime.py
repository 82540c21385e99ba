"""The shared objects of a running service, built once from Settings (in the app lifespan or by the CLI)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cds_service.clinical.burden import BurdenConfig
from cds_service.clinical.rules import RuleConfig
from cds_service.fhir.client import FhirGateway
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.loader import load_knowledge
from cds_service.observability.metrics import Metrics
from cds_service.rendering.renderer import CardRenderer
from cds_service.rendering.templates import TemplateSet, load_templates
from cds_service.security.authenticator import Authenticator, build_authenticator
from cds_service.security.shared_cache import connect_redis
from cds_service.settings import Settings
from cds_service.store import SqlStore
from cds_service.store.audit import AuditWriter
from cds_service.store.engine import MEMORY_URL

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
    burden: BurdenConfig
    clock: Clock
    audit: AuditWriter
    metrics: Metrics
    redis: Redis | None = None

    async def redis_reachable(self) -> bool | None:
        """None without Redis; else whether it answers PING."""
        if self.redis is None:
            return None
        try:
            return bool(await self.redis.ping())
        except RedisError:
            return False

    async def aclose(self) -> None:
        await self.audit.aclose()
        await self.gateway.aclose()
        await self.authenticator.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        self.store.dispose()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    uuid_factory: Callable[[], str] = random_uuid,
    fhir_transport: httpx.AsyncBaseTransport | None = None,
    jwks_transport: httpx.AsyncBaseTransport | None = None,
    store: SqlStore | None = None,
    metrics: Metrics | None = None,
    loaded: tuple[KnowledgeBase, TemplateSet] | None = None,
) -> Runtime:
    """Load knowledge and templates (failing fast with KnowledgeError), open the store (refusing, with
    StoreError, a database whose schema is behind the code), create the clients. `loaded`: knowledge and
    templates already loaded from `settings.knowledge_dir` (immutable, so tests share one load)."""
    if loaded is None:
        loaded = load_knowledge(settings.knowledge_dir, settings.site_knowledge_file), load_templates(
            settings.knowledge_dir / "templates"
        )
    knowledge, templates = loaded
    metrics = metrics or Metrics.for_process()
    if store is None:
        store = open_store(settings, metrics)
        if settings.database_url == MEMORY_URL:
            store.create_schema()  # a fresh in-memory database (offline evaluation) cannot be behind
        else:
            store.require_current_schema()
    redis = connect_redis(settings)
    return Runtime(
        settings=settings,
        knowledge=knowledge,
        renderer=CardRenderer(templates, settings, knowledge, uuid_factory=uuid_factory, clock=clock),
        gateway=FhirGateway.create(settings, transport=fhir_transport, observer=metrics.observe_fhir),
        authenticator=build_authenticator(settings, clock=clock, transport=jwks_transport, redis=redis),
        store=store,
        rule_config=RuleConfig.from_settings(settings, knowledge),
        burden=BurdenConfig(repeat_hours=settings.repeat_hours, hold_hours=settings.hold_hours),
        clock=clock,
        audit=AuditWriter(store),
        metrics=metrics,
        redis=redis,
    )


def open_store(settings: Settings, metrics: Metrics | None = None) -> SqlStore:
    """The store of `settings` (no schema check: `crs-cds db` uses it to migrate)."""
    return SqlStore(
        settings.database_url,
        pepper=settings.pepper,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        on_error=metrics.observe_store_error if metrics else lambda _operation: None,
    )


def describe(runtime: Runtime) -> dict[str, Any]:
    return {"knowledge_version": runtime.knowledge.version, "store": runtime.store.dialect}
