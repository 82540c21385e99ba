"""OpenTelemetry, when configured: one server span per request, named by route template, carrying no patient
data."""

from __future__ import annotations

import pytest

from cds_service.observability.tracing import install_tracing, route_template
from cds_service.settings import Settings
from tests.conftest import load_json, make_client

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed: tracing untested here")


def test_each_request_gets_a_span_named_by_its_route_without_patient_data(settings):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    client = make_client(settings)
    assert install_tracing(client.app, settings, exporter=exporter)
    with client:
        answer = client.post("/cds-services/crs-order-sign", json=load_json("examples/order-sign-teclistamab.json"))
        assert answer.status_code == 200
    names = [span.name for span in exporter.get_finished_spans()]
    assert "POST /cds-services/{service_id}" in names
    for span in exporter.get_finished_spans():
        assert "pt-myeloma-1" not in str(dict(span.attributes or {})) + span.name


def test_an_otlp_endpoint_turns_tracing_on_at_start_up(tmp_path):
    settings = Settings(environment="development", auth_mode="disabled", otel_endpoint="http://127.0.0.1:9",
                        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    with make_client(settings) as client:
        names = [m.cls.__name__ for m in client.app.user_middleware]
        assert "OpenTelemetryMiddleware" in names


def test_span_names_stay_a_bounded_set():
    assert route_template("/cds-services/anything-a-caller-sends") == "/cds-services/{service_id}"
    assert route_template("/cds-services/x/feedback") == "/cds-services/{service_id}/feedback"
    assert route_template("/../etc/passwd") == "unmatched"
