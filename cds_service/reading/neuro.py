"""Neurological events recorded as Conditions (seizure, focal motor weakness, cerebral oedema): ICANS domains.

A Condition counts when it stands (not refuted or entered in error; active, recurrence, relapse or no clinical
status), names an event of cards/icans.yaml by code (seizure: SNOMED CT 91175000) or by text not negated
("no seizure", "seizure precautions", "history of seizures" are not events), and has an onset or a recorded
date: a seizure disorder on the problem list without a date is history, never a new event. Whether the date
falls after the exposure is the rules' decision.
"""

from __future__ import annotations

from cds_service.domain.facts import NeuroSign
from cds_service.intake.record import PatientRecord
from cds_service.intake.types import reference_of
from cds_service.knowledge.base import KnowledgeBase
from cds_service.reading.medications import condition_onset, condition_stands
from cds_service.reading.times import Notes


def neuro_events(record: PatientRecord, kb: KnowledgeBase, notes: Notes) -> list[NeuroSign]:
    """The neurological events the record's Conditions document (see the module docstring)."""
    found: list[NeuroSign] = []
    for condition in record.conditions:
        if condition.code is None or not condition_stands(condition):
            continue
        codings = [(c.system, c.code) for c in condition.code.coding]
        texts = [t for t in (condition.code.text, *(c.display for c in condition.code.coding)) if t]
        event = kb.condition_event(codings, texts)
        if event is None:
            continue
        onset = condition_onset(condition, notes)
        if onset is None:
            notes.add("a neurological condition without an onset or recorded date was read as history")
            continue
        found.append(NeuroSign(event.domain, event.grade, event.label, onset, reference_of(condition), event.matched))
    return found
