"""Key resolution: the public key named by a JWT's `kid`, for a trusted issuer.

Inline key sets (in the issuer file) are parsed once. Fetched key sets (`jwks_url`) are fetched with the
injected httpx.AsyncClient on first use, cached per issuer, and fetched again only when a token names a `kid`
the cache does not hold, and then at most once per `Settings.jwks_refresh_min_seconds` per issuer (so a stream
of tokens with made-up `kid`s cannot turn the service into a request amplifier).
Redirects are never followed; a token's `jku` is never fetched (the issuer file says where keys are).

With a shared cache (`shared_cache.RedisJwksCache`, when CRS_CDS_REDIS_URL is set) the interval holds for all
workers and replicas together, and a key set fetched by one is read by the others; without it the cache is per
process (each replica fetches its own copy, which is harmless: keys are public).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from cds_service.errors import AuthenticationError
from cds_service.security.issuers import TrustedIssuer
from cds_service.security.jwks import VerificationKey, parse_jwks

log = logging.getLogger("cds_service.security")

Clock = Callable[[], datetime]

_MAX_JWKS_BYTES = 256 * 1024
_FETCH_TIMEOUT_SECONDS = 5.0
_ACCEPT = "application/jwk-set+json, application/json"


@dataclass
class _CachedSet:
    keys: dict[str, VerificationKey] = field(default_factory=dict)
    last_attempt: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SharedKeySets(Protocol):
    """Key sets shared across processes (see `shared_cache.RedisJwksCache`)."""

    async def load(self, iss: str) -> Any | None: ...

    async def store(self, iss: str, document: Any) -> None: ...

    async def claim_refresh(self, iss: str, interval_seconds: int) -> bool: ...


class KeyStore:
    """Public keys per issuer, from the issuer file or fetched from the issuer's `jwks_url`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        refresh_min_seconds: int,
        clock: Clock,
        shared: SharedKeySets | None = None,
    ) -> None:
        self._client = client
        self._refresh_min = timedelta(seconds=refresh_min_seconds)
        self._clock = clock
        self._shared = shared
        self._sets: dict[str, _CachedSet] = {}

    async def key_for(self, issuer: TrustedIssuer, kid: str) -> VerificationKey:
        """The key `kid` of `issuer`; AuthenticationError when the issuer has no such key, after refresh."""
        if issuer.jwks is not None:
            return self._inline_key(issuer, kid)
        cached = self._sets.setdefault(issuer.iss, _CachedSet())
        if kid not in cached.keys:
            async with cached.lock:
                if kid not in cached.keys and self._may_fetch(cached):
                    await self._update(issuer, cached, kid)
        key = cached.keys.get(kid)
        if key is None:
            raise AuthenticationError(f"issuer {issuer.iss!r} has no key with kid {kid[:80]!r}", reason="unknown-key")
        return key

    async def aclose(self) -> None:
        """Close the HTTP client used for JWKS fetches."""
        await self._client.aclose()

    def _inline_key(self, issuer: TrustedIssuer, kid: str) -> VerificationKey:
        cached = self._sets.get(issuer.iss)
        if cached is None:
            cached = self._sets[issuer.iss] = _CachedSet(keys=parse_jwks(issuer.jwks, strict=True))
        key = cached.keys.get(kid)
        if key is None:
            raise AuthenticationError(f"issuer {issuer.iss!r} has no key with kid {kid[:80]!r}", reason="unknown-key")
        return key

    def _may_fetch(self, cached: _CachedSet) -> bool:
        return cached.last_attempt is None or self._clock() - cached.last_attempt >= self._refresh_min

    async def _update(self, issuer: TrustedIssuer, cached: _CachedSet, kid: str) -> None:
        """Look for `kid`: in the shared cache first, then by fetching (when no process fetched lately)."""
        if self._shared is None:
            await self._refresh(issuer, cached)
            return
        document = await self._shared.load(issuer.iss)
        if document is not None:
            try:
                cached.keys = parse_jwks(document, strict=False)
            except ValueError:
                document = None
        if kid in cached.keys:
            return
        if await self._shared.claim_refresh(issuer.iss, int(self._refresh_min.total_seconds())):
            await self._refresh(issuer, cached)
        else:
            cached.last_attempt = self._clock()

    async def _refresh(self, issuer: TrustedIssuer, cached: _CachedSet) -> None:
        """Fetch the issuer's JWKS; on failure keep the keys already cached and log why."""
        cached.last_attempt = self._clock()
        url = issuer.jwks_url or ""
        try:
            document = await self._fetch(url)
            cached.keys = parse_jwks(document, strict=False)
        except (httpx.HTTPError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("JWKS fetch failed issuer=%r url=%s: %s", issuer.iss, url, reason)
            return
        if self._shared is not None:
            await self._shared.store(issuer.iss, document)
        log.info("JWKS fetched issuer=%r keys=%d", issuer.iss, len(cached.keys))

    async def _fetch(self, url: str) -> Any:
        """GET `url` (no redirects), expecting a JWKS JSON document of bounded size."""
        response = await self._client.get(
            url, follow_redirects=False, timeout=_FETCH_TIMEOUT_SECONDS, headers={"Accept": _ACCEPT}
        )
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        if len(response.content) > _MAX_JWKS_BYTES:
            raise ValueError("JWKS document too large")
        return response.json()
