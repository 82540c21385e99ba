"""Canonical units: each observation concept, the unit spellings accepted for it, and the conversion.

Table-driven and closed: a spelling not in a concept's table is not converted and its value is not used
(the caller adds a data-quality note; we never guess a unit). Each conversion cites UCUM (The Unified Code for
Units of Measure, https://ucum.org/ucum) or says why a non-UCUM spelling an EHR sends is unambiguous.

Lookup order for one Quantity: its `code` (when the system is UCUM or absent), then its human `unit`; each
spelling exactly, then case-insensitively (no two spellings of one concept differ only in case, checked at
import), then with UCUM annotations (`{...}`) removed, since UCUM gives an annotation no meaning of its own
(`{beats}/min` is `/min`, `ug/mL{FEU}` is `ug/mL`).

Bare `C` and `F` are refused for temperature: in UCUM they are the coulomb and the farad. Conversions use
Decimal arithmetic, so 100.4 [degF] is exactly 38.0 Cel and converting to [degF] and back changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

UCUM_SYSTEM = "http://unitsofmeasure.org"
_ANNOTATION = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True, slots=True)
class Conversion:
    """canonical = (value + offset) * factor / divisor, in Decimal arithmetic."""

    factor: Decimal = Decimal(1)
    divisor: Decimal = Decimal(1)
    offset: Decimal = Decimal(0)

    def apply(self, value: Decimal) -> Decimal:
        """The value converted to the canonical unit."""
        return (value + self.offset) * self.factor / self.divisor


SAME = Conversion()
#: UCUM [degF] is 5/9 K with 0 [degF] at 459.67 [degF] below 0 K; in Celsius: (F - 32) * 5 / 9.
FAHRENHEIT = Conversion(Decimal(5), Decimal(9), Decimal(-32))
#: counts per microlitre (or mm3) -> 10*9/L: 1 /uL = 10*6 /L = 0.001 x 10*9/L (UCUM: u = 10^-6, L = dm3).
PER_UL = Conversion(Decimal("0.001"))
#: creatinine umol/L -> mg/dL (molar mass 113.12 g/mol: 1 mg/dL = 10 mg/L / 113.12 g/mol = 88.42 umol/L).
PER_88_42 = Conversion(divisor=Decimal("88.42"))


def _x(factor: str) -> Conversion:
    return Conversion(Decimal(factor))


_TEMPERATURE = {
    "Cel": SAME,  # UCUM degree Celsius
    "degC": SAME,  # common non-UCUM spelling of Cel, unambiguous
    "°C": SAME,
    "deg C": SAME,
    "[degF]": FAHRENHEIT,  # UCUM degree Fahrenheit
    "degF": FAHRENHEIT,  # common non-UCUM spelling of [degF], unambiguous
    "°F": FAHRENHEIT,
    "deg F": FAHRENHEIT,
}
_RATE = {
    "/min": SAME,  # UCUM per minute
    "1/min": SAME,  # UCUM, same unit as /min
    "beats/min": SAME,  # display text of {beats}/min
    "breaths/min": SAME,  # display text of {breaths}/min
    "bpm": SAME,  # beats (or breaths) per minute: a count per minute either way
}
_PRESSURE = {
    "mm[Hg]": SAME,  # UCUM millimetre of mercury
    "mmHg": SAME,  # common non-UCUM spelling of mm[Hg]
    "mm Hg": SAME,
    # UCUM defines m[Hg] as 133.3220 kPa, so 1 mm[Hg] = 0.1333220 kPa: kPa / 0.1333220 = mm[Hg] (some European
    # monitors chart blood pressure in kPa).
    "kPa": Conversion(divisor=Decimal("0.1333220")),
}
_PERCENT = {"%": SAME}  # UCUM percent
_SPO2 = {
    "%": SAME,
    # UCUM unity: a 0-1 fraction, x 100 -> %. Some devices send SpO2 as a fraction; a value above 1 with unit
    # "1" becomes more than 100 % and is refused as "value and unit disagree" (issue 12).
    "1": _x("100"),
}
_FIO2 = {
    "%": SAME,
    "1": _x("100"),  # UCUM unity: FiO2 as a 0-1 fraction, x 100 -> %
}
_FLOW = {
    "L/min": SAME,  # UCUM litre per minute (L and l are both UCUM litre)
    "mL/min": _x("0.001"),  # UCUM m = 10^-3 (neonatal flows)
    "LPM": SAME,  # litres per minute, common EHR display text
}
_CRP = {
    "mg/L": SAME,  # UCUM
    "mg/dL": _x("10"),  # UCUM dL = 10^-1 L: 1 mg/dL = 10 mg/L
}
_FERRITIN = {
    "ng/mL": SAME,  # UCUM
    "ug/L": SAME,  # UCUM: 10^-6 g / L = 10^-9 g / 10^-3 L = 1 ng/mL
    "µg/L": SAME,  # micro sign spelling of ug/L
}
_LDH = {
    "U/L": SAME,  # UCUM enzyme unit (umol/min) per litre
    "IU/L": SAME,  # enzyme international unit = U (IUPAC); labs report LDH in either spelling
}
_CREATININE = {
    "mg/dL": SAME,  # UCUM
    "umol/L": PER_88_42,  # UCUM umol/L; creatinine 113.12 g/mol: 1 mg/dL = 88.42 umol/L
    "µmol/L": PER_88_42,  # micro sign spelling of umol/L
}
_COUNT = {
    "10*9/L": SAME,  # UCUM
    "10*3/uL": SAME,  # UCUM: 10^3 / 10^-6 L = 10^9 /L
    "/nL": SAME,  # UCUM: n = 10^-9, so /nL = 10^9 /L
    "10^9/L": SAME,  # caret spellings EHRs send for 10*9/L and 10*3/uL
    "10^3/uL": SAME,
    "x10E9/L": SAME,  # reference-lab display spellings of the same units
    "x10E3/uL": SAME,
    "K/uL": SAME,  # "thousands per microlitre", common analyser display
    "10*3/mm3": SAME,  # UCUM: mm3 = uL
    "/uL": PER_UL,
    "/mm3": PER_UL,
}
_FIBRINOGEN = {
    "mg/dL": SAME,  # UCUM
    "g/L": _x("100"),  # UCUM: 1 g/L = 1000 mg / 10 dL = 100 mg/dL
}
_IL6 = {
    "pg/mL": SAME,  # UCUM
    "ng/L": SAME,  # UCUM: 10^-9 g / L = 10^-12 g / 10^-3 L
}
_D_DIMER = {  # which unit equivalent (FEU or DDU) stays known from the LOINC code of the measurement
    "ug/mL": SAME,  # UCUM
    "mg/L": SAME,  # UCUM: same ratio as ug/mL
    "ng/mL": _x("0.001"),  # UCUM
    "ug/L": _x("0.001"),  # UCUM
}
_WEIGHT = {
    "kg": SAME,  # UCUM kilogram
    "g": _x("0.001"),  # UCUM gram (neonatal weights)
    "[lb_av]": Conversion(Decimal("0.45359237")),  # UCUM avoirdupois pound = 0.45359237 kg (exact)
    "lb": Conversion(Decimal("0.45359237")),  # common non-UCUM spelling of [lb_av]
    "lbs": Conversion(Decimal("0.45359237")),
}
_HEIGHT = {
    "cm": SAME,  # UCUM centimetre
    "m": _x("100"),
    "[in_i]": Conversion(Decimal("2.54")),  # UCUM international inch = 2.54 cm (exact)
    "in": Conversion(Decimal("2.54")),
}
_LACTATE = {
    "mmol/L": SAME,  # UCUM
    "mg/dL": Conversion(divisor=Decimal("9.008")),  # lactate 90.08 g/mol: 1 mmol/L = 9.008 mg/dL
}
_CORTISOL = {
    "ug/dL": SAME,  # UCUM
    "µg/dL": SAME,
    "mcg/dL": SAME,
    "nmol/L": Conversion(divisor=Decimal("27.59")),  # cortisol 362.46 g/mol: 1 ug/dL = 27.59 nmol/L
}
_SCORE = {"": SAME, "1": SAME}  # dimensionless scores: no unit, UCUM unity or an annotation such as {score}

#: concept -> (canonical unit, accepted spellings -> conversion)
TABLE: Mapping[str, tuple[str, Mapping[str, Conversion]]] = {
    "temperature": ("Cel", _TEMPERATURE),
    "heart_rate": ("/min", _RATE),
    "respiratory_rate": ("/min", _RATE),
    "systolic": ("mm[Hg]", _PRESSURE),
    "diastolic": ("mm[Hg]", _PRESSURE),
    "map": ("mm[Hg]", _PRESSURE),
    "spo2": ("%", _SPO2),
    "fio2": ("%", _FIO2),
    "o2_flow": ("L/min", _FLOW),
    "crp": ("mg/L", _CRP),
    "hs_crp": ("mg/L", _CRP),
    "ferritin": ("ng/mL", _FERRITIN),
    "il6": ("pg/mL", _IL6),
    "ldh": ("U/L", _LDH),
    "creatinine": ("mg/dL", _CREATININE),
    "platelets": ("10*9/L", _COUNT),
    "neutrophils": ("10*9/L", _COUNT),
    "fibrinogen": ("mg/dL", _FIBRINOGEN),
    "d_dimer": ("ug/mL", _D_DIMER),
    "lactate": ("mmol/L", _LACTATE),
    "cortisol": ("ug/dL", _CORTISOL),
    "body_weight": ("kg", _WEIGHT),
    "body_height": ("cm", _HEIGHT),
    "ice_score": ("{score}", _SCORE),
    "capd": ("{score}", _SCORE),
    "gcs": ("{score}", _SCORE),
}

#: concepts whose value may also be a valueInteger (dimensionless scores)
SCORES = frozenset({"ice_score", "capd", "gcs"})


#: How a canonical unit is written on a card.
UNIT_DISPLAY: Mapping[str, str] = {
    "Cel": "°C",
    "mm[Hg]": "mmHg",
    "/min": "/min",
    "%": "%",
    "L/min": "L/min",
    "mg/L": "mg/L",
    "ng/mL": "ng/mL",
    "pg/mL": "pg/mL",
    "U/L": "U/L",
    "mg/dL": "mg/dL",
    "10*9/L": "×10⁹/L",
    "ug/mL": "µg/mL",
    "{score}": "",
    "kg": "kg",
    "cm": "cm",
    "mmol/L": "mmol/L",
    "ug/dL": "µg/dL",
}


def unit_display(unit: str) -> str:
    """A canonical unit as a clinician writes it ("Cel" -> "°C")."""
    return UNIT_DISPLAY.get(unit, unit)


def conflicting_spellings(concept: str, spellings: Iterable[str | None]) -> bool:
    """Whether two spellings a Quantity gives (its UCUM code and its unit text) are both known for the concept
    and mean different units (code "Cel" with text "°F"): then neither can be trusted."""
    if concept not in TABLE:
        return False
    first: Conversion | None = None
    for spelling in spellings:
        found = _conversion(concept, spelling) if spelling else None
        if found is None or found is first:
            continue
        if first is None:
            first = found
        elif found != first:
            return True
    return False


def _folded(table: Mapping[str, Conversion]) -> dict[str, Conversion]:
    folded: dict[str, Conversion] = {}
    for spelling, conversion in table.items():
        key = spelling.casefold()
        if key in folded and folded[key] != conversion:
            raise ValueError(f"unit spellings {spelling!r} and another differ only in case")
        folded[key] = conversion
    return folded


_FOLDED: Mapping[str, Mapping[str, Conversion]] = {c: _folded(t) for c, (_, t) in TABLE.items()}


def canonical_unit(concept: str) -> str | None:
    """The canonical unit of a concept; None for a concept without a numeric value (bp_panel, o2_device)."""
    entry = TABLE.get(concept)
    return entry[0] if entry else None


def find_conversion(concept: str, spellings: Iterable[str | None]) -> Conversion | None:
    """The conversion for the first spelling the concept's table knows, or None (unknown unit: do not use)."""
    if concept not in TABLE:
        return None
    for spelling in spellings:
        if spelling is None:
            continue
        found = _conversion(concept, spelling)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=2048)
