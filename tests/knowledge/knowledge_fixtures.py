"""The real knowledge base under cards/, loaded once and shared by the knowledge tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.loader import load_knowledge

CARDS = Path(__file__).resolve().parents[2] / "cards"


@cache
def shipped_kb() -> KnowledgeBase:
    """The knowledge base exactly as shipped (no site file)."""
    return load_knowledge(CARDS)
