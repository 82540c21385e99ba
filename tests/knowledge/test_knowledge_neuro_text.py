"""Recognising neurological assessments and events by text: whole tokens, negation and plans never count."""

from __future__ import annotations

import pytest

from tests.clinical.facts_kit import kb


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("ICE score", "ice_score"),
        ("Immune Effector Cell-associated Encephalopathy (ICE) score", "ice_score"),
        ("Cornell Assessment of Pediatric Delirium total", "capd"),
        ("AVPU", "consciousness"),
        ("ICE", None),  # the ICE / R-ICE chemotherapy regimen, ice packs
        ("R-ICE cycle 2", None),
        ("CAPD exchange volume", None),  # continuous ambulatory peritoneal dialysis
        ("Ice pack applied", None),
    ],
)
def test_assessments_are_named_by_their_full_names_never_by_ambiguous_abbreviations(text, concept):
    assert kb().neuro.assessment([text]) == concept


@pytest.mark.parametrize(
    ("text", "event", "grade"),
    [
        ("Seizure", "seizure", 3),
        ("Generalised tonic-clonic seizure at 03:10", "seizure", 3),
        ("Non-convulsive status epilepticus on EEG", "prolonged-seizure", 4),
        ("New left hemiparesis", "motor-weakness", 4),
        ("Focal cerebral oedema on MRI", "focal-oedema", 3),
        ("Cerebral oedema", "raised-icp", 4),
        ("Papilloedema", "raised-icp", 4),
    ],
)
def test_events_are_recognised_with_the_grade_their_astct_cell_gives(text, event, grade):
    found = kb().neuro.event([text])
    assert found is not None and (found.id, found.grade) == (event, grade)


@pytest.mark.parametrize(
    "text",
    [
        "No seizure activity",
        "Seizure precautions",
        "History of seizures",
        "Levetiracetam for seizure prophylaxis",
        "Seizure disorder",
        "Rule out seizure",
        "Generalised weakness",
        "Peripheral oedema",
        "Denies seizures",
    ],
)
def test_negated_planned_historical_and_non_focal_mentions_are_not_events(text):
    assert kb().neuro.event([text]) is None


def test_a_negation_in_one_sentence_does_not_cancel_an_event_in_the_next():
    found = kb().neuro.event(["No cerebral oedema; new seizure at 02:00"])
    assert found is not None and found.id == "seizure"


@pytest.mark.parametrize(
    ("answer", "level"),
    [("A", "alert"), ("Alert", "alert"), ("V", "voice"), ("Responds to pain", "tactile"),
     ("Unresponsive", "unarousable"), ("drowsy, responds to voice", "voice"), ("a", "alert")],
)
def test_level_of_consciousness_answers(answer, level):
    assert kb().neuro.consciousness([answer]) == level


def test_a_single_letter_inside_a_sentence_is_not_read_as_an_avpu_answer():
    assert kb().neuro.consciousness(["patient seen by a nurse"]) is None
