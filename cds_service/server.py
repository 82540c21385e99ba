"""`crs-cds serve`: uvicorn with the service's logging, metrics directory, worker check and slow-client limits.

Slow clients. uvicorn holds a connection that sends half a request header for as long as the client likes
(256 such connections were held for 30 s in testing). `GuardedHttpToolsProtocol` closes a connection whose
request header is not complete `header_timeout` seconds after the connection opened (or after the previous
response on a kept-alive connection, once the next request starts), and one whose body is not complete
`body_timeout` seconds after its header. The application then sees the client disconnect.
"""

from __future__ import annotations

import asyncio
import logging
import os
from functools import partial
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cds_service.observability.logs import logging_config
from cds_service.observability.metrics import multiprocess_directory
from cds_service.security.shared_cache import workers_refusal
from cds_service.settings import Settings

log = logging.getLogger("cds_service.server")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the request header and one for the body."""

    def __init__(self, *args: Any, header_timeout: float, body_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._body_timeout = body_timeout
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout, "request header")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_deadline is None:
            self._arm(self._header_timeout, "request header")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._arm(self._body_timeout, "request body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(seconds, self._too_slow, part, seconds)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self, part: str, seconds: float) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.warning("slow client closed: %s not complete within %.1f s client=%s", part, seconds, client)
        self.transport.close()


def default_workers(settings: Settings) -> int:
    """One worker per core when the replay cache is shared (Redis) or in development; else one, since several
    workers without a shared replay cache would each accept a replayed token (start-up refuses that)."""
    if settings.redis_url or settings.is_development:
        return os.cpu_count() or 1
    log.warning("running 1 worker: set CRS_CDS_REDIS_URL to run one per core (%d cores)", os.cpu_count() or 1)
    return 1


def serve(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    """Run the service until stopped. SystemExit with the reason when it must not start."""
    import uvicorn

    workers = workers if workers is not None else default_workers(settings)

    refusal = workers_refusal(settings, workers)
    if refusal:
        raise SystemExit(f"crs-cds: {refusal}")
    protocol = partial(
        GuardedHttpToolsProtocol,
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
    )
    with multiprocess_directory():  # every worker writes its metrics there; removed when the server stops
        uvicorn.run(
            "cds_service.app:served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_config=logging_config(settings.log_level, settings.log_format),
            access_log=False,  # RequestContext logs one line per request, with its id and the route template
            server_header=False,
            # uvicorn only calls `http` to make each connection's protocol; its annotation names classes only
            http=protocol,  # type: ignore[arg-type]
        )
