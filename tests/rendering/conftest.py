"""Fixtures of the renderer tests: the real templates, the test knowledge base, fixed uuids and clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rendering_fakes import FakeKnowledge

from cds_service.rendering.renderer import CardRenderer
from cds_service.rendering.templates import TemplateSet, load_templates
from cds_service.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "cards" / "templates"
RENDER_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def sequential_uuids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


@pytest.fixture(scope="session")
def templates() -> TemplateSet:
    return load_templates(TEMPLATES_DIR)


@pytest.fixture
def knowledge() -> FakeKnowledge:
    return FakeKnowledge()


def make_renderer(templates: TemplateSet, knowledge: FakeKnowledge, **settings: object) -> CardRenderer:
    base = Settings(environment="development", auth_mode="disabled", **settings)  # type: ignore[arg-type]
    return CardRenderer(templates, base, knowledge, uuid_factory=sequential_uuids(), clock=lambda: RENDER_NOW)


@pytest.fixture
def renderer(templates: TemplateSet, knowledge: FakeKnowledge) -> CardRenderer:
    return make_renderer(templates, knowledge, smart_app_url="https://apps.example.org/crs-monitor/launch")
