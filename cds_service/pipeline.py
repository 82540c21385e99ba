"""The one core function behind every hook call: request -> record -> facts -> findings -> cards -> response.

The HTTP route and `crs-cds evaluate` both call `answer_hook`. I/O happens only at the two ends (FHIR fetches
inside build_record; the audit write after rendering); everything between is pure.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial

import anyio

from cds_service.cdshooks.models import Card, CdsResponse, HookRequest
from cds_service.cdshooks.services import ServiceDefinition
from cds_service.clinical.burden import HOLD_REASONS, INTERRUPTIVE, remember
from cds_service.clinical.rules import evaluate
from cds_service.domain.findings import Finding
from cds_service.errors import InvalidRequest, StoreError
from cds_service.fhir.prefetch import build_record
from cds_service.intake.builder import printable
from cds_service.reading.extract import extract_facts
from cds_service.runtime import Runtime
from cds_service.security.authenticator import Caller
from cds_service.security.fhir_guard import fhir_server_permitted
from cds_service.store import IssuedCard

log = logging.getLogger("cds_service.hooks")

FINDING_EXTENSION = "org.crs-cds.finding"
ORDER_HOOKS = frozenset({"order-select", "order-sign"})


def check_request(request: HookRequest, service: ServiceDefinition) -> None:
    """The request must be for this service's hook and carry the context the hook requires."""
    if request.hook != service.hook:
        raise InvalidRequest(
            f"hook '{request.hook}' does not match service '{service.id}', which answers '{service.hook}'",
            expression=["hook"],
        )
    if not request.context.patientId:
        raise InvalidRequest(
            f"context.patientId is required by the {service.hook} hook", expression=["context.patientId"]
        )
    if service.hook in ORDER_HOOKS and request.context.draftOrders is None:
        raise InvalidRequest(
            f"context.draftOrders is required by the {service.hook} hook", expression=["context.draftOrders"]
        )


async def answer_hook(
    request: HookRequest, service: ServiceDefinition, runtime: Runtime, caller: Caller
) -> CdsResponse:
    """Evaluate one hook call and return its response; the cards issued are recorded for feedback."""
    check_request(request, service)
    started = time.perf_counter()
    now = runtime.clock().astimezone(runtime.settings.zone)  # cards write times in the display zone
    fhir_allowed = bool(request.fhirServer) and fhir_server_permitted(
        request.fhirServer or "", caller, runtime.settings
    )
    record = await build_record(
        request,
        service,
        runtime.gateway,
        fhir_allowed=fhir_allowed,
        knowledge=runtime.knowledge,
        settings=runtime.settings,
        now=now,
    )
    fetched = time.perf_counter()
    facts = extract_facts(record, runtime.knowledge, now)
    findings = evaluate(facts, runtime.knowledge, hook=service.hook, config=runtime.rule_config)
    findings = await _with_memory(runtime, request.context.patientId, findings)
    cards = runtime.renderer.render(findings, patient_id=request.context.patientId)
    await _audit(runtime, service, request, cards)
    log.info(
        "hook answered service=%s hookInstance=%s cards=%d findings=%d gaps=%d set_aside=%d "
        "record_ms=%.1f total_ms=%.1f",
        service.id,
        printable(request.hookInstance, 64),
        len(cards),
        len(findings),
        len(record.gaps),
        len(record.set_aside),
        (fetched - started) * 1000,
        (time.perf_counter() - started) * 1000,
    )
    return CdsResponse(cards=cards)


async def _with_memory(runtime: Runtime, patient_id: str | None, findings: list[Finding]) -> list[Finding]:
    """Interrupt once: repeats of what this patient was shown, not worse, become info (clinical/burden.py). The
    memory is read and written in the store, so every worker and replica shares it. Without a patient key (no
    pepper) or when the store fails, the findings go out unchanged: a repeat is better than a lost alert."""
    key = runtime.store.patient_key(patient_id) if patient_id else None
    if key is None or not any(f.severity in INTERRUPTIVE for f in findings):
        return findings
    try:
        # The read, the pure decision and the write in one step. SQLite (a local file, WAL: about a millisecond)
        # runs on the loop: a thread hop per call made the latency tail four times longer (docs/PERFORMANCE.md);
        # a network database runs in a worker thread, so a slow one never stalls the loop.
        if runtime.store.dialect == "sqlite":
            return _remembered(runtime, key, findings)
        return await anyio.to_thread.run_sync(partial(_remembered, runtime, key, findings))
    except StoreError:
        log.warning("card memory unavailable: cards sent without repeat suppression")
        return findings


def _remembered(runtime: Runtime, key: str, findings: list[Finding]) -> list[Finding]:
    now = runtime.clock()
    config = runtime.burden
    shown, holds = runtime.store.recall(key, since=now - timedelta(hours=config.hold_hours), hours=config.hold_hours,
                                        reasons=HOLD_REASONS)
    remembered = remember(findings, shown, holds, now, config)
    runtime.store.remember(key, remembered.shown)
    return remembered.findings


async def _audit(
    runtime: Runtime, service: ServiceDefinition, request: HookRequest, cards: list[Card]
) -> None:
    """Queue an audit row for every issued card (written in batches: store/audit.py); never blocks the cards."""
    issued = [
        IssuedCard(
            card_uuid=card.uuid,
            service_id=service.id,
            hook_instance=request.hookInstance,
            patient_id=request.context.patientId,
            rule_id=str((card.extension or {}).get(FINDING_EXTENSION, {}).get("ruleId", "unknown")),
            indicator=card.indicator.value,
            issued_at=runtime.clock(),
        )
        for card in cards
        if card.uuid
    ]
    await runtime.audit.submit(issued)
