"""RequestContext: the outermost ASGI middleware. Gives every request an id, logs one access line, counts it.

- The id is the caller's `X-Request-ID` when it is a plain token of at most 128 characters, else a new one;
  it is bound to every log line of the request (structlog contextvars) and echoed in the response header.
- The access line names the route template (`/cds-services/{service_id}`), never the raw path beyond 200
  characters, escaped; no query string, no header.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bound_contextvars

from cds_service.observability.logs import request_id_from, safe_text
from cds_service.observability.metrics import Metrics

log = logging.getLogger("cds_service.access")
REQUEST_ID_HEADER = "x-request-id"


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Callable[[Scope], Metrics | None]) -> None:
        self.app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, REQUEST_ID_HEADER))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER.encode()]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        with bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route(scope)
        log.info(
            "request method=%s route=%s status=%d ms=%.1f",
            safe_text(scope.get("method", "?"), 10),
            route if route != "unmatched" else safe_text(scope.get("path", ""), 200),
            status,
            seconds * 1000,
        )
        metrics = self._metrics(scope)
        if metrics is not None:
            metrics.http_requests.labels(route, str(status)).inc()


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
