"""Test keys, token minting and an Authenticator wired with a settable clock (no network, no environment)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service.security.authenticator import Authenticator
from cds_service.security.issuers import IssuerRegistry, TrustedIssuer
from cds_service.security.keys import KeyStore
from cds_service.security.replay import InMemoryReplayCache
from cds_service.settings import Settings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
URL = "https://cds.example.org/cds-services/crs-patient-view"
ISS = "https://ehr.example.org"
KID = "ehr-key-1"
FHIR_BASE = "https://fhir.example.org/r4"
JWKS_URL = "https://ehr.example.org/.well-known/jwks.json"
DROP = object()  # a claim or header value meaning "leave this out"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@cache
def ec_key(curve_name: str = "P-384") -> ec.EllipticCurvePrivateKey:
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[curve_name]
    return ec.generate_private_key(curve)


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key: Any, kid: str = KID, alg: str | None = None) -> dict[str, Any]:
    """The public JWK of a private key, with kid (and alg when given)."""
    public = private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        data = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    data |= {"kid": kid, "use": "sig"}
    if alg:
        data["alg"] = alg
    return data


def claims(**overrides: Any) -> dict[str, Any]:
    """CDS Hooks claims valid at NOW for URL, with overrides (DROP removes a claim)."""
    base: dict[str, Any] = {
        "iss": ISS,
        "aud": URL,
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 300,
        "jti": str(uuid.uuid4()),
    }
    merged = base | overrides
    return {name: value for name, value in merged.items() if value is not DROP}


def mint(
    private_key: Any = None,
    alg: str = "ES384",
    *,
    headers: dict[str, Any] | None = None,
    **claim_overrides: Any,
) -> str:
    """A signed JWT: kid KID and typ JWT unless `headers` says otherwise (DROP removes a header)."""
    key = private_key if private_key is not None else ec_key()
    header = {"kid": KID, "typ": "JWT"} | (headers or {})
    dropped = [name for name, value in header.items() if value is DROP]
    header = {name: value for name, value in header.items() if value is not DROP}
    token = jwt.encode(claims(**claim_overrides), key, algorithm=alg, headers=header)
    if dropped:  # PyJWT always writes typ; rebuild the header by hand when a test removes it
        token = _resign_without(token, key, alg, dropped)
    return token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _resign_without(token: str, key: Any, alg: str, dropped: list[str]) -> str:
    header = jwt.get_unverified_header(token)
    for name in dropped:
        header.pop(name, None)
    payload = jwt.api_jws.PyJWS().decode_complete(token, options={"verify_signature": False})["payload"]
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(payload)}".encode()
    algorithm = jwt.get_algorithm_by_name(alg)
    signature = algorithm.sign(signing_input, algorithm.prepare_key(key))
    return f"{signing_input.decode()}.{_b64(signature)}"


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand (for alg none and malformed cases)."""
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(payload).encode())
    return f"{head}.{body}.{_b64(signature)}"


def hs256_token(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """An HS256 token whose HMAC secret is `secret` (PyJWT refuses to build it with a PEM, so by hand)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def issuer(*jwks_keys: dict[str, Any], **fields: Any) -> TrustedIssuer:
    """A trusted issuer ISS with inline keys (default: the P-384 test key) and FHIR_BASE."""
    keys = list(jwks_keys) or [public_jwk(ec_key())]
    values: dict[str, Any] = {"iss": ISS, "jwks": {"keys": keys}, "fhir_servers": [FHIR_BASE]}
    values |= fields
    if "jwks_url" in fields:
        values.pop("jwks")
    return TrustedIssuer.model_validate(values)


def authenticator(
    *issuers: TrustedIssuer,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    settings: Settings | None = None,
) -> Authenticator:
    """An Authenticator over `issuers` (default: one inline issuer), with an in-process replay cache."""
    clock = clock or Clock()
    settings = settings or Settings(environment="production", auth_mode="required")
    registry = IssuerRegistry(issuers or (issuer(),))
    client = httpx.AsyncClient(transport=transport or httpx.MockTransport(_no_network))
    key_store = KeyStore(client, refresh_min_seconds=settings.jwks_refresh_min_seconds, clock=clock)
    return Authenticator(registry, key_store, InMemoryReplayCache(clock), settings, clock)


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected HTTP request to {request.url}")


def bearer(token: str) -> str:
    return f"Bearer {token}"
