"""Fixtures for the FHIR-layer tests: fake knowledge, short-deadline settings, build_record on a gateway."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fhir_helpers import NOW, FakeKnowledge, run

from cds_service.cdshooks.models import HookRequest
from cds_service.cdshooks.services import SERVICES_BY_ID, ServiceDefinition
from cds_service.fhir.client import FhirGateway
from cds_service.fhir.prefetch import build_record
from cds_service.intake.record import PatientRecord
from cds_service.settings import Settings


@pytest.fixture
def knowledge() -> FakeKnowledge:
    return FakeKnowledge()


@pytest.fixture
def fhir_settings(tmp_path: Path) -> Settings:
    """Development settings with a short deadline and fast retries, so failure paths stay quick."""
    return Settings(
        environment="development",
        auth_mode="disabled",
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        fhir_deadline_seconds=0.3,
        fhir_request_timeout_seconds=0.25,
        fhir_retries=2,
        fhir_max_pages=3,
    )


@pytest.fixture
def service() -> ServiceDefinition:
    return SERVICES_BY_ID["crs-patient-view"]


@pytest.fixture
def build(
    service: ServiceDefinition, fhir_settings: Settings, knowledge: FakeKnowledge
) -> Callable[..., PatientRecord]:
    """build_record on a fresh gateway (respx intercepts its transport), with NOW as the clock."""

    def call(
        request: HookRequest, *, fhir_allowed: bool = True, settings: Settings | None = None
    ) -> PatientRecord:
        async def go() -> PatientRecord:
            used = settings or fhir_settings
            gateway = FhirGateway.create(used)
            try:
                return await build_record(
                    request,
                    service,
                    gateway,
                    fhir_allowed=fhir_allowed,
                    knowledge=knowledge,
                    settings=used,
                    now=NOW,
                )
            finally:
                await gateway.aclose()

        return run(go())

    return call
