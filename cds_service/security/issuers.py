"""The trusted-issuer registry: which CDS clients (EHRs) may call the service, and with which keys.

The registry is a YAML or JSON file named by `Settings.trusted_issuers_file` (CRS_CDS_TRUSTED_ISSUERS_FILE):

    issuers:
      - iss: https://sandbox.cds-hooks.org          # the exact `iss` claim
        jwks: {keys: [...]}                          # inline public keys ... or
        # jwks_url: https://ehr.example.org/jwks     # ... where to fetch them (exactly one of the two)
        jku_allowed: [https://sandbox.cds-hooks.org/.well-known/jwks.json]
        tenants: []                                  # optional allowlist of `tenant` claims
        fhir_servers: [https://launch.smarthealthit.org/v/r4/fhir]

Every field is checked at start-up (unknown fields refused); a bad file raises ValueError naming the file and
the field, which stops the service before it accepts a call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cds_service.security.jwks import parse_jwks


def _absolute_url(value: str, *, field: str, https_only: bool) -> str:
    """`value` if it is an absolute http(s) URL without userinfo, query or fragment; else ValueError."""
    parts = urlsplit(value)
    allowed = ("https",) if https_only else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise ValueError(f"{field} must be an absolute {' or '.join(allowed)} URL, got {value!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError(f"{field} must not carry user information: {value!r}")
    if parts.query or parts.fragment or "\\" in value or any(ch.isspace() for ch in value):
        raise ValueError(f"{field} must not carry a query, fragment, backslash or space: {value!r}")
    return value


class TrustedIssuer(BaseModel):
    """One CDS client allowed to call the service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1)
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None
    jku_allowed: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    fhir_servers: tuple[str, ...] = ()

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_is_https(cls, value: str | None) -> str | None:
        return None if value is None else _absolute_url(value, field="jwks_url", https_only=True)

    @field_validator("jku_allowed")
    @classmethod
    def _jku_are_https(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_absolute_url(v, field="jku_allowed", https_only=True) for v in values)

    @field_validator("fhir_servers")
    @classmethod
    def _fhir_servers_are_bases(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        checked = (_absolute_url(v, field="fhir_servers", https_only=False) for v in values)
        return tuple(v.rstrip("/") for v in checked)

    @field_validator("jwks")
    @classmethod
    def _jwks_holds_public_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not parse_jwks(value, strict=True):
            raise ValueError("jwks holds no usable signing key")
        return value

    @model_validator(mode="after")
    def _exactly_one_key_source(self) -> TrustedIssuer:
        if (self.jwks_url is None) == (self.jwks is None):
            raise ValueError("give exactly one of jwks_url (fetched) or jwks (inline)")
        return self


class IssuerFile(BaseModel):
    """The whole trusted-issuer file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuers: tuple[TrustedIssuer, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _iss_unique(self) -> IssuerFile:
        seen: set[str] = set()
        for issuer in self.issuers:
            if issuer.iss in seen:
                raise ValueError(f"issuer {issuer.iss!r} is listed twice")
            seen.add(issuer.iss)
        return self


class IssuerRegistry(Mapping[str, TrustedIssuer]):
    """Trusted issuers by their exact `iss`, read-only."""

    def __init__(self, issuers: tuple[TrustedIssuer, ...] = ()) -> None:
        self._by_iss = {issuer.iss: issuer for issuer in issuers}

    def __getitem__(self, iss: str) -> TrustedIssuer:
        return self._by_iss[iss]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_iss)

    def __len__(self) -> int:
        return len(self._by_iss)


def _read_document(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def load_issuers(path: Path) -> IssuerRegistry:
    """Read and validate the trusted-issuer file; ValueError names the file and each offending field."""
    try:
        document = _read_document(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"trusted issuers file {path}: cannot be read: {exc}") from None
    try:
        parsed = IssuerFile.model_validate(document)
    except ValidationError as exc:
        raise ValueError(f"trusted issuers file {path}: {_describe(exc)}") from None
    return IssuerRegistry(parsed.issuers)
