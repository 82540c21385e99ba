"""create_app(settings): the FastAPI application, with every shared object wired in its lifespan.

No import-time globals: `create_app` is called by `crs-cds serve` (through uvicorn's factory mode) and by tests.
Errors are mapped to OperationOutcome responses here, and only here.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from traceback import extract_tb
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cds_service import __version__
from cds_service.api.openapi import build_openapi
from cds_service.api.routes import metrics_router, router
from cds_service.api.smart import router as smart_router
from cds_service.errors import AuthenticationError, CrsCdsError, operation_outcome, outcome_for
from cds_service.observability.metrics import Metrics
from cds_service.observability.middleware import RequestContext
from cds_service.observability.tracing import install_tracing
from cds_service.runtime import Runtime, build_runtime
from cds_service.security.authenticator import startup_warning
from cds_service.settings import Settings
from cds_service.web.static import mount_app

log = logging.getLogger("cds_service")

FHIR_JSON = "application/fhir+json"


def served_app() -> FastAPI:
    """The application `crs-cds serve` runs in each worker: settings from the environment, the collector tuned."""
    return create_app(tune_gc=True)


def create_app(
    settings: Settings | None = None,
    *,
    runtime_factory: Callable[[Settings], Runtime] | None = None,
    tune_gc: bool = False,
) -> FastAPI:
    """Build the application. `runtime_factory` lets tests inject clocks, uuid factories and transports;
    `tune_gc` (a served worker only) freezes what start-up loaded and collects the youngest generation less often."""
    settings = settings or Settings()
    factory = runtime_factory or build_runtime
    quiet_http_client_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for warning in (startup_warning(settings), _base_url_warning(settings), _pepper_warning(settings)):
            if warning:
                log.warning(warning)
        runtime = factory(settings)
        app.state.runtime = runtime
        if tune_gc:
            tune_collector()
        log.info(
            "crs-cds %s ready: knowledge %s, store %s",
            __version__,
            runtime.knowledge.version,
            runtime.store.dialect,
        )
        try:
            yield
        finally:
            await runtime.aclose()

    app = FastAPI(
        title="crs-cds",
        version=__version__,
        description="CDS Hooks 2.0 service for cytokine release syndrome decision support.",
        lifespan=lifespan,
        redirect_slashes=False,  # "/cds-services/x/" is a 404 OperationOutcome, never a redirect to the Host header
        # The API document and its pages only in development; production exposes only the CDS Hooks endpoints.
        openapi_url="/openapi.json" if settings.is_development else None,
        docs_url=None,  # Swagger UI from this package (below), never from a CDN
        redoc_url=None,
    )
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.include_router(router)
    if settings.metrics_enabled:
        app.include_router(metrics_router)
    if settings.is_development:
        _install_swagger_ui(app)
    app.include_router(smart_router)
    mount_app(app, development=settings.is_development)
    app.add_middleware(LastResort)  # added first, so it sits inside CORS: even a 500 carries CORS headers
    app.add_middleware(
        OutcomeCORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID"],
        max_age=600,
    )
    install_tracing(app, settings)
    app.add_middleware(RequestContext, metrics=_metrics_of)  # outermost: every answer carries its request id
    _install_error_handlers(app)
    return app


def tune_collector() -> None:
    """The garbage collector of a served worker, once start-up has loaded everything.

    The knowledge base and the imported code are long-lived: move them out of the collector's generations, so
    that full collections during hook calls do not walk them again and again; a hook call allocates tens of
    thousands of short-lived objects, so the youngest generation is collected less often (docs/PERFORMANCE.md:
    230 -> 247-254 req/s, worker peak memory unchanged at 121 MB). The benchmarks call it too.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _metrics_of(scope: Scope) -> Metrics | None:
    runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
    return runtime.metrics if runtime is not None else None


def _install_swagger_ui(app: FastAPI) -> None:
    """/docs with Swagger UI's files from the swagger-ui-bundle package (the `docs` extra); absent, no /docs."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return
    from fastapi.openapi.docs import get_swagger_ui_html
    from starlette.staticfiles import StaticFiles

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def _docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="crs-cds API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


def _pepper_warning(settings: Settings) -> str | None:
    if settings.is_development or settings.audit_pepper is not None:
        return None
    return (
        "CRS_CDS_AUDIT_PEPPER is not set: the card audit records no patient key, so the cards shown to one "
        "patient cannot be looked up and repeated cards interrupt every time (no card memory); set it to a long "
        "random secret (docs/SECURITY.md)"
    )


def _base_url_warning(settings: Settings) -> str | None:
    """Production with the default loopback base URL: every JWT's `aud` would be refused; say why at start-up."""
    if settings.is_development or not settings.public_base_url.startswith(("http://127.", "http://localhost")):
        return None
    return (
        f"CRS_CDS_PUBLIC_BASE_URL is {settings.public_base_url}: JWTs must name the exact URL EHRs call as their "
        "aud, so set it to the service's public https address"
    )


def quiet_http_client_logs() -> None:
    """httpx logs every request URL at INFO, and FHIR query URLs name the patient: keep them out of the logs."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _outcome_response(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers, media_type=FHIR_JSON)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CrsCdsError)
    async def _crs_error(request: Request, exc: CrsCdsError) -> JSONResponse:
        headers = None
        if isinstance(exc, AuthenticationError):
            # The authenticator has logged the reason (without the token); the caller learns nothing more.
            headers = {"WWW-Authenticate": 'Bearer realm="crs-cds"'}
        elif exc.http_status >= 500:
            log.error("request failed path=%s error=%s", request.url.path, type(exc).__name__)
        return _outcome_response(exc.http_status, outcome_for(exc), headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = (
            "not-found"
            if exc.status_code == 404
            else "not-supported"
            if exc.status_code == 405
            else "processing"
        )
        return _outcome_response(exc.status_code, operation_outcome(str(exc.detail), code=code), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in err["loc"]) for err in exc.errors()]
        return _outcome_response(400, operation_outcome("invalid request", code="invalid", expression=fields))



class LastResort:
    """ASGI middleware inside CORS: any unexpected exception becomes a 500 OperationOutcome, and stops here.

    Starlette's own handler for `Exception` re-raises to the server, which logs the traceback with the
    exception's message, and messages can quote request data; this logs only the type and where it happened.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:  # the client went away (or was cut off as too slow): nobody to answer
            log.info("client disconnected before its request was read path=%.200r", scope.get("path"))
        except Exception as exc:  # the last resort: nothing may escape as a stack trace
            frames = "; ".join(
                f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in extract_tb(exc.__traceback__)
            )
            log.error("unexpected error path=%.200r error=%s at %s", scope.get("path"), type(exc).__name__, frames)
            if not started:
                body = operation_outcome("internal error; the service log has the details")
                await _outcome_response(500, body)(scope, receive, send)


class OutcomeCORSMiddleware(CORSMiddleware):
    """CORS whose refused preflights answer with an OperationOutcome, like every other non-2xx."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        message = bytes(response.body).decode(errors="replace") or "CORS preflight refused"
        outcome = operation_outcome(message, code="forbidden")
        return _outcome_response(response.status_code, outcome, {"Vary": "Origin"})
