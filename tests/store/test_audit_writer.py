"""The batched card audit: one store write per batch, nothing lost at shutdown, bounded when the store is slow."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from cds_service.errors import StoreError
from cds_service.store.audit import AuditWriter
from cds_service.store.sql import IssuedCard

AT = datetime(2026, 11, 24, 12, tzinfo=UTC)


def card(n: int) -> IssuedCard:
    return IssuedCard(f"uuid-{n}", "crs-patient-view", f"hook-{n}", "p1", "crs.active", "critical", AT)


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    def record_cards(self, cards: Sequence[IssuedCard]) -> None:
        if self.fail:
            self.fail -= 1
            raise StoreError("store write failed: OperationalError")
        self.batches.append([c.card_uuid for c in cards])


def test_the_rows_of_many_calls_are_written_in_one_batch_after_the_interval() -> None:
    store = Recorder()

    async def go() -> None:
        writer = AuditWriter(store, interval=0.05)
        for n in range(20):
            await writer.submit([card(n)])
        assert store.batches == []  # nothing written on the request path
        await asyncio.sleep(0.2)
        await writer.aclose()

    asyncio.run(go())
    assert store.batches == [[f"uuid-{n}" for n in range(20)]]


def test_shutdown_writes_what_waits() -> None:
    store = Recorder()

    async def go() -> None:
        writer = AuditWriter(store, interval=60)
        await writer.submit([card(1), card(2)])
        await writer.aclose()

    asyncio.run(go())
    assert store.batches == [["uuid-1", "uuid-2"]]


def test_a_full_buffer_is_written_by_the_caller_so_memory_stays_bounded() -> None:
    store = Recorder()

    async def go() -> int:
        writer = AuditWriter(store, interval=60, max_batch=1000, max_pending=5)
        for n in range(5):
            await writer.submit([card(n)])
        pending = writer.pending
        await writer.aclose()
        return pending

    assert asyncio.run(go()) == 0
    assert store.batches[0] == [f"uuid-{n}" for n in range(5)]


def test_a_failed_write_keeps_the_rows_for_the_next_attempt() -> None:
    store = Recorder(fail=1)

    async def go() -> None:
        writer = AuditWriter(store, interval=60)
        await writer.submit([card(1)])
        await writer.flush()  # fails: kept
        assert writer.pending == 1
        await writer.submit([card(2)])
        await writer.aclose()

    asyncio.run(go())
    assert store.batches == [["uuid-1", "uuid-2"]]
