"""Verification of the CDS Hooks 2.0 JWT that a CDS client sends on every call.

    Authorization: Bearer <JWT>

Steps, in order (each failure raises AuthenticationError with an internal reason, logged to
"cds_service.security" without the token; the caller only ever sees a generic 401):

 1. header present, scheme Bearer, token of three base64url segments (at most 16 KiB);
 2. JOSE header: `alg` one of ES256/384/512, RS256/384/512, PS256/384/512 (checked before any verification, so
    `none` and HMAC never reach PyJWT); `kid` present; `typ` JWT if present; no `crit`;
 3. `iss` (read unverified only to choose the keys) is a trusted issuer; a `jku`, if present, is on the
    issuer's `jku_allowed` list (it is never fetched);
 4. the key named by `kid` fits `alg` (EC curve or RSA), and the signature verifies with `algorithms=[alg]`;
 5. claims, with the injected clock and `Settings.jwt_clock_skew_seconds` of leeway: `aud` equals the exact
    URL called (string, or array containing it); `exp` in the future; `iat` present and not in the future;
    `nbf`, if present, passed; `jti` present; `tenant` on the issuer's list when the issuer lists tenants;
 6. (iss, jti) not seen before (ReplayCache, remembered until exp + skew).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from redis.asyncio import Redis

from cds_service.errors import AuthenticationError
from cds_service.security.issuers import IssuerRegistry, TrustedIssuer, load_issuers
from cds_service.security.jwks import ALLOWED_ALGORITHMS
from cds_service.security.keys import KeyStore
from cds_service.security.replay import InMemoryReplayCache, ReplayCache
from cds_service.security.shared_cache import RedisJwksCache, RedisReplayCache
from cds_service.settings import AuthMode, Settings

log = logging.getLogger("cds_service.security")

Clock = Callable[[], datetime]

_MAX_TOKEN_CHARS = 16 * 1024
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_BEARER = re.compile(r"Bearer +(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class Caller:
    """Who called: the verified issuer, its tenant, and the FHIR servers that issuer's requests may name."""

    issuer: str
    tenant: str | None
    fhir_servers: tuple[str, ...]
    auth_disabled: bool = False


#: The caller of every request when authentication is disabled (development only).
UNAUTHENTICATED = Caller(issuer="(authentication disabled)", tenant=None, fhir_servers=(), auth_disabled=True)


def _show(value: Any) -> str:
    """An attacker-supplied value, safe for a log line: repr (no raw newlines) cut to 80 characters."""
    return repr(str(value)[:80])


def _show_url(url: str) -> str:
    """The URL called, for a log line: its path is the caller's, so cut and escaped like any caller value."""
    return repr(url[:200])


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Authenticator:
    """Verifies CDS Hooks JWTs against the trusted-issuer registry."""

    def __init__(
        self,
        registry: IssuerRegistry,
        key_store: KeyStore,
        replay_cache: ReplayCache,
        settings: Settings,
        clock: Clock = _utc_now,
    ) -> None:
        self._registry = registry
        self._keys = key_store
        self._replay = replay_cache
        self._settings = settings
        self._clock = clock
        self._skew = timedelta(seconds=settings.jwt_clock_skew_seconds)

    async def authenticate(self, authorization_header: str | None, url: str) -> Caller:
        """The verified Caller for a call to `url`; AuthenticationError (reason logged) when unacceptable."""
        if self._settings.auth_mode is AuthMode.disabled:
            return UNAUTHENTICATED
        try:
            return await self._verify(authorization_header, url)
        except AuthenticationError as exc:
            log.warning("JWT refused url=%s reason=%s: %s", _show_url(url), exc.reason, exc.message)
            raise

    async def aclose(self) -> None:
        """Release the JWKS HTTP client."""
        await self._keys.aclose()

    async def _verify(self, authorization_header: str | None, url: str) -> Caller:
        token = _bearer_token(authorization_header)
        header = _checked_header(token)
        issuer = self._issuer(_unverified_claims(token), header)
        key = await self._keys.key_for(issuer, header["kid"])
        if not key.accepts(header["alg"]):
            raise AuthenticationError(f"key {_show(key.kid)} does not fit alg {header['alg']}", reason="key")
        claims = _verified_claims(token, key.key, header["alg"])
        expires_at = self._check_claims(claims, url, issuer)
        tenant = claims.get("tenant")
        if not await self._replay.first_use(issuer.iss, claims["jti"], expires_at + self._skew):
            jti, iss = _show(claims["jti"]), _show(issuer.iss)
            raise AuthenticationError(f"jti {jti} already used (replay) iss={iss}", reason="replay")
        return Caller(issuer=issuer.iss, tenant=tenant, fhir_servers=issuer.fhir_servers)

    def _issuer(self, claims: dict[str, Any], header: dict[str, Any]) -> TrustedIssuer:
        """The trusted issuer named by the (still unverified) `iss`, after the `jku` allowlist check."""
        iss = claims.get("iss")
        issuer = self._registry.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthenticationError(f"iss {_show(iss)} is not a trusted issuer", reason="issuer")
        jku = header.get("jku")
        if jku is not None and jku not in issuer.jku_allowed:
            raise AuthenticationError(f"jku {_show(jku)} is not allowed for iss {_show(iss)}", reason="issuer")
        return issuer

    def _check_claims(self, claims: dict[str, Any], url: str, issuer: TrustedIssuer) -> datetime:
        """Check aud, exp, iat, nbf, jti and tenant against `url`, the clock and `issuer`; return exp."""
        now = self._clock()
        aud = claims.get("aud")
        if not (aud == url or (isinstance(aud, list) and url in aud)):
            raise AuthenticationError(f"aud {_show(aud)} is not the URL called", reason="audience")
        expires_at = _time_claim(claims, "exp", required=True)
        if expires_at is None or now >= expires_at + self._skew:
            raise AuthenticationError("token expired (exp)", reason="expired")
        issued_at = _time_claim(claims, "iat", required=True)
        if issued_at is None or issued_at > now + self._skew:
            raise AuthenticationError("token issued in the future (iat)", reason="time-claims")
        lifetime = self._settings.jwt_max_lifetime_seconds
        if (expires_at - issued_at).total_seconds() > lifetime or (now - issued_at).total_seconds() > lifetime:
            raise AuthenticationError(
                f"token lives longer than jwt_max_lifetime_seconds ({lifetime} s)", reason="lifetime"
            )
        not_before = _time_claim(claims, "nbf", required=False)
        if not_before is not None and not_before > now + self._skew:
            raise AuthenticationError("token not yet valid (nbf)", reason="time-claims")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise AuthenticationError("jti missing or not a string of at most 256 characters", reason="claims")
        self._check_tenant(claims.get("tenant"), issuer)
        return expires_at

    @staticmethod
    def _check_tenant(tenant: Any, issuer: TrustedIssuer) -> None:
        if tenant is not None and not isinstance(tenant, str):
            raise AuthenticationError("tenant is not a string", reason="tenant")
        if issuer.tenants and tenant not in issuer.tenants:
            raise AuthenticationError(
                f"tenant {_show(tenant)} is not allowed for iss {_show(issuer.iss)}", reason="tenant"
            )


