"""The Authenticator accepts exactly the CDS Hooks 2.0 JWTs it should, and says why it refuses the others."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from security_helpers import (
    DROP,
    FHIR_BASE,
    ISS,
    KID,
    NOW,
    URL,
    Clock,
    authenticator,
    bearer,
    claims,
    ec_key,
    hs256_token,
    issuer,
    mint,
    public_jwk,
    rsa_key,
    unsigned_token,
)

from cds_service.errors import AuthenticationError
from cds_service.security.authenticator import Authenticator, Caller, build_authenticator, startup_warning
from cds_service.settings import Settings

LOGGER = "cds_service.security"


def authenticate(auth: Authenticator, header: str | None, url: str = URL) -> Caller:
    return asyncio.run(auth.authenticate(header, url))


def refusal(auth: Authenticator, header: str | None, url: str = URL) -> str:
    """The internal reason of the AuthenticationError raised for `header`."""
    with pytest.raises(AuthenticationError) as caught:
        authenticate(auth, header, url)
    return caught.value.message


@pytest.mark.parametrize(
    ("alg", "key_factory"),
    [
        ("ES384", lambda: ec_key("P-384")),
        ("ES256", lambda: ec_key("P-256")),
        ("ES512", lambda: ec_key("P-521")),
        ("RS384", rsa_key),
        ("PS384", rsa_key),
    ],
)
def test_a_valid_token_yields_the_issuers_caller(alg: str, key_factory: Any) -> None:
    key = key_factory()
    auth = authenticator(issuer(public_jwk(key)))
    caller = authenticate(auth, bearer(mint(key, alg)))
    assert caller == Caller(issuer=ISS, tenant=None, fhir_servers=(FHIR_BASE,), auth_disabled=False)


def test_an_audience_array_containing_the_url_is_accepted() -> None:
    caller = authenticate(authenticator(), bearer(mint(aud=["https://other.example", URL])))
    assert caller.issuer == ISS


def test_the_bearer_scheme_is_case_insensitive() -> None:
    assert authenticate(authenticator(), f"bearer {mint()}").issuer == ISS


def test_an_expired_token_is_refused() -> None:
    expired = int(NOW.timestamp()) - 61  # skew is 60 s
    assert "expired" in refusal(authenticator(), bearer(mint(exp=expired, iat=expired - 300)))


def test_a_token_expired_within_the_clock_skew_is_still_accepted() -> None:
    recent = int(NOW.timestamp()) - 30
    assert authenticate(authenticator(), bearer(mint(exp=recent, iat=recent - 300))).issuer == ISS


def test_a_token_living_longer_than_the_maximum_lifetime_is_refused() -> None:
    now = int(NOW.timestamp())
    assert "lifetime" in refusal(authenticator(), bearer(mint(iat=now, exp=now + 10 * 365 * 86400)))
    assert "lifetime" in refusal(authenticator(), bearer(mint(iat=now - 7200, exp=now + 60)))
    assert authenticate(authenticator(), bearer(mint(iat=now, exp=now + 3600))).issuer == ISS


def test_a_token_issued_in_the_future_beyond_the_skew_is_refused() -> None:
    future = int(NOW.timestamp()) + 120
    assert "iat" in refusal(authenticator(), bearer(mint(iat=future, exp=future + 300)))


def test_a_token_issued_slightly_ahead_within_the_skew_is_accepted() -> None:
    ahead = int(NOW.timestamp()) + 30
    assert authenticate(authenticator(), bearer(mint(iat=ahead, exp=ahead + 300))).issuer == ISS


def test_a_token_not_yet_valid_by_nbf_is_refused() -> None:
    assert "nbf" in refusal(authenticator(), bearer(mint(nbf=int(NOW.timestamp()) + 600)))


@pytest.mark.parametrize(
    "aud",
    [
        "https://cds.example.org/cds-services/other-service",
        URL + "/",
        URL.upper(),
        ["https://cds.example.org/cds-services"],
        DROP,
    ],
)
def test_a_token_for_another_audience_is_refused(aud: Any) -> None:
    assert "aud" in refusal(authenticator(), bearer(mint(aud=aud)))


def test_a_token_from_an_unknown_issuer_is_refused() -> None:
    assert "not a trusted issuer" in refusal(authenticator(), bearer(mint(iss="https://evil.example")))


def test_a_token_naming_an_unknown_kid_is_refused() -> None:
    token = mint(headers={"kid": "some-other-key"})
    assert "no key with kid" in refusal(authenticator(), bearer(token))


def test_a_token_without_kid_is_refused() -> None:
    assert "kid missing" in refusal(authenticator(), bearer(mint(headers={"kid": DROP})))


def test_a_token_without_typ_is_accepted_but_a_wrong_typ_is_refused() -> None:
    assert authenticate(authenticator(), bearer(mint(headers={"typ": DROP}))).issuer == ISS
    assert "typ" in refusal(authenticator(), bearer(mint(headers={"typ": "at+jwt"})))


def test_an_unsigned_alg_none_token_is_refused() -> None:
    token = unsigned_token({"alg": "none", "kid": KID, "typ": "JWT"}, claims())
    assert "malformed" in refusal(authenticator(), bearer(token))  # empty signature segment


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_alg_none_token_with_a_signature_segment_is_refused_for_its_alg(alg: str) -> None:
    token = unsigned_token({"alg": alg, "kid": KID, "typ": "JWT"}, claims(), signature=b"junk")
    assert f"alg '{alg}' is not accepted" in refusal(authenticator(), bearer(token))


def test_an_hs256_token_signed_with_the_public_key_pem_is_refused() -> None:
    """Algorithm confusion: the attacker uses the issuer's public key as an HMAC secret."""
    pem = (
        ec_key().public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = hs256_token(pem, {"alg": "HS256", "kid": KID, "typ": "JWT"}, claims())
    assert "alg 'HS256' is not accepted" in refusal(authenticator(), bearer(token))


def test_an_hmac_signature_under_an_asymmetric_alg_label_fails_verification() -> None:
    pem = (
        ec_key().public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = hs256_token(pem, {"alg": "ES384", "kid": KID, "typ": "JWT"}, claims())
    assert "signature" in refusal(authenticator(), bearer(token))


def test_an_rsa_alg_against_an_ec_key_is_refused_before_verification() -> None:
    token = mint(rsa_key(), "RS384")  # kid KID names the issuer's EC key
    assert "does not fit alg RS384" in refusal(authenticator(), bearer(token))


def test_an_ec_key_of_another_curve_does_not_fit() -> None:
    token = mint(ec_key("P-256"), "ES256")
    assert "does not fit alg ES256" in refusal(authenticator(), bearer(token))


def test_a_token_signed_by_another_key_with_the_same_kid_is_refused() -> None:
    impostor = ec.generate_private_key(ec.SECP384R1())  # same curve and kid as the trusted key, other key
    assert refusal(authenticator(), bearer(mint(impostor))) == "signature does not verify"


def test_a_token_whose_payload_was_altered_after_signing_is_refused() -> None:
    head, _, signature = mint().split(".")
    forged_payload = mint(iss=ISS, tenant="other-site").split(".")[1]
    forged = f"{head}.{forged_payload}.{signature}"
    assert refusal(authenticator(), bearer(forged)) == "signature does not verify"


def test_a_replayed_jti_is_refused() -> None:
    auth = authenticator()
    token = mint(jti="once-only")
    authenticate(auth, bearer(token))
    assert "replay" in refusal(auth, bearer(token))


def test_the_same_jti_from_two_issuers_is_not_a_replay() -> None:
    other_key = ec_key("P-256")
    second = issuer(public_jwk(other_key), iss="https://second.example.org")
    auth = authenticator(issuer(), second)
    authenticate(auth, bearer(mint(jti="shared")))
    caller = authenticate(auth, bearer(mint(other_key, "ES256", iss="https://second.example.org", jti="shared")))
    assert caller.issuer == "https://second.example.org"


@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "iss"])
def test_a_token_missing_a_required_claim_is_refused(claim: str) -> None:
    assert refusal(authenticator(), bearer(mint(**{claim: DROP}))).startswith(claim)  # the reason names the claim


