"""The in-process replay cache remembers each (iss, jti) until it expires, and fails closed when full."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from security_helpers import NOW, Clock

from cds_service.security.replay import InMemoryReplayCache

LATER = NOW + timedelta(minutes=5)


def first_use(cache: InMemoryReplayCache, iss: str, jti: str, expires_at: datetime = LATER) -> bool:
    return asyncio.run(cache.first_use(iss, jti, expires_at))


def test_a_jti_is_accepted_once_per_issuer() -> None:
    cache = InMemoryReplayCache(Clock())
    assert first_use(cache, "iss-a", "j1")
    assert not first_use(cache, "iss-a", "j1")
    assert first_use(cache, "iss-b", "j1")


def test_an_expired_entry_is_forgotten() -> None:
    clock = Clock()
    cache = InMemoryReplayCache(clock)
    first_use(cache, "iss", "j1")
    clock.advance(299)
    assert not first_use(cache, "iss", "j1")
    clock.advance(1)
    assert first_use(cache, "iss", "j1", LATER + timedelta(minutes=5))
    assert len(cache) == 1


def test_a_full_cache_refuses_new_tokens_rather_than_forgetting_old_ones() -> None:
    clock = Clock()
    cache = InMemoryReplayCache(clock, max_entries=2)
    assert first_use(cache, "iss", "j1") and first_use(cache, "iss", "j2")
    assert not first_use(cache, "iss", "j3")
    clock.advance(301)
    assert first_use(cache, "iss", "j3")
