"""The trusted-issuer file: checked at start-up, errors naming file and field; the sandbox example loads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from security_helpers import Clock, bearer, ec_key, mint, public_jwk

from cds_service.errors import AuthenticationError
from cds_service.security.authenticator import build_authenticator
from cds_service.security.issuers import load_issuers
from cds_service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SANDBOX_FILE = REPO / "examples" / "trusted-issuers.sandbox.yaml"
SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
#: The sandbox's published key (shared/data/cds-hooks-sandbox/jwks.json), repeated so tests need no shared/.
SANDBOX_JWKS = {
    "keys": [
        {
            "kty": "EC",
            "use": "sig",
            "crv": "P-384",
            "kid": SANDBOX_KID,
            "x": "dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB",
            "y": "Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy",
            "alg": "ES384",
        }
    ]
}


def write(tmp_path: Path, document: Any, name: str = "issuers.yaml") -> Path:
    path = tmp_path / name
    text = json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document)
    path.write_text(text, encoding="utf-8")
    return path


def one_issuer(**fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"iss": "https://ehr.example.org", "jwks_url": "https://ehr.example.org/jwks"}
    entry |= fields
    return {"issuers": [{k: v for k, v in entry.items() if v is not None}]}


def load_error(tmp_path: Path, document: Any, name: str = "issuers.yaml") -> str:
    path = write(tmp_path, document, name)
    with pytest.raises(ValueError) as caught:
        load_issuers(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_a_yaml_file_loads_into_a_registry_by_iss(tmp_path: Path) -> None:
    registry = load_issuers(write(tmp_path, one_issuer(fhir_servers=["https://fhir.example.org/r4/"])))
    entry = registry["https://ehr.example.org"]
    assert entry.jwks_url == "https://ehr.example.org/jwks"
    assert entry.fhir_servers == ("https://fhir.example.org/r4",)  # trailing slash normalised


def test_a_json_file_loads_too(tmp_path: Path) -> None:
    registry = load_issuers(write(tmp_path, one_issuer(), name="issuers.json"))
    assert list(registry) == ["https://ehr.example.org"]


def test_inline_and_fetched_keys_together_are_refused(tmp_path: Path) -> None:
    document = one_issuer(jwks={"keys": [public_jwk(ec_key())]})
    assert "exactly one of jwks_url" in load_error(tmp_path, document)


def test_an_issuer_without_keys_is_refused(tmp_path: Path) -> None:
    assert "exactly one of jwks_url" in load_error(tmp_path, one_issuer(jwks_url=None))


def test_an_unknown_field_is_refused_and_named(tmp_path: Path) -> None:
    message = load_error(tmp_path, one_issuer(fhir_server="https://fhir.example.org"))
    assert "issuers.0.fhir_server" in message


def test_a_plain_http_jwks_url_is_refused(tmp_path: Path) -> None:
    assert "jwks_url" in load_error(tmp_path, one_issuer(jwks_url="http://ehr.example.org/jwks"))


def test_a_fhir_server_with_user_information_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, one_issuer(fhir_servers=["https://user:pw@fhir.example.org/r4"]))
    assert "fhir_servers" in message


def test_inline_private_key_material_is_refused(tmp_path: Path) -> None:
    leaked = public_jwk(ec_key()) | {"d": "AAAA"}
    message = load_error(tmp_path, one_issuer(jwks_url=None, jwks={"keys": [leaked]}))
    assert "private key material" in message


def test_an_inline_symmetric_key_is_refused(tmp_path: Path) -> None:
    secret = {"kty": "oct", "kid": "k", "k": "c2VjcmV0"}
    assert "kty must be EC or RSA" in load_error(tmp_path, one_issuer(jwks_url=None, jwks={"keys": [secret]}))


def test_an_issuer_listed_twice_is_refused(tmp_path: Path) -> None:
    entry = one_issuer()["issuers"][0]
    assert "listed twice" in load_error(tmp_path, {"issuers": [entry, entry]})


def test_an_empty_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    assert "issuers" in load_error(tmp_path, {"issuers": []})
    broken = tmp_path / "broken.yaml"
    broken.write_text("issuers: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot be read"):
        load_issuers(broken)
    with pytest.raises(ValueError, match="cannot be read"):
        load_issuers(tmp_path / "missing.yaml")


def test_the_sandbox_example_trusts_the_sandbox_with_its_published_key() -> None:
    entry = load_issuers(SANDBOX_FILE)[SANDBOX_ISS]
    assert entry.jwks == SANDBOX_JWKS
    assert entry.jku_allowed == ("https://sandbox.cds-hooks.org/.well-known/jwks.json",)
    assert "https://launch.smarthealthit.org/v/r4/fhir" in entry.fhir_servers


def test_the_sandbox_key_is_an_ec_p384_public_key_fit_for_es384_only() -> None:
    from cds_service.security.jwks import parse_jwks

    entry = load_issuers(SANDBOX_FILE)[SANDBOX_ISS]
    key = parse_jwks(entry.jwks, strict=True)[SANDBOX_KID]
    assert isinstance(key.key, ec.EllipticCurvePublicKey)
    assert key.key.curve.name == "secp384r1"
    assert key.accepts("ES384")
    assert not key.accepts("ES256") and not key.accepts("RS384")


def test_a_token_with_the_sandbox_kid_signed_by_another_key_fails_on_its_signature() -> None:
    """We cannot sign as the sandbox: a P-384 impostor using its kid must fail the signature check."""
    settings = Settings(trusted_issuers_file=SANDBOX_FILE)
    auth = build_authenticator(settings, clock=Clock())
    url = "http://127.0.0.1:8080/cds-services/crs-patient-view"
    impostor = ec.generate_private_key(ec.SECP384R1())
    token = mint(impostor, "ES384", headers={"kid": SANDBOX_KID}, iss=SANDBOX_ISS, aud=url)
    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(auth.authenticate(bearer(token), url))
    assert caught.value.message == "signature does not verify"
    asyncio.run(auth.aclose())
