"""Serving the built timeline page at /app/ (bundle built by npm from smart-app/ into web/static/).

    GET /app/            the timeline (index.html; the SMART redirect URI)
    GET /app/launch.html the SMART launch URL (EHR launch with iss + launch; standalone launch with a form)
    GET /                redirects to /app/

Nothing is fetched from anywhere else at run time: the bundle carries its JavaScript (fhirclient, Observable
Plot) and the page's Content-Security-Policy allows scripts only from this origin. When the bundle was not
built (npm missing), /app/ answers 503 with a page saying how to build it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cds_service.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"
MOUNT = "/app"
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>CRS timeline not built</title>"
    "<h1>The CRS timeline app is not built</h1>"
    "<p>Install Node.js 20 and npm, then run <code>make run</code> (or <code>cd smart-app &amp;&amp; npm ci "
    "&amp;&amp; npm run build</code>).</p>"
)


def bundle_built(static_dir: Path = STATIC_DIR) -> bool:
    return (static_dir / "index.html").is_file() and (static_dir / "launch.html").is_file()


def content_security_policy(development: bool) -> str:
    """Scripts from this origin only (inline styles: Plot writes a <style> into its SVG); FHIR servers: any
    https one, and loopback too in development."""
    fhir = "https:" + (" http://127.0.0.1:* http://localhost:*" if development else "")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"connect-src 'self' {fhir}; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


class SecurityHeaders:
    """CSP, no sniffing, no referrer (the SMART redirect carries the code in its query) on every page answer.

    The query string of a page request (`launch.html?iss=…&launch=…`, `index.html?code=…&state=…`) is read by the
    page's script, never by the server: it is dropped from the request scope, so the access log does not record
    the authorization code or the launch id (Starlette's Mount shares the scope uvicorn logs from).
    """

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", self.csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-cache"),
                ]
                message["headers"] = headers
            await send(message)

        if scope["type"] == "http":
            scope["query_string"] = b""
        await self.app(scope, receive, with_headers)


def mount_app(app: FastAPI, *, development: bool, static_dir: Path = STATIC_DIR) -> None:
    """Serve the bundle at /app/ (or a 503 page saying it is not built) and redirect / there."""

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{MOUNT}/", status_code=307)

    if bundle_built(static_dir):
        files = StaticFiles(directory=static_dir, html=True)
        app.mount(MOUNT, SecurityHeaders(files, content_security_policy(development)), name="smart-app")
        return

    log.warning("the CRS timeline app is not built (%s has no bundle): /app/ answers 503; run make run", static_dir)

    @app.get(MOUNT + "/{rest:path}", include_in_schema=False)
    async def not_built(rest: str) -> HTMLResponse:
        return HTMLResponse(NOT_BUILT, status_code=503)
