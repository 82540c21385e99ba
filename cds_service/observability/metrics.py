"""Prometheus metrics, safe under `crs-cds serve --workers N`.

`crs-cds serve` gives every worker the same PROMETHEUS_MULTIPROC_DIR (`multiprocess_directory`): each process
writes its samples to files there, and a scrape of /metrics on any worker adds up all of them. Without that
variable (tests, an embedded app) each app keeps its own in-memory registry.

Label values are bounded sets (service ids, rule ids, indicators, prefetch keys, reasons): never a patient id,
a URL or anything a caller chose.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from cds_service.cdshooks.services import PREFETCH_TEMPLATES, SERVICES_BY_ID

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's metrics; `registry` None means multi-process mode (samples go to PROMETHEUS_MULTIPROC_DIR)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.registry = registry
        self.hook_seconds = Histogram(
            "crs_cds_hook_duration_seconds", "Time to answer a hook call, by service.", ["service"],
            buckets=_SECONDS, registry=registry,
        )
        self.cards = Counter(
            "crs_cds_cards", "Cards returned, by rule and indicator.", ["rule", "indicator"], registry=registry
        )
        self.fhir_seconds = Histogram(
            "crs_cds_fhir_fetch_duration_seconds", "Time of one FHIR GET, by prefetch query key.", ["query"],
            buckets=_SECONDS, registry=registry,
        )
        self.fhir_errors = Counter(
            "crs_cds_fhir_fetch_errors", "Failed FHIR GETs, by prefetch query key and reason.", ["query", "reason"],
            registry=registry,
        )
        self.auth_failures = Counter(
            "crs_cds_authentication_failures", "Refused CDS Hooks JWTs, by reason.", ["reason"], registry=registry
        )
        self.store_errors = Counter(
            "crs_cds_store_errors", "Failed store operations (audit, feedback, read, prune).", ["operation"],
            registry=registry,
        )
        self.http_requests = Counter(
            "crs_cds_http_requests", "HTTP requests answered, by route and status.", ["route", "status"],
            registry=registry,
        )

    @classmethod
    def for_process(cls) -> Metrics:
        """Multi-process metrics when PROMETHEUS_MULTIPROC_DIR is set, else an own registry."""
        return cls(None if os.environ.get(MULTIPROC_ENV) else CollectorRegistry())

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric (of every worker in multi-process mode)."""
        registry = self.registry
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
        return generate_latest(registry)

    # ------------------------------------------------------------ observers

    def observe_fhir(self, url: str, seconds: float, failure: str | None) -> None:
        """The FhirGateway's observer: one GET of `url`, its time, and its failure reason (None = success)."""
        key = query_key(url)
        self.fhir_seconds.labels(key).observe(seconds)
        if failure is not None:
            self.fhir_errors.labels(key, failure).inc()

    def observe_store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def observe_hook(self, service_id: str, seconds: float) -> None:
        self.hook_seconds.labels(service_id if service_id in SERVICES_BY_ID else "unknown").observe(seconds)

    def observe_card(self, rule_id: str, indicator: str) -> None:
        self.cards.labels(rule_id, indicator).inc()


def _template_index() -> tuple[dict[tuple[str, str | None], str], dict[str, str]]:
    searches: dict[tuple[str, str | None], str] = {}
    reads: dict[str, str] = {"Medication": "read:Medication"}  # medication references resolved by id
    for key, template in PREFETCH_TEMPLATES.items():
        path, _, query = template.partition("?")
        resource_type = path.split("/")[0]
        if query:
            searches[(resource_type, parse_qs(query).get("category", [None])[0])] = key
        else:
            reads[resource_type] = key
    return searches, reads


_SEARCHES, _READS = _template_index()


def query_key(url: str) -> str:
    """The prefetch key a FHIR GET answers ("vitalSigns", "patient"), "read:Medication" for medication reads,
    "page" for a paging link, "other" otherwise: a bounded set, never anything taken from the URL itself."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    category = parse_qs(parts.query).get("category", [None])[0]
    if segments and (segments[-1], category) in _SEARCHES:
        return _SEARCHES[(segments[-1], category)]
    if len(segments) >= 2 and not parts.query and segments[-2] in _READS:
        return _READS[segments[-2]]
    return "page" if parts.query else "other"


@contextmanager
def multiprocess_directory() -> Iterator[Path]:
    """For `crs-cds serve`: the directory every worker writes its metric samples to.

    An operator-set PROMETHEUS_MULTIPROC_DIR is created if needed and emptied of old samples; otherwise a fresh
    temporary directory is made, and removed when the server stops.
    """
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        path = Path(existing)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="crs-cds-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
