"""Authentication wired into every endpoint: CDS Hooks JWTs checked against the exact URL called."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from cds_service.settings import Settings
from tests.conftest import load_json, make_client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "security"))
from security_helpers import ISS, KID, bearer, ec_key, mint, public_jwk

BASE = "https://cds.example.org"
ALLOWED_FHIR = "https://fhir.example.org/r4"


@pytest.fixture
def key():
    return ec_key()


@pytest.fixture
def secured(tmp_path, key):
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": {"keys": [public_jwk(key, KID, "ES384")]},
                                                 "fhir_servers": [ALLOWED_FHIR]}]}))
    settings = Settings(
        environment="production",
        public_base_url=BASE,
        trusted_issuers_file=issuers,
        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
    )
    with make_client(settings) as client:
        yield client


def _assert_401(response):
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "expired" not in response.text and "aud" not in body["issue"][0]["diagnostics"]


def test_every_endpoint_refuses_a_call_without_a_jwt(secured):
    _assert_401(secured.get("/cds-services"))
    _assert_401(secured.post("/cds-services/crs-order-sign", json=load_json("examples/order-sign-teclistamab.json")))
    _assert_401(secured.post("/cds-services/crs-order-sign/feedback", json={"feedback": []}))
    _assert_401(secured.get("/governance/feedback"))


def test_the_governance_report_takes_a_jwt_for_its_own_url(secured, key):
    token = mint(key, aud=f"{BASE}/governance/feedback")
    response = secured.get("/governance/feedback", headers={"Authorization": bearer(token)})
    assert response.status_code == 200 and response.json()["lines"] == []


def test_a_valid_jwt_for_the_exact_url_is_accepted_once(secured, key):
    token = mint(key, aud=f"{BASE}/cds-services")
    assert secured.get("/cds-services", headers={"Authorization": bearer(token)}).status_code == 200
    _assert_401(secured.get("/cds-services", headers={"Authorization": bearer(token)}))  # replayed jti


def test_a_jwt_for_another_endpoint_is_refused(secured, key):
    token = mint(key, aud=f"{BASE}/cds-services/crs-patient-view")
    _assert_401(secured.get("/cds-services", headers={"Authorization": bearer(token)}))


def test_an_expired_jwt_is_refused_without_saying_why(secured, key):
    token = mint(key, aud=f"{BASE}/cds-services", exp=1_700_000_000, iat=1_699_999_000)
    _assert_401(secured.get("/cds-services", headers={"Authorization": bearer(token)}))


def test_health_endpoints_need_no_jwt(secured):
    assert secured.get("/healthz").status_code == 200


def test_production_refuses_disabled_authentication():
    with pytest.raises(ValidationError, match="development"):
        Settings(environment="production", auth_mode="disabled")


def test_a_fhir_server_not_listed_for_the_issuer_is_never_called(secured, key):
    request = load_json("examples/order-sign-teclistamab.json")
    request["fhirServer"] = "https://attacker.example.net/fhir"
    request["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                                    "scope": "patient/*.read", "subject": "crs-cds"}
    del request["prefetch"]["labs"]
    token = mint(key, aud=f"{BASE}/cds-services/crs-order-sign")
    response = secured.post("/cds-services/crs-order-sign", json=request, headers={"Authorization": bearer(token)})
    assert response.status_code == 200
    categories = [c["extension"]["org.crs-cds.finding"]["category"] for c in response.json()["cards"]]
    assert "data-gap" in categories
