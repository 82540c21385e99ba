"""AuditWriter: the card audit written in batches, off the request path.

Every issued card gets an audit row (feedback joins to it; the governance report counts it). Writing one row set
per hook call cost a database round trip and, on SQLite, an fsync per call. The writer keeps the rows of the
calls of the last `interval` seconds (100 ms by default) and writes them in one statement from a worker thread:

    hook call --submit(rows)--> buffer --(first row starts a timer; at interval or max_batch)--> store.record_cards

- Bounded: when `max_pending` rows wait (the store is slow or down), `submit` writes the buffer itself before it
  returns, so memory stays bounded and the slowness shows as latency, never as lost rows or a growing process.
- `flush()` writes what waits now: the feedback route calls it, so feedback always finds the card it answers.
- `aclose()` (application shutdown) writes what is left.
- A store failure is logged (counts only, never patient data) and the rows are kept for the next attempt, up to
  `max_pending`; beyond that the oldest are dropped with an error in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import anyio

from cds_service.errors import StoreError
from cds_service.store.sql import IssuedCard

log = logging.getLogger(__name__)


class CardStore(Protocol):
    def record_cards(self, cards: Sequence[IssuedCard]) -> None: ...


class AuditWriter:
    def __init__(
        self, store: CardStore, *, interval: float = 0.1, max_batch: int = 500, max_pending: int = 20_000
    ) -> None:
        self._store = store
        self._interval = interval
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[IssuedCard] = []
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def submit(self, cards: Sequence[IssuedCard]) -> None:
        """Queue the audit rows of one response; write now only when the buffer is full."""
        if not cards:
            return
        self._pending.extend(cards)
        if len(self._pending) >= self._max_pending:
            await self.flush()
        elif len(self._pending) >= self._max_batch:
            self._start_timer(0.0)
        else:
            self._start_timer(self._interval)

    async def flush(self) -> None:
        """Write every waiting row (one statement, in a worker thread)."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await anyio.to_thread.run_sync(self._store.record_cards, batch)
            except StoreError as exc:
                kept = (batch + self._pending)[-self._max_pending :]
                dropped = len(batch) + len(self._pending) - len(kept)
                self._pending = kept
                log.error("card audit not stored (%d rows kept, %d dropped): %s", len(kept), dropped, exc)

    async def aclose(self) -> None:
        """Stop the timer and write what is left (application shutdown)."""
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        await self.flush()

    def _start_timer(self, delay: float) -> None:
        if self._timer is None or self._timer.done():
            self._timer = asyncio.get_running_loop().create_task(self._flush_after(delay))

    async def _flush_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.flush()
        if self._pending:  # rows arrived while writing
            self._timer = None
            self._start_timer(self._interval)
