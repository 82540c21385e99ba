"""The SSRF guard lets the service call only the FHIR servers the verified issuer vouches for."""

from __future__ import annotations

import logging

import pytest

from cds_service.security.authenticator import UNAUTHENTICATED, Caller
from cds_service.security.fhir_guard import fhir_server_check, fhir_server_permitted, same_origin
from cds_service.settings import Settings

PRODUCTION = Settings(environment="production")
DEVELOPMENT = Settings(environment="development")
DEV_NO_AUTH = Settings(environment="development", auth_mode="disabled")
EHR = Caller(issuer="https://ehr.example.org", tenant=None, fhir_servers=("https://fhir.example.org/r4",))


@pytest.mark.parametrize(
    "url",
    [
        "https://fhir.example.org/r4",
        "https://fhir.example.org/r4/",
        "https://fhir.example.org:443/r4",
        "https://FHIR.example.org/r4",
        "https://fhir.example.org/r4/tenant-a",
    ],
)
def test_the_issuers_fhir_server_and_paths_under_it_are_permitted(url: str) -> None:
    assert fhir_server_permitted(url, EHR, PRODUCTION)


def test_a_listed_base_with_a_trailing_slash_matches_the_url_without_one() -> None:
    caller = Caller(issuer="x", tenant=None, fhir_servers=("https://fhir.example.org/r4/",))
    assert fhir_server_permitted("https://fhir.example.org/r4", caller, PRODUCTION)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/r4",
        "https://fhir.example.org.evil.com/r4",  # host prefix trick
        "https://evilfhir.example.org/r4",
        "https://fhir.example.org/r4evil",  # path prefix trick
        "https://fhir.example.org/r",
        "https://fhir.example.org/",
        "https://fhir.example.org@evil.com/r4",  # userinfo trick: the host is evil.com
        "https://evil.com@fhir.example.org/r4",  # userinfo of any kind
        "https://user:secret@fhir.example.org/r4",
        "https://fhir.example.org\\@evil.com/r4",  # backslash parsers disagree about
        "https://fhir.example.org:8443/r4",  # another port
        "http://fhir.example.org/r4",  # http, production
        "https://fhir.example.org/r4/../admin",
        "https://fhir.example.org/r4/%2e%2e/admin",
        "https://fhir.example.org/r4?_format=json",
        "https://fhir.example.org/r4#frag",
        "https://fhir.example.org/r4 ",
        "ftp://fhir.example.org/r4",
        "//fhir.example.org/r4",
        "https:///r4",
        "https://fhir.example.org:99999/r4",
        "",
    ],
)
def test_other_servers_and_disguised_urls_are_refused(url: str) -> None:
    assert not fhir_server_permitted(url, EHR, PRODUCTION)


def test_an_issuer_without_fhir_servers_permits_none() -> None:
    caller = Caller(issuer="x", tenant=None, fhir_servers=())
    assert not fhir_server_permitted("https://fhir.example.org/r4", caller, PRODUCTION)


def test_http_is_refused_in_production_even_for_a_listed_loopback_server() -> None:
    caller = Caller(issuer="x", tenant=None, fhir_servers=("http://127.0.0.1:8081/fhir",))
    assert not fhir_server_permitted("http://127.0.0.1:8081/fhir", caller, PRODUCTION)
    assert fhir_server_permitted("http://127.0.0.1:8081/fhir", caller, DEVELOPMENT)


def test_in_development_with_authentication_a_loopback_server_must_still_be_listed() -> None:
    assert not fhir_server_permitted("http://127.0.0.1:8081/fhir", EHR, DEVELOPMENT)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8081/fhir",
        "http://127.5.6.7/fhir",
        "http://[::1]:8081/fhir",
        "http://localhost/fhir",
    ],
)
def test_without_authentication_in_development_loopback_http_is_permitted(url: str) -> None:
    assert fhir_server_permitted(url, UNAUTHENTICATED, DEV_NO_AUTH)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/fhir",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1.nip.io/fhir",
        "http://localhost.evil.com/fhir",
        "http://[::ffff:10.0.0.1]/fhir",
        "http://0.0.0.0/fhir",
    ],
)
def test_without_authentication_in_development_other_http_is_refused(url: str) -> None:
    assert not fhir_server_permitted(url, UNAUTHENTICATED, DEV_NO_AUTH)


def test_without_authentication_in_development_any_https_server_is_permitted() -> None:
    assert fhir_server_permitted("https://launch.smarthealthit.org/v/r4/fhir", UNAUTHENTICATED, DEV_NO_AUTH)


def test_an_unauthenticated_caller_is_refused_in_production() -> None:
    assert not fhir_server_permitted("https://fhir.example.org/r4", UNAUTHENTICATED, PRODUCTION)


def test_a_refusal_is_logged_with_its_reason_but_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cds_service.security"):
        fhir_server_permitted("https://user:hunter2@evil.example/r4", EHR, PRODUCTION)
    text = caplog.text
    assert "user information" in text
    assert "hunter2" not in text


def test_the_check_gives_a_reason_when_permitting() -> None:
    allowed, reason = fhir_server_check("https://fhir.example.org/r4", EHR, PRODUCTION)
    assert allowed and "https://fhir.example.org/r4" in reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://fhir.example.org/r4/Observation?page=2", "https://fhir.example.org/r4"),
        ("https://fhir.example.org:443/x", "https://FHIR.example.org/r4"),
        ("http://127.0.0.1:8081/fhir/x", "http://127.0.0.1:8081/fhir"),
    ],
)
def test_same_origin_accepts_the_same_scheme_host_and_port(a: str, b: str) -> None:
    assert same_origin(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://evil.example/r4", "https://fhir.example.org/r4"),
        ("http://fhir.example.org/r4", "https://fhir.example.org/r4"),
        ("https://fhir.example.org:8443/r4", "https://fhir.example.org/r4"),
        ("https://fhir.example.org@evil.example/r4", "https://fhir.example.org/r4"),
        ("https://fhir.example.org.evil.example/r4", "https://fhir.example.org/r4"),
        ("/r4/Observation", "https://fhir.example.org/r4"),
        ("https://fhir.example.org:bad/r4", "https://fhir.example.org/r4"),
    ],
)
def test_same_origin_refuses_another_origin(a: str, b: str) -> None:
    assert not same_origin(a, b)
