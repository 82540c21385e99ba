"""Logs, metrics and traces: JSON logs with a request id, Prometheus /metrics, optional OpenTelemetry."""
