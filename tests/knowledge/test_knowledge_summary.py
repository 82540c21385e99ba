"""The check-knowledge summary lists drugs per class and tier, codes per system and uncoded entries."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.summary import summarise


@pytest.fixture
def kb() -> KnowledgeBase:
    return shipped_kb()


def test_summary_reports_classes_systems_and_uncoded_entries(kb: KnowledgeBase) -> None:
    text = summarise(kb)
    assert kb.version in text
    assert "car-t" in text and "checkpoint-inhibitor" in text
    assert "RxNorm" in text and "ICD-10-PCS" in text
    assert "tgn1412" in text  # matched by name only
    assert "Site extension: none" in text
