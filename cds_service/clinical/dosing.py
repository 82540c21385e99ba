"""Weight and body surface for doses: the latest charted body weight and height, and BSA by Mosteller.

    BSA (m2) = sqrt(height cm x weight kg / 3600)   (Mosteller RD, N Engl J Med 1987;317:1098)

A weight older than WEIGHT_MAX_AGE is not used for a dose (children grow; an admission weight weeks old can be
wrong by a dose band): the card then says "weight not charted".
"""

from __future__ import annotations

import math
from datetime import timedelta

from cds_service.clinical.windows import series
from cds_service.domain.facts import Facts

WEIGHT_MAX_AGE = timedelta(days=30)
HEIGHT_MAX_AGE = timedelta(days=365)


def latest_weight_kg(facts: Facts) -> float | None:
    """The latest body weight charted within WEIGHT_MAX_AGE, in kg, or None."""
    return _latest(facts, "body_weight", WEIGHT_MAX_AGE)


def latest_height_cm(facts: Facts) -> float | None:
    return _latest(facts, "body_height", HEIGHT_MAX_AGE)


def bsa_m2(facts: Facts) -> float | None:
    """Body surface area by Mosteller from the latest weight and height, or None without both."""
    weight, height = latest_weight_kg(facts), latest_height_cm(facts)
    if weight is None or height is None:
        return None
    return round(math.sqrt(height * weight / 3600), 2)


def _latest(facts: Facts, concept: str, max_age: timedelta) -> float | None:
    recent = [m for m in series(facts, concept) if facts.now - max_age <= m.effective <= facts.now]
    if not recent:
        return None
    return recent[-1].value
