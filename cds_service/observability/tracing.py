"""OpenTelemetry tracing, when CRS_CDS_OTEL_ENDPOINT is set (needs the `otel` extra: pip install 'crs-cds[otel]').

One server span per HTTP request (OpenTelemetry's ASGI middleware), exported over OTLP/HTTP in batches, named by
method and route template. The service's own paths carry no patient data (a service id at most); headers and
bodies are not recorded. Outgoing FHIR calls are not instrumented: their URLs name the patient.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from cds_service.settings import Settings

log = logging.getLogger("cds_service")


def install_tracing(app: FastAPI, settings: Settings, *, exporter: Any | None = None) -> bool:
    """Add the tracing middleware when an endpoint (or a test's `exporter`) is given; True when installed.

    Raises RuntimeError naming the extra to install when tracing is configured but OpenTelemetry is absent.
    """
    if settings.otel_endpoint is None and exporter is None:
        return False
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "CRS_CDS_OTEL_ENDPOINT is set but OpenTelemetry is not installed: pip install 'crs-cds[otel]'"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_endpoint.rstrip("/") + "/v1/traces"  # type: ignore[union-attr]
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        default_span_details=_span_details,
        exclude_spans=["receive", "send"],
    )
    log.info("OpenTelemetry tracing on, service.name=%s", settings.otel_service_name)
    return True


_FIXED_PATHS = frozenset({"/cds-services", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})


def route_template(path: str) -> str:
    """The route a path belongs to, as a bounded name (the span name must not grow with what callers send)."""
    if path in _FIXED_PATHS:
        return path
    if path.startswith("/cds-services/"):
        return "/cds-services/{service_id}/feedback" if path.endswith("/feedback") else "/cds-services/{service_id}"
    return "unmatched"


def _span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    method = str(scope.get("method", "HTTP"))[:10]
    return f"{method} {route_template(str(scope.get('path', '')))}", {"http.request.method": method}
