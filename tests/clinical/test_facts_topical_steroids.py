"""A corticosteroid lifts ASTCT's fever requirement only when it acts systemically: not a cream, drops or inhaler."""

from __future__ import annotations

import pytest
from facts_kit import administration, facts_of


@pytest.mark.parametrize(
    ("text", "route", "counts"),
    [
        ("dexamethasone 10 mg IV", "Intravenous", True),
        ("methylprednisolone 125 mg", "Intramuscular", True),
        ("hydrocortisone 100 mg injection (clear solution)", None, True),
        ("hydrocortisone 1% cream", None, False),
        ("dexamethasone 0.1% eye drops", None, False),
        ("budesonide inhaler", None, False),
        ("dexamethasone", "Ophthalmic", False),
        ("hydrocortisone rectal foam", None, False),
    ],
)
def test_only_systemic_corticosteroids_count_as_given(text, route, counts):
    raw = administration(text)
    raw["medicationCodeableConcept"] = {"text": text}
    if route:
        raw["dosage"] = {"route": {"text": route}}
    treatments = facts_of(raw).treatments
    assert (len(treatments) == 1) is counts, treatments
