"""Code systems: short names used in the knowledge files, URI aliases EHRs send, and code well-formedness.

Codes are compared as (canonical system URI, normalised code). NDC codes are compared at product level
(labeler + product, 5-4 zero-padded, nine digits) so that a package NDC on an order ("71287-0119-01",
"71287011901") finds the product NDC recorded in the catalogue ("71287-119").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import BeforeValidator

from cds_service.domain import concepts as c

SHORT_NAMES: Mapping[str, str] = {
    "rxnorm": c.RXNORM,
    "atc": c.ATC,
    "ndc": c.NDC,
    "hcpcs": c.HCPCS,
    "cpt": c.CPT,
    "icd10pcs": c.ICD10PCS,
    "icd10cm": c.ICD10CM,
    "loinc": c.LOINC,
    "snomed": c.SNOMED,
}

_PATTERNS: Mapping[str, re.Pattern[str]] = {
    c.RXNORM: re.compile(r"\d{1,9}"),
    c.ATC: re.compile(r"[A-Z]\d\d[A-Z][A-Z]\d\d"),
    c.HCPCS: re.compile(r"[A-Z]\d{4}"),
    c.CPT: re.compile(r"\d{4}[0-9T]"),
    c.ICD10PCS: re.compile(r"[0-9A-HJ-NP-Z]{7}"),
    c.ICD10CM: re.compile(r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?"),
    c.LOINC: re.compile(r"\d{1,7}-\d"),
    c.SNOMED: re.compile(r"\d{6,18}"),
    # product (labeler-product) or package NDC, hyphenated 4-4, 5-3, 5-4 (+ package), or 11 digits
    c.NDC: re.compile(r"\d{4,5}-\d{3,4}(-\d{1,2})?|\d{11}"),
}


def expand_system(system: str) -> str:
    """A short name from the knowledge files ("rxnorm") as its canonical URI; URIs pass unchanged."""
    return SHORT_NAMES.get(system, system)


def _expand_if_text(value: object) -> object:
    return expand_system(value) if isinstance(value, str) else value


#: A code-system field of a knowledge file: a short name ("rxnorm") or a URI, stored as the canonical URI.
SystemUri = Annotated[str, BeforeValidator(_expand_if_text)]


def is_well_formed(system: str, code: str) -> bool:
    """True when the code has the shape its system requires; systems without a known shape accept any code."""
    pattern = _PATTERNS.get(system)
    if pattern is None:
        return bool(code.strip()) and code == code.strip()
    return pattern.fullmatch(code) is not None


def ndc_product(code: str) -> str | None:
    """Labeler + product of an NDC as nine digits (5-4, zero-padded), or None when the shape is unknown."""
    code = code.strip()
    if "-" in code:
        parts = code.split("-")
        if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
            return parts[0].zfill(5) + parts[1].zfill(4)
        return None
    if len(code) == 11 and code.isdigit():
        return code[:9]
    return None


def normalise_code(system: str, code: str) -> str:
    """The form a code is indexed and looked up in: trimmed, upper-case (not local codes), NDC by product."""
    code = code.strip()
    if system == c.NDC:
        return ndc_product(code) or code
    if system == c.ICD10CM:
        return code.upper().replace(".", "")
    if system in _PATTERNS:
        return code.upper()
    return code


class SystemResolver:
    """Maps every known spelling of a code system (canonical URI, OID URN, older URI) to its canonical URI."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self._aliases = {_key(alias): canonical for alias, canonical in aliases.items()}
        for canonical in SHORT_NAMES.values():
            self._aliases[_key(canonical)] = canonical

    def canonical(self, system: str | None) -> str | None:
        """The canonical URI for a system as an EHR sent it; unknown systems are returned trimmed."""
        if system is None:
            return None
        return self._aliases.get(_key(system), system.strip())

    def key(self, system: str | None, code: str | None) -> tuple[str, str] | None:
        """(canonical system, normalised code) for lookups, or None when either part is missing."""
        if not system or not code or not code.strip():
            return None
        canonical = self.canonical(system) or system
        return canonical, normalise_code(canonical, code)


def _key(system: str) -> str:
    return system.strip().rstrip("/").lower()
