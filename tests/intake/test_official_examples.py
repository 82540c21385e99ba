"""Every official FHIR R4 example in ../shared/data/fhir-r4-examples (beside the repository) parses without error.

Facts tests can reuse `official_examples()` with `record_from_resources()` to run the same files through
extraction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.intake.builder import bundle_resources, record_from_resources
from cds_service.reading.concepts import medication_concept
from tests.fhir.fhir_helpers import FakeKnowledge

#: The official FHIR R4 examples, beside the repository (../shared/data from the project root).
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "fhir-r4-examples"


def official_examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is not on this machine")


@pytest.mark.parametrize("path", official_examples(), ids=lambda p: p.stem)
def test_each_official_example_is_read_with_nothing_set_aside(path: Path) -> None:
    record = record_from_resources([load(path)], knowledge=None, now=None, prefilter=False)
    assert record.set_aside == []


def test_all_examples_together_fill_every_record_list() -> None:
    raws = [load(p) for p in official_examples()]
    record = record_from_resources(raws, knowledge=None, now=None, prefilter=False)
    assert record.set_aside == []
    assert record.patient is not None
    assert len(record.observations) > 50
    assert len(record.medication_requests) > 30
    assert len(record.medication_administrations) > 10
    assert record.medication_statements and record.procedures
    assert len(record.medications) > 20


def test_contained_medications_of_the_examples_resolve() -> None:
    raws = [load(p) for p in official_examples()]
    record = record_from_resources(raws, knowledge=None, now=None, prefilter=False)
    contained = [
        r
        for r in record.medication_requests
        if r.medication_reference is not None and (r.medication_reference.reference or "").startswith("#")
    ]
    assert contained
    assert all(medication_concept(record, r).codings or medication_concept(record, r).texts for r in contained)


def test_the_pre_filter_keeps_only_known_codes_and_drops_cancelled() -> None:
    raws = [load(p) for p in official_examples()]
    record = record_from_resources(raws, knowledge=FakeKnowledge(), now=None)
    kept = {o.id for o in record.observations}
    assert {"blood-pressure", "satO2", "body-temperature", "heart-rate"} <= kept
    assert "blood-pressure-cancel" not in kept
    assert "bmi" not in kept


def test_a_search_outcome_entry_is_not_taken_for_a_resource() -> None:
    assert bundle_resources(load(EXAMPLES / "Bundle-bundle-search-warning.json")) == []
