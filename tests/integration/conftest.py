"""Integration fixtures: a real sekmet-fhir server, started for the session and seeded with fixture patients.

When sekmet is not installed or does not start, every test using it is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_data import seed_resources
from sekmet_server import SekmetServer, SekmetUnavailable

TOKEN = "crs-cds-integration-token"


def started_server(workdir: Path, *, seed: bool = True) -> SekmetServer:
    """A running, seeded sekmet, or a pytest skip saying why there is none."""
    server = SekmetServer(workdir, TOKEN)
    try:
        server.start()
        if seed:
            server.seed(seed_resources())
    except SekmetUnavailable as exc:
        server.stop()
        pytest.skip(f"real FHIR server unavailable: {exc}")
    return server


@pytest.fixture(scope="session")
def sekmet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SekmetServer]:
    server = started_server(tmp_path_factory.mktemp("sekmet"))
    yield server
    server.stop()


@pytest.fixture
def stopped_sekmet(tmp_path: Path) -> SekmetServer:
    """A sekmet that was running (its port and data are real) and has been stopped."""
    server = started_server(tmp_path)
    server.stop()
    return server