def _conversion(concept: str, spelling: str) -> Conversion | None:
    """The conversion of one spelling for a concept with a unit table, remembered (charts repeat a few units)."""
    exact, folded = TABLE[concept][1], _FOLDED[concept]
    text = spelling.strip()
    found = exact.get(text) or folded.get(text.casefold())
    if found is None and "{" in text:
        bare = _ANNOTATION.sub("", text).strip()
        found = exact.get(bare) or folded.get(bare.casefold())
    return found


def to_canonical(concept: str, value: Decimal | float | int, spellings: Iterable[str | None]) -> float | None:
    """The value in the concept's canonical unit, or None when no spelling is known for the concept."""
    conversion = find_conversion(concept, spellings)
    if conversion is None:
        return None
    return float(conversion.apply(Decimal(str(value)) if not isinstance(value, Decimal) else value))


def quantity_spellings(unit: str | None, system: str | None, code: str | None) -> tuple[str | None, ...]:
    """The spellings to try for a FHIR Quantity: its code when UCUM (or no system), then its display unit.

    A Quantity with neither code nor unit has the empty spelling (only dimensionless scores accept it).
    """
    if code is None and unit is None:
        return ("",)
    ucum_code = code if system in (None, UCUM_SYSTEM) else None
    return (ucum_code, unit)
