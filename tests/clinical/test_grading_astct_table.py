"""Every cell of the ASTCT 2019 CRS table: fever x hypotension (vasopressors) x hypoxia (oxygen support)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rules_kit import KB, NOW, facts, m, o2, pressor

from cds_service.clinical.grading import grade_crs
from cds_service.domain.facts import Facts

HYPOTENSION = {
    "none": (m("systolic", 118),),
    "no-pressor": (m("systolic", 84),),
    "one": (m("systolic", 84), pressor("norepinephrine")),
    "one+vasopressin": (m("systolic", 84), pressor("norepinephrine"), pressor("vasopressin")),
    "two": (m("systolic", 84), pressor("norepinephrine"), pressor("phenylephrine")),
    "vasopressin-only": (m("systolic", 84), pressor("vasopressin")),
}
HYPOXIA = {
    "none": (),
    "blow-by": (o2("blow-by"),),
    "nc-4": (o2("nasal-cannula", 4),),
    "nc-6": (o2("nasal-cannula", 6),),
    "nc-7": (o2("nasal-cannula", 7),),
    "hfnc": (o2("high-flow-nasal-cannula", 40),),
    "face-mask": (o2("face-mask", 8),),
    "nrb": (o2("non-rebreather", 15),),
    "venturi": (o2("venturi", 10),),
    "cpap": (o2("cpap"),),
    "bipap": (o2("bipap"),),
    "mv": (o2("mechanical-ventilation"),),
}
# fmt: off
# The ASTCT table as written, one row per hypotension state, one column per oxygen support (fever present).
#                      none bb nc4 nc6 nc7 hfnc fm nrb ven cpap bipap mv
GRADES_WITH_FEVER = {
    "none":             (1, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4),
    "no-pressor":       (2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4),
    "one":              (3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4),
    "one+vasopressin":  (3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4),
    "two":              (4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4),
    "vasopressin-only": (3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4),
}
# fmt: on
CELLS = [
    (hypotension, hypoxia, GRADES_WITH_FEVER[hypotension][column])
    for hypotension in HYPOTENSION
    for column, hypoxia in enumerate(HYPOXIA)
]


def _grade(f: Facts):
    return grade_crs(
        f, KB, window_start=NOW - timedelta(hours=24), exposure_start=NOW - timedelta(days=3), hours=24
    )


@pytest.mark.parametrize(("hypotension", "hypoxia", "expected"), CELLS)
def test_febrile_patient_gets_the_astct_grade_of_the_table_cell(
    hypotension: str, hypoxia: str, expected: int
) -> None:
    graded = _grade(facts(m("temperature", 38.4), *HYPOTENSION[hypotension], *HYPOXIA[hypoxia]))
    assert graded.grade == expected
    assert graded.is_minimum is False


@pytest.mark.parametrize(("hypotension", "hypoxia", "expected"), CELLS)
def test_afebrile_patient_gets_no_astct_grade_but_organ_signs_are_kept(
    hypotension: str, hypoxia: str, expected: int
) -> None:
    graded = _grade(facts(m("temperature", 37.2), *HYPOTENSION[hypotension], *HYPOXIA[hypoxia]))
    assert graded.grade is None
    assert graded.organ_signs == (hypotension != "none" or hypoxia not in ("none",))
    assert any("requires fever" in step for step in graded.steps)


@pytest.mark.parametrize(
    ("hypotension", "count", "vasopressin"),
    [
        ("none", 0, False),
        ("no-pressor", 0, False),
        ("one", 1, False),
        ("one+vasopressin", 1, True),
        ("two", 2, False),
        ("vasopressin-only", 0, True),
    ],
)
def test_vasopressor_count_excludes_vasopressin(hypotension: str, count: int, vasopressin: bool) -> None:
    graded = _grade(facts(m("temperature", 38.4), *HYPOTENSION[hypotension]))
    assert graded.hypotension.vasopressor_count == count
    assert graded.hypotension.vasopressin is vasopressin


def test_fever_threshold_is_inclusive_at_38_0() -> None:
    assert _grade(facts(m("temperature", 38.0))).grade == 1
    assert _grade(facts(m("temperature", 37.9))).grade is None


def test_grading_steps_explain_the_more_severe_parameter() -> None:
    graded = _grade(facts(m("temperature", 38.6), m("systolic", 84), pressor(), o2("nasal-cannula", 4)))
    assert graded.steps[-1] == "Grade 3 is the more severe of hypotension (3) and hypoxia (2)."
    assert "One vasopressor (norepinephrine): grade 3." in graded.steps
    assert any(s.startswith("Systolic 84 mmHg") and "threshold of 90 mmHg (adult)" in s for s in graded.steps)
