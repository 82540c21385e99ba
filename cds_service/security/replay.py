"""Replay protection: each (iss, jti) pair is accepted once within the token's lifetime.

`ReplayCache` is the protocol the Authenticator uses; `InMemoryReplayCache` is the per-process
implementation, `shared_cache.RedisReplayCache` the shared one (used when CRS_CDS_REDIS_URL is set). A deployment
with several workers or replicas must share the cache, or a token refused by one replica is still accepted by
another. A shared store implements `first_use` as one atomic "set if absent, with expiry" operation, e.g. Redis:

    SET replay:{sha256(iss + "\\x00" + jti)} 1 NX PXAT {expires_at in ms}   -> "OK" = first use, nil = replay

(or PostgreSQL: `INSERT ... ON CONFLICT DO NOTHING` on a primary key (iss, jti) with an `expires_at` column
and a periodic `DELETE WHERE expires_at < now()`). The check must be atomic: read-then-write lets two
concurrent requests with the same token both pass.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

Clock = Callable[[], datetime]


class ReplayCache(Protocol):
    """Remembers (iss, jti) pairs until they expire."""

    async def first_use(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """Record (iss, jti) until `expires_at`; True if it was not already recorded (and unexpired)."""
        ...


class InMemoryReplayCache:
    """A per-process ReplayCache: a dict plus a heap of expiry times, pruned on every call.

    Bounded by `max_entries`: when full of unexpired entries it refuses new tokens (fails closed) rather than
    forgetting a jti that could then be replayed.
    """

    def __init__(self, clock: Clock, *, max_entries: int = 1_000_000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._expiry: dict[tuple[str, str], datetime] = {}
        self._heap: list[tuple[datetime, tuple[str, str]]] = []

    async def first_use(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """True the first time (iss, jti) is seen before it expires; False for a replay or a full cache."""
        now = self._clock()
        self._prune(now)
        key = (iss, jti)
        if key in self._expiry or len(self._expiry) >= self._max_entries:
            return False
        self._expiry[key] = expires_at
        heapq.heappush(self._heap, (expires_at, key))
        return True

    def __len__(self) -> int:
        return len(self._expiry)

    def _prune(self, now: datetime) -> None:
        while self._heap and self._heap[0][0] <= now:
            expires_at, key = heapq.heappop(self._heap)
            if self._expiry.get(key) == expires_at:
                del self._expiry[key]
