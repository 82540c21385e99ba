"""FhirGateway: the one pooled HTTP client the service uses to read an EHR's FHIR server.

Created once per application (`FhirGateway.create(settings)` in the lifespan, `aclose()` at shutdown) and
shared by every hook call. Redirects are never followed (a token must not travel to another address). GETs are
idempotent, so they are retried on connection errors and 503 with exponential back-off, but never past the
caller's deadline. Failures come back as `FetchError` with a `DataGap.reason` value; the token is never
logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from cds_service.settings import Settings

log = logging.getLogger(__name__)

_BACKOFF_SECONDS = 0.1  # first retry after 0.1 s, then 0.2 s, 0.4 s ...
#: Answers up to this size are decoded on the event loop (a fraction of a millisecond); larger ones in a worker
#: thread, so one heavy chart never stalls the other calls (and /healthz) of the process.
INLINE_DECODE_MAX_BYTES = 256 * 1024
_ACCEPT = "application/fhir+json, application/json;q=0.9"

#: reason -> why, in words a clinician reads after "... could not be read".
REASON_WORDS: dict[str, str] = {
    "unauthorized": "the FHIR server did not accept the EHR's access token",
    "forbidden": "the FHIR server refused access",
    "not-found": "the FHIR server did not find it",
    "timeout": "the FHIR server did not answer in time",
    "server-error": "the FHIR server reported an error",
    "unreachable": "the FHIR server could not be reached",
    "invalid-resource": "the FHIR server sent data that is not valid FHIR",
    "too-large": "the FHIR server's answer was larger than the service reads",
    "page-cap": "the page limit was reached",
    "ehr-error": "the EHR reported an error while gathering it",
    "not-allowed": "this FHIR server address is not on the service's allowed list",
}


class FetchError(Exception):
    """A FHIR read that failed: `reason` is a `DataGap.reason` value, `status` the HTTP status if any."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(f"{reason} (HTTP {status})" if status else reason)
        self.reason = reason
        self.status = status


def reason_for_status(status: int) -> str:
    """The `DataGap.reason` of an HTTP error status."""
    if status == 401:
        return "unauthorized"
    if status == 403:
        return "forbidden"
    if status in (404, 410):
        return "not-found"
    return "server-error"


#: Told about every GET attempt: (url, seconds, failure reason or None). Used for metrics; must not log the URL.
FetchObserver = Callable[[str, float, "str | None"], None]


class FhirGateway:
    """Reads FHIR JSON over one shared, pooled `httpx.AsyncClient`."""

    def __init__(
        self, client: httpx.AsyncClient, settings: Settings, observer: FetchObserver | None = None
    ) -> None:
        self._client = client
        self._settings = settings
        self._observer = observer

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: FetchObserver | None = None,
    ) -> FhirGateway:
        """A gateway with its own pooled client (limits from `settings.fhir_max_connections`)."""
        limits = httpx.Limits(
            max_connections=settings.fhir_max_connections,
            max_keepalive_connections=settings.fhir_max_connections,
        )
        client = httpx.AsyncClient(
            limits=limits,
            timeout=settings.fhir_request_timeout_seconds,
            follow_redirects=False,
            transport=transport,
            headers={"Accept": _ACCEPT},
        )
        return cls(client, settings, observer)

    async def aclose(self) -> None:
        """Close the pooled client (application shutdown)."""
        await self._client.aclose()

    async def get_json(self, url: str, token: str | None, *, deadline: float) -> dict[str, Any]:
        """`GET {url}` with `Authorization: Bearer {token}`; the JSON object of a 2xx answer.

        `url` is absolute (e.g. `https://ehr/fhir/Observation?patient=123&_count=200`). `deadline` is an
        `asyncio` loop time after which no retry is started. Raises `FetchError`.
        """
        attempt = 0
        while True:
            try:
                return await self._get_once(url, token, deadline)
            except FetchError as error:
                delay = _BACKOFF_SECONDS * 2**attempt
                retryable = error.reason == "unreachable" or error.status == 503
                if not retryable or attempt >= self._settings.fhir_retries or not _fits(delay, deadline):
                    raise
                attempt += 1
                log.info("FHIR GET retry %d after %s", attempt, error.reason)
                await asyncio.sleep(delay)

    async def _get_once(self, url: str, token: str | None, deadline: float) -> dict[str, Any]:
        """One GET (observed when an observer is set: latency and outcome per call)."""
        if self._observer is None:
            return await self._get_unobserved(url, token, deadline)
        started = time.perf_counter()
        try:
            body = await self._get_unobserved(url, token, deadline)
        except FetchError as error:
            self._observer(url, time.perf_counter() - started, error.reason)
            raise
        self._observer(url, time.perf_counter() - started, None)
        return body

    async def _get_unobserved(self, url: str, token: str | None, deadline: float) -> dict[str, Any]:
        """One GET, its body read as a stream up to `fhir_max_response_bytes` and decoded, all before `deadline`."""
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise FetchError("timeout")
        try:
            return await asyncio.wait_for(self._read(url, token, remaining), timeout=remaining)
        except TimeoutError as exc:
            raise FetchError("timeout") from exc

    async def _read(self, url: str, token: str | None, remaining: float) -> dict[str, Any]:
        timeout = min(self._settings.fhir_request_timeout_seconds, remaining)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limit = self._settings.fhir_max_response_bytes
        try:
            async with self._client.stream("GET", url, headers=headers, timeout=timeout) as response:
                if response.status_code >= 300:
                    log.warning("FHIR GET on %s answered HTTP %d", _host_only(url), response.status_code)
                    raise FetchError(reason_for_status(response.status_code), response.status_code)
                raw = await _read_capped(response, limit)
        except httpx.TimeoutException as exc:
            raise FetchError("timeout") from exc
        except httpx.TransportError as exc:
            raise FetchError("unreachable") from exc
        if raw is None:
            log.warning("FHIR GET on %s: answer over %d bytes, not read", _host_only(url), limit)
            raise FetchError("too-large", response.status_code)
        body = await _decode(raw)
        if not isinstance(body, dict):
            raise FetchError("invalid-resource", response.status_code)
        return body


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` bytes (declared or streamed): nothing more is read."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _decode(raw: bytes) -> Any:
    """JSON bytes to Python objects; large bodies in a worker thread. Raises FetchError for invalid JSON."""
    try:
        if len(raw) <= INLINE_DECODE_MAX_BYTES:
            return msgspec.json.decode(raw)
        return await asyncio.to_thread(msgspec.json.decode, raw)
    except msgspec.DecodeError as exc:
        raise FetchError("invalid-resource") from exc


def _fits(delay: float, deadline: float) -> bool:
    return asyncio.get_running_loop().time() + delay < deadline


def _host_only(url: str) -> str:
    """Scheme and host of a URL: its path and query name the patient, which is never logged."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
