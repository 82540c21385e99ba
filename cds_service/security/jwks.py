"""JSON Web Key Sets: parsing public signing keys and matching a key to a JWT algorithm.

Only asymmetric public keys are accepted (EC P-256/P-384/P-521, RSA of at least 2048 bits). A key that carries
private material, is marked for encryption, or declares an algorithm outside the allowed set is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

log = logging.getLogger("cds_service.security")

#: The only JWT algorithms accepted (CDS Hooks 2.0: asymmetric only; never `none`, never HMAC).
ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
_EC_CURVE_FOR_ALG = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class VerificationKey:
    """One public key of a JWKS: its `kid`, the cryptography key object, and its declared `alg` (if any)."""

    kid: str
    key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    declared_alg: str | None

    def accepts(self, alg: str) -> bool:
        """True when a JWT signed with `alg` may be verified with this key (key type, curve, declared alg)."""
        if alg not in ALLOWED_ALGORITHMS or (self.declared_alg is not None and self.declared_alg != alg):
            return False
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            return _EC_CURVE_FOR_ALG.get(alg) == self.key.curve.name
        return alg.startswith(("RS", "PS"))


def build_key(data: Any) -> VerificationKey:
    """One JWK (a JSON object) to a VerificationKey; ValueError says why it is unusable."""
    if not isinstance(data, dict):
        raise ValueError("a key must be a JSON object")
    kid = data.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("a key must have a non-empty string 'kid'")
    if data.get("kty") not in ("EC", "RSA"):
        raise ValueError(f"key {kid!r}: kty must be EC or RSA")
    if _PRIVATE_MEMBERS & data.keys():
        raise ValueError(f"key {kid!r} carries private key material; publish public keys only")
    if data.get("use", "sig") != "sig":
        raise ValueError(f"key {kid!r} is not a signing key (use={data.get('use')!r})")
    declared = data.get("alg")
    if declared is not None and declared not in ALLOWED_ALGORITHMS:
        raise ValueError(f"key {kid!r} declares algorithm {declared!r}, which is not accepted")
    try:
        key = jwt.PyJWK(data).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"key {kid!r} cannot be read: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < _MIN_RSA_BITS:
        raise ValueError(f"key {kid!r}: RSA keys must have at least {_MIN_RSA_BITS} bits")
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ValueError(f"key {kid!r} is not an EC or RSA public key")
    return VerificationKey(kid=kid, key=key, declared_alg=declared)


def parse_jwks(document: Any, *, strict: bool) -> dict[str, VerificationKey]:
    """The usable keys of a JWKS by `kid`.

    strict=True (inline keys in the issuer file): any bad key raises ValueError. strict=False (a fetched set):
    bad keys are skipped and logged, so one odd key in a published set does not lock out the others.
    """
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError("a JWKS must be a JSON object with a 'keys' array")
    result: dict[str, VerificationKey] = {}
    for data in keys:
        try:
            key = build_key(data)
            if key.kid in result:
                raise ValueError(f"kid {key.kid!r} appears twice")
        except ValueError as exc:
            if strict:
                raise
            log.warning("JWKS key skipped: %s", exc)
            continue
        result[key.kid] = key
    return result
