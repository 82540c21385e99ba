"""The SSRF guard: may the service send requests (with the EHR's access token) to a request's `fhirServer`?

Rules:
- the URL must be absolute, with a host, and carry no userinfo, query, fragment, backslash, whitespace,
  percent sign in the host, or `.`/`..` path segment (each is a way to make one string mean two addresses);
- https is required; plain http is allowed only in development mode and only for loopback hosts
  (127.0.0.0/8, ::1, localhost);
- with authentication required, the URL must equal, or lie under, one of the verified issuer's `fhir_servers`:
  same scheme, same host, same (effective) port, and a path equal to the base path or continuing it after
  a "/" (so neither `https://trusted.example.evil.com` nor `https://trusted.example/fhir-evil` passes for
  `https://trusted.example/fhir`);
- with authentication disabled (development only), any https or loopback-http URL is allowed.

`same_origin` lets the FHIR client refuse redirects and paging links that leave the FHIR server's origin.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

from cds_service.security.authenticator import Caller
from cds_service.settings import Settings

log = logging.getLogger("cds_service.security")

_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str  # without trailing slashes


def _parse(url: str) -> _Target:
    """The parts of `url` that decide where a request goes; ValueError for anything ambiguous."""
    if not url or "\\" in url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("empty, or contains a backslash, whitespace or control character")
    parts: SplitResult = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"scheme {scheme!r} is not http(s)")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ValueError("carries user information")
    host = (parts.hostname or "").lower()
    if not host or "%" in host:
        raise ValueError("has no usable host")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("carries a query or fragment")
    segments = unquote(parts.path).split("/")
    if any(segment in (".", "..") for segment in segments):
        raise ValueError("has a dot segment in its path")
    port = parts.port  # ValueError for a bad port
    return _Target(scheme, host, port or _DEFAULT_PORTS[scheme], parts.path.rstrip("/"))


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (exact forms only; no DNS lookup)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _under(target: _Target, base: _Target) -> bool:
    """True when `target` is `base` or a path below it, on exactly the same scheme, host and port."""
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return False
    return target.path == base.path or target.path.startswith(base.path + "/")


def fhir_server_check(url: str, caller: Caller, settings: Settings) -> tuple[bool, str]:
    """Whether the service may call `url` for `caller`, and the reason (for the log)."""
    try:
        target = _parse(url)
    except ValueError as exc:
        return False, f"fhirServer refused: {exc}"
    if target.scheme == "http" and not (settings.is_development and is_loopback_host(target.host)):
        return False, "fhirServer refused: http is allowed only for loopback hosts in development mode"
    if caller.auth_disabled:
        if not settings.is_development:
            return False, "fhirServer refused: unauthenticated callers are allowed only in development mode"
        return True, "fhirServer allowed: authentication disabled (development), https or loopback"
    for allowed in caller.fhir_servers:
        try:
            if _under(target, _parse(allowed)):
                return True, f"fhirServer allowed: under {allowed} for iss {caller.issuer}"
        except ValueError:
            continue
    return False, f"fhirServer refused: not under any fhir_servers entry of iss {caller.issuer}"


def fhir_server_permitted(url: str, caller: Caller, settings: Settings) -> bool:
    """True when the service may send FHIR requests to `url` for `caller`; refusals logged."""
    allowed, reason = fhir_server_check(url, caller, settings)
    if not allowed:
        log.warning("%s (url=%s)", reason, _for_log(url))
    return allowed


def _for_log(url: str) -> str:
    """Scheme, host and path of `url`, without userinfo (which may hold a password), query or fragment."""
    try:
        parts = urlsplit(url)
        return repr(f"{parts.scheme}://{parts.hostname or ''}{parts.path}"[:200])
    except ValueError:
        return "(unparsable)"


def same_origin(url_a: str, url_b: str) -> bool:
    """True when both URLs parse cleanly and share scheme, host and effective port (no userinfo on either)."""
    try:
        a, b = urlsplit(url_a), urlsplit(url_b)
        if any("@" in p.netloc or "\\" in p.netloc for p in (a, b)):
            return False
        scheme_a, scheme_b = a.scheme.lower(), b.scheme.lower()
        if scheme_a not in _DEFAULT_PORTS or not a.hostname:
            return False
        port_a = a.port or _DEFAULT_PORTS[scheme_a]
        port_b = b.port or _DEFAULT_PORTS.get(scheme_b, -1)
    except ValueError:
        return False
    return (scheme_a, a.hostname.lower(), port_a) == (scheme_b, (b.hostname or "").lower(), port_b)


def within_base(url: str, base: str) -> bool:
    """True when `url` is on `base`'s origin and at or below its path (a query is allowed; no dot segments).

    For the links a FHIR server sends back (searchset `next`, absolute references): the access token is sent
    only there, never to another path such as a sibling tenant's base on the same host.
    """
    if not same_origin(url, base):
        return False
    path, root = urlsplit(url).path, urlsplit(base).path.rstrip("/")
    if any(segment in (".", "..") for segment in path.split("/")) or "%2e" in path.lower():
        return False
    return path == root or path.startswith(root + "/")