def _bearer_token(authorization_header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, shape-checked."""
    if authorization_header is None or not authorization_header.strip():
        raise AuthenticationError("no Authorization header", reason="missing")
    match = _BEARER.fullmatch(authorization_header.strip())
    if match is None:
        raise AuthenticationError("Authorization header is not 'Bearer <token>'", reason="malformed")
    token = match.group(1)
    if len(token) > _MAX_TOKEN_CHARS or not _TOKEN_SHAPE.fullmatch(token):
        raise AuthenticationError("malformed token: not a compact JWS of three base64url segments", reason="malformed")
    return token


def _checked_header(token: str) -> dict[str, Any]:
    """The JOSE header, refused unless alg is allowed, kid present, typ JWT (if present) and no crit."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthenticationError("malformed token: unreadable JOSE header", reason="malformed") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise AuthenticationError(f"alg {_show(alg)} is not accepted", reason="algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AuthenticationError("kid missing from the JOSE header", reason="header")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
        raise AuthenticationError(f"typ {_show(typ)} is not JWT", reason="header")
    if "crit" in header:
        raise AuthenticationError("crit header parameters are not supported", reason="header")
    return header


def _claims_object(payload: bytes) -> dict[str, Any]:
    try:
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise AuthenticationError("malformed token: payload is not JSON", reason="malformed") from None
    if not isinstance(claims, dict):
        raise AuthenticationError("malformed token: payload is not a JSON object", reason="malformed")
    return claims


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload before verification: used only to find the issuer whose keys verify it."""
    try:
        decoded = jwt.api_jws.PyJWS().decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthenticationError("malformed token: unreadable payload", reason="malformed") from None
    return _claims_object(decoded["payload"])


def _verified_claims(token: str, key: Any, alg: str) -> dict[str, Any]:
    """The payload after its signature verifies with `key` under exactly `alg`."""
    try:
        payload = jwt.api_jws.PyJWS().decode(token, key=key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        raise AuthenticationError("signature does not verify", reason="signature") from None
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"signature check failed: {type(exc).__name__}", reason="signature") from None
    return _claims_object(payload)


def _time_claim(claims: dict[str, Any], name: str, *, required: bool) -> datetime | None:
    """A NumericDate claim as an aware datetime; None when absent and optional."""
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthenticationError(f"{name} missing or not a NumericDate", reason="time-claims")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise AuthenticationError(f"{name} is not a representable time", reason="time-claims") from None


def build_authenticator(
    settings: Settings,
    *,
    clock: Clock = _utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    redis: Redis | None = None,
) -> Authenticator:
    """The Authenticator for `settings`: registry from the issuer file, JWKS client, replay cache (in Redis
    when `redis` is given, shared by every worker and replica; else in this process).

    Raises ValueError (naming file and field) for an invalid issuer file, or when authentication is required
    and no issuer file is configured.
    """
    if settings.trusted_issuers_file is not None:
        registry = load_issuers(settings.trusted_issuers_file)
    elif settings.auth_mode is AuthMode.required:
        raise ValueError(
            "auth_mode=required needs a trusted issuers file (CRS_CDS_TRUSTED_ISSUERS_FILE); "
            "see docs/SECURITY.md and examples/trusted-issuers.sandbox.yaml"
        )
    else:
        registry = IssuerRegistry()
    client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
    prefix = settings.redis_key_prefix
    key_store = KeyStore(
        client,
        refresh_min_seconds=settings.jwks_refresh_min_seconds,
        clock=clock,
        shared=RedisJwksCache(redis, prefix=prefix) if redis is not None else None,
    )
    replay: ReplayCache = RedisReplayCache(redis, prefix=prefix) if redis is not None else InMemoryReplayCache(clock)
    return Authenticator(registry, key_store, replay, settings, clock)


def startup_warning(settings: Settings) -> str | None:
    """The warning to log at start-up when authentication is disabled; None otherwise."""
    if settings.auth_mode is not AuthMode.disabled:
        return None
    return (
        "AUTHENTICATION IS DISABLED (auth_mode=disabled, environment=development): every caller is accepted "
        "without a JWT, and FHIR servers are limited to https or loopback addresses. "
        "Never use real patient data."
    )
