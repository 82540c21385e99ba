"""Fetched key sets: cached per issuer, refreshed on an unknown kid at most once a minute, no redirects."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec
from security_helpers import (
    ISS,
    JWKS_URL,
    URL,
    Clock,
    authenticator,
    bearer,
    ec_key,
    issuer,
    mint,
    public_jwk,
)

from cds_service.errors import AuthenticationError
from cds_service.security.authenticator import Authenticator

ROTATED = ec.generate_private_key(ec.SECP384R1())


def jwks(*keys: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"keys": list(keys)})


def fetched_issuer(**fields: Any) -> Any:
    return issuer(jwks_url=JWKS_URL, **fields)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


async def accepted(auth: Authenticator, token: str) -> bool:
    try:
        await auth.authenticate(bearer(token), URL)
    except AuthenticationError:
        return False
    return True


@respx.mock
def test_keys_are_fetched_once_and_then_served_from_the_cache() -> None:
    route = respx.get(JWKS_URL).mock(return_value=jwks(public_jwk(ec_key())))
    auth = authenticator(fetched_issuer(), transport=httpx.AsyncHTTPTransport())

    async def scenario() -> None:
        assert await accepted(auth, mint())
        assert await accepted(auth, mint())

    run(scenario)
    assert route.call_count == 1


@respx.mock
def test_an_unknown_kid_refreshes_the_keys_at_most_once_per_minute() -> None:
    clock = Clock()
    route = respx.get(JWKS_URL).mock(return_value=jwks(public_jwk(ec_key())))
    auth = authenticator(fetched_issuer(), clock=clock, transport=httpx.AsyncHTTPTransport())
    rotated_token = lambda: mint(ROTATED, headers={"kid": "rotated"})  # noqa: E731

    async def scenario() -> None:
        assert await accepted(auth, mint())  # first fetch
        clock.advance(61)
        route.mock(return_value=jwks(public_jwk(ec_key()), public_jwk(ROTATED, kid="rotated")))
        assert await accepted(auth, rotated_token())  # unknown kid: second fetch finds it
        for _ in range(5):  # a burst of made-up kids within the minute: no further fetch
            clock.advance(5)
            assert not await accepted(auth, mint(headers={"kid": "made-up"}))
        assert route.call_count == 2
        clock.advance(60)
        assert not await accepted(auth, mint(headers={"kid": "made-up"}))
        assert route.call_count == 3  # a minute later, one more fetch is allowed

    run(scenario)


@respx.mock
def test_a_key_rotated_in_within_the_minute_is_found_after_the_minute() -> None:
    clock = Clock()
    route = respx.get(JWKS_URL).mock(return_value=jwks(public_jwk(ec_key())))
    auth = authenticator(fetched_issuer(), clock=clock, transport=httpx.AsyncHTTPTransport())

    async def scenario() -> None:
        assert await accepted(auth, mint())
        route.mock(return_value=jwks(public_jwk(ROTATED, kid="rotated")))
        clock.advance(10)
        assert not await accepted(auth, mint(ROTATED, headers={"kid": "rotated"}))  # too soon to refetch
        clock.advance(60)
        assert await accepted(auth, mint(ROTATED, headers={"kid": "rotated"}))

    run(scenario)
    assert route.call_count == 2


@respx.mock
def test_a_redirect_from_the_jwks_url_is_not_followed() -> None:
    respx.get(JWKS_URL).mock(return_value=httpx.Response(302, headers={"Location": "https://evil.example/jwks"}))
    evil = respx.get("https://evil.example/jwks").mock(return_value=jwks(public_jwk(ec_key())))
    auth = authenticator(fetched_issuer(), transport=httpx.AsyncHTTPTransport())
    with pytest.raises(AuthenticationError, match="no key with kid"):
        asyncio.run(auth.authenticate(bearer(mint()), URL))
    assert not evil.called


@respx.mock
def test_a_failed_refresh_keeps_the_keys_already_cached() -> None:
    clock = Clock()
    route = respx.get(JWKS_URL).mock(return_value=jwks(public_jwk(ec_key())))
    auth = authenticator(fetched_issuer(), clock=clock, transport=httpx.AsyncHTTPTransport())

    async def scenario() -> None:
        assert await accepted(auth, mint())
        route.mock(return_value=httpx.Response(500))
        clock.advance(120)
        assert not await accepted(auth, mint(headers={"kid": "made-up"}))
        assert await accepted(auth, mint())

    run(scenario)
    assert route.call_count == 2


@respx.mock
def test_an_unreachable_jwks_url_refuses_the_token() -> None:
    respx.get(JWKS_URL).mock(side_effect=httpx.ConnectError("refused"))
    auth = authenticator(fetched_issuer(), transport=httpx.AsyncHTTPTransport())
    with pytest.raises(AuthenticationError, match="no key with kid"):
        asyncio.run(auth.authenticate(bearer(mint()), URL))


@respx.mock
def test_bad_keys_in_a_fetched_set_are_skipped_and_good_ones_kept() -> None:
    private_member = public_jwk(ec_key("P-256"), kid="leaked") | {"d": "AAAA"}
    respx.get(JWKS_URL).mock(
        return_value=jwks(private_member, {"kty": "oct", "kid": "x", "k": "c2VjcmV0"}, public_jwk(ec_key()))
    )
    auth = authenticator(fetched_issuer(), transport=httpx.AsyncHTTPTransport())
    caller = asyncio.run(auth.authenticate(bearer(mint()), URL))
    assert caller.issuer == ISS


@respx.mock
def test_a_non_json_jwks_answer_refuses_the_token() -> None:
    respx.get(JWKS_URL).mock(return_value=httpx.Response(200, text="<html>login</html>"))
    auth = authenticator(fetched_issuer(), transport=httpx.AsyncHTTPTransport())
    with pytest.raises(AuthenticationError):
        asyncio.run(auth.authenticate(bearer(mint()), URL))
