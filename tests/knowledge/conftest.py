"""The real knowledge base under cards/, loaded once for the knowledge tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.loader import load_knowledge

CARDS = Path(__file__).resolve().parents[2] / "cards"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(CARDS)


@pytest.fixture(scope="session")
def cards_dir() -> Path:
    return CARDS
