"""Properties: more vasopressors or more oxygen support never lower the grade; input order changes nothing."""

from __future__ import annotations

import random
from dataclasses import fields, replace

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_kit import CONFIG, KB, diagnosis, draft, exposure, facts, m, o2, pressor, treatment

from cds_service.clinical.rules import evaluate
from cds_service.domain.facts import Facts, O2Device

DEVICES = [d for d in O2Device]
PRESSORS = ["norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin"]

hours = st.floats(min_value=0, max_value=30, allow_nan=False)
measurements = st.builds(
    m,
    st.sampled_from(["temperature", "systolic", "spo2", "heart_rate", "crp", "ferritin", "neutrophils"]),
    st.floats(min_value=0, max_value=200, allow_nan=False),
    hours,
)
o2_records = st.builds(o2, st.sampled_from(DEVICES), st.none() | st.floats(min_value=0, max_value=60), hours)
pressors = st.builds(pressor, st.sampled_from(PRESSORS), hours)
treatments = st.builds(
    treatment,
    st.sampled_from(["tocilizumab", "dexamethasone"]),
    st.sampled_from(["anti-cytokine", "corticosteroid"]),
    st.floats(min_value=0, max_value=100),
)
chart = st.tuples(
    st.lists(measurements, max_size=12),
    st.lists(o2_records, max_size=3),
    st.lists(pressors, max_size=3),
    st.lists(treatments, max_size=2),
)


def _facts(parts) -> Facts:
    values, supports, uses, given_treatments = parts
    return facts(*values, *supports, *uses, *given_treatments)


def _grade(f: Facts) -> int:
    for finding in evaluate(f, KB, hook="patient-view", config=CONFIG):
        if finding.rule_id == "crs.active":
            return finding.astct_grade or 0
    return 0


@settings(max_examples=150, deadline=None)
@given(chart, pressors)
def test_adding_a_vasopressor_never_lowers_the_grade(parts, extra) -> None:
    before = _facts(parts)
    assert _grade(replace(before, vasopressors=(*before.vasopressors, extra))) >= _grade(before)


@settings(max_examples=150, deadline=None)
@given(chart, o2_records)
def test_adding_oxygen_support_never_lowers_the_grade(parts, extra) -> None:
    before = _facts(parts)
    assert _grade(replace(before, o2_support=(*before.o2_support, extra))) >= _grade(before)


@settings(max_examples=300, deadline=None)
@given(chart, st.randoms(use_true_random=False), st.sampled_from(["patient-view", "order-sign"]))
def test_shuffling_the_facts_changes_nothing(parts, rng: random.Random, hook: str) -> None:
    base = _facts(parts)
    base = replace(
        base,
        exposures=(
            exposure(days_ago=3),
            exposure("teclistamab", days_ago=2),
            exposure("rituximab", days_ago=1),
        ),
        diagnoses=(diagnosis("crs", "D89.832", 2, 5), diagnosis("seizure", "R56.9", None, 3)),
        draft_orders=(
            draft("MedicationRequest/t", drug_id="teclistamab", text="teclistamab"),
            draft("MedicationRequest/d", treatment_id="dexamethasone", text="dexamethasone"),
        ),
    )
    shuffled = {}
    for f in fields(Facts):
        value = getattr(base, f.name)
        if isinstance(value, tuple):
            value = list(value)
            rng.shuffle(value)
            shuffled[f.name] = tuple(value)
    assert evaluate(replace(base, **shuffled), KB, hook=hook, config=CONFIG) == evaluate(
        base, KB, hook=hook, config=CONFIG
    )