def test_a_jku_not_on_the_issuers_list_is_refused_and_never_fetched() -> None:
    token = mint(headers={"jku": "https://evil.example/jwks.json"})
    assert "jku" in refusal(authenticator(), bearer(token))  # the MockTransport fails the test on any request


def test_a_jku_on_the_issuers_list_is_accepted_without_being_fetched() -> None:
    jku = "https://ehr.example.org/jwks.json"
    auth = authenticator(issuer(jku_allowed=[jku]))
    assert authenticate(auth, bearer(mint(headers={"jku": jku}))).issuer == ISS


def test_a_missing_or_blank_authorization_header_is_refused() -> None:
    assert refusal(authenticator(), None) == "no Authorization header"
    assert refusal(authenticator(), "  ") == "no Authorization header"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc.def.ghi", "Bearer", "Bearer a b"])
def test_an_authorization_header_that_is_not_bearer_is_refused(header: str) -> None:
    assert "Bearer" in refusal(authenticator(), header)


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "abc.def",
        "a.b.c.d",
        "eyJ!.eyJ.sig",
        "not-json.not-json.sig",
        unsigned_token({"alg": "ES384", "kid": KID}, claims())[:-1] + "$",
        "x" * 20000 + ".a.b",
    ],
)
def test_a_malformed_token_is_refused(token: str) -> None:
    assert "malformed" in refusal(authenticator(), bearer(token))


