"""Replay and JWKS caches shared by every worker and replica, in Redis (`CRS_CDS_REDIS_URL`).

Replay (`RedisReplayCache`, the `ReplayCache` protocol): one atomic command per token,

    SET {prefix}replay:{sha256(iss NUL jti)} 1 NX PXAT {exp + skew, in ms}   -> OK: first use; nil: replay

so two replicas given the same token at the same moment cannot both accept it. Redis unreachable: the call is
refused with 503 (fails closed, never "accept because we could not check").

JWKS (`RedisJwksCache`): the last fetched key set of each issuer, and a refresh claim

    SET {prefix}jwks-refresh:{sha256(iss)} 1 NX EX {jwks_refresh_min_seconds}

so a flood of made-up `kid`s makes at most one JWKS fetch per interval for all replicas together, and a
replica learns a rotated key that another replica fetched. Redis unreachable: each process falls back to its
own cache (keys are public; the call goes on).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from cds_service.errors import Unavailable
from cds_service.settings import Environment, Settings

log = logging.getLogger("cds_service.security")

Clock = Callable[[], datetime]
_TIMEOUT_SECONDS = 1.0
_JWKS_TTL_SECONDS = 24 * 3600


def connect_redis(settings: Settings) -> Redis | None:
    """The Redis client for CRS_CDS_REDIS_URL (short timeouts: a dead Redis must not hang calls), or None."""
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=_TIMEOUT_SECONDS,
        socket_connect_timeout=_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


class RedisReplayCache:
    """ReplayCache over Redis SET NX PXAT: each (iss, jti) accepted once across every process using `redis`."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def first_use(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """True the first time (iss, jti) is recorded; the record expires at `expires_at` (Redis' clock)."""
        key = f"{self._prefix}replay:{_digest(iss, jti)}"
        try:
            stored = await self._redis.set(key, b"1", nx=True, pxat=int(expires_at.astimezone(UTC).timestamp() * 1000))
        except RedisError as exc:
            log.error("replay cache unreachable: %s", type(exc).__name__)
            raise Unavailable("the replay cache is unreachable; try again shortly") from None
        return bool(stored)


class RedisJwksCache:
    """Fetched JWKS documents per issuer and a cross-replica refresh limit, in Redis."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def load(self, iss: str) -> Any | None:
        """The last JWKS document stored for `iss`, or None (absent, unreadable, or Redis unreachable)."""
        try:
            raw = await self._redis.get(f"{self._prefix}jwks:{_digest(iss)}")
        except RedisError as exc:
            log.warning("shared JWKS cache unreachable: %s", type(exc).__name__)
            return None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    async def store(self, iss: str, document: Any) -> None:
        try:
            await self._redis.set(f"{self._prefix}jwks:{_digest(iss)}", json.dumps(document), ex=_JWKS_TTL_SECONDS)
        except RedisError as exc:
            log.warning("shared JWKS cache unreachable: %s", type(exc).__name__)

    async def claim_refresh(self, iss: str, interval_seconds: int) -> bool:
        """True when this process may fetch `iss`'s JWKS now (no process did in the last interval).

        Redis unreachable: True (the caller then applies its own per-process limit).
        """
        try:
            claimed = await self._redis.set(
                f"{self._prefix}jwks-refresh:{_digest(iss)}", b"1", nx=True, ex=interval_seconds
            )
        except RedisError as exc:
            log.warning("shared JWKS cache unreachable: %s", type(exc).__name__)
            return True
        return bool(claimed)


def workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why `crs-cds serve --workers N` must not start (production, N > 1, no shared cache); None when it may."""
    if workers <= 1 or settings.redis_url is not None or settings.environment is Environment.development:
        return None
    return (
        f"refusing to start {workers} workers in production without a shared replay cache: each worker keeps its "
        "own record of used JWTs, so a token used on one worker would be accepted again by another. "
        "Set CRS_CDS_REDIS_URL (e.g. redis://redis:6379/0; see docs/DEPLOY.md), or run with --workers 1."
    )
