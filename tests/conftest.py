"""Shared fixtures: settings for tests, a fixed clock, deterministic uuids, and an HTTP client on the real app."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from cds_service.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def counting_uuids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Development settings with authentication off and a private SQLite file."""
    return Settings(
        environment="development",
        auth_mode="disabled",
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        cors_origins=["https://ehr.example.org"],
    )


def make_client(settings: Settings, **runtime_kwargs: Any) -> Any:
    """A TestClient on the real app (imported here so unit tests of single layers do not need the whole app)."""
    from fastapi.testclient import TestClient

    from cds_service.app import create_app
    from cds_service.runtime import build_runtime
    from tests.contract import assert_finding_contract, assert_suggestions_are_r4

    class ContractCheckingClient(TestClient):
        """Checks the finding contract, and that every suggested resource is valid R4, on every card of every
        successful hook answer the tests receive."""

        def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
            response = super().request(method, url, *args, **kwargs)
            path = str(url)
            if method.upper() == "POST" and response.status_code == 200 and "/feedback" not in path:
                for card in response.json().get("cards", []):
                    assert_finding_contract(card)
                    assert_suggestions_are_r4(card)
            return response

    prepare_store(settings)
    if settings.knowledge_dir == Settings.model_fields["knowledge_dir"].get_default(call_default_factory=True) and (
        settings.site_knowledge_file is None
    ):
        runtime_kwargs.setdefault("loaded", shipped_knowledge())
    runtime_kwargs.setdefault("clock", fixed_clock)
    runtime_kwargs.setdefault("uuid_factory", counting_uuids())
    app = create_app(settings, runtime_factory=partial(build_runtime, **runtime_kwargs))
    return ContractCheckingClient(app, raise_server_exceptions=False)


@functools.cache
def shipped_knowledge() -> tuple[Any, Any]:
    """The shipped knowledge and templates, loaded once per test session (both are immutable)."""
    from cds_service.knowledge.loader import load_knowledge
    from cds_service.rendering.templates import load_templates

    directory = Settings.model_fields["knowledge_dir"].get_default(call_default_factory=True)
    return load_knowledge(directory, None), load_templates(directory / "templates")


def prepare_store(settings: Settings) -> None:
    """Give a test's database the current schema (as `crs-cds db upgrade` would), unless it already has one."""
    from cds_service.store import SqlStore

    if settings.database_url.startswith("sqlite:///") and settings.database_url != "sqlite:///:memory:":
        store = SqlStore(settings.database_url)
        if store.schema_revision() is None:
            store.create_schema()
        store.dispose()


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    with make_client(settings) as test_client:
        yield test_client


def load_json(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