def test_a_header_that_is_not_a_json_object_is_refused() -> None:
    import base64

    head = base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=").decode()
    assert "malformed" in refusal(authenticator(), bearer(f"{head}.e30.c2ln"))


def test_a_tenant_not_on_the_issuers_list_is_refused() -> None:
    auth = authenticator(issuer(tenants=["hospital-a"]))
    assert "tenant" in refusal(auth, bearer(mint(tenant="hospital-b")))
    assert "tenant" in refusal(auth, bearer(mint()))
    assert authenticate(auth, bearer(mint(tenant="hospital-a"))).tenant == "hospital-a"


def test_an_issuer_without_a_tenant_list_passes_the_tenant_through() -> None:
    assert authenticate(authenticator(), bearer(mint(tenant="any-site"))).tenant == "any-site"


def test_the_refusal_reason_is_logged_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    token = mint(iss="https://evil.example")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        refusal(authenticator(), bearer(token))
    records = [r for r in caplog.records if r.name == LOGGER]
    assert any("not a trusted issuer" in r.getMessage() for r in records)
    assert all(token not in r.getMessage() and token.split(".")[2] not in r.getMessage() for r in records)


def test_a_disabled_authenticator_accepts_anything_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(environment="development", auth_mode="disabled")
    auth = authenticator(settings=settings)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        caller = authenticate(auth, None)
        authenticate(auth, "Bearer garbage")
    assert caller.auth_disabled and caller.fhir_servers == () and caller.tenant is None
    assert not [r for r in caplog.records if r.name == LOGGER]


def test_startup_warning_is_given_only_when_authentication_is_disabled() -> None:
    warning = startup_warning(Settings(environment="development", auth_mode="disabled"))
    assert warning is not None and "DISABLED" in warning
    assert startup_warning(Settings(environment="development")) is None


def test_building_a_required_authenticator_without_an_issuer_file_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="CRS_CDS_TRUSTED_ISSUERS_FILE"):
        build_authenticator(Settings(environment="production"))


def test_build_authenticator_reads_the_issuer_file(tmp_path: Path) -> None:
    path = tmp_path / "issuers.yaml"
    path.write_text(
        "issuers:\n  - iss: https://ehr.example.org\n    jwks_url: https://ehr.example.org/jwks\n",
        encoding="utf-8",
    )
    auth = build_authenticator(Settings(trusted_issuers_file=path), clock=Clock())
    reason = refusal(auth, bearer(mint(iss="https://unknown.example")))
    assert "not a trusted issuer" in reason
    asyncio.run(auth.aclose())
