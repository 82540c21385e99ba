"""JSON log lines (structlog over the standard library), each with the request id of the call it belongs to.

Every module keeps logging with `logging.getLogger(...)`; `configure_logging` gives the root logger one handler
that masks tokens (`security.redaction.RedactionFilter`), adds the bound context (`request_id`), caps every
string value and renders one JSON object per line (or readable text with `CRS_CDS_LOG_FORMAT=text`). JSON
escaping means a caller's newline or quote can never start a forged log line.

    {"event": "hook answered service=crs-patient-view ...", "level": "info", "logger": "cds_service.hooks",
     "timestamp": "2026-11-24T12:00:00.123Z", "request_id": "4bf92f3577b34da6"}
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog

from cds_service.security.redaction import redact

MAX_EVENT_CHARS = 4000  # the message of one log line
MAX_FIELD_CHARS = 512  # any other string value
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")


def safe_text(value: Any, limit: int = 80) -> str:
    """A caller-supplied value for a log line: at most `limit` characters, control characters escaped."""
    text = str(value)
    cut = text[:limit]
    escaped = cut.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return escaped + ("..." if len(text) > limit else "")


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a plain token of at most 128 characters, else a new one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _cap_and_redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Every string value masked for tokens (tracebacks included) and cut to its limit."""
    for key, value in event.items():
        if isinstance(value, str):
            limit = MAX_EVENT_CHARS if key in ("event", "exception") else MAX_FIELD_CHARS
            masked = redact(value)
            event[key] = masked if len(masked) <= limit else masked[:limit] + " [truncated]"
    return event


def _processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(fmt: str = "json") -> logging.Formatter:
    """The log formatter: bound context, level, logger, UTC time; tokens masked, strings capped; JSON or text."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _cap_and_redact,
            renderer,
        ],
    )


def logging_config(level: str, fmt: str = "json") -> dict[str, Any]:
    """A `logging.config.dictConfig` document: one stderr handler with the redaction filter and `formatter`.

    `crs-cds serve` hands it to uvicorn, which applies it in every worker process (spawned workers inherit no
    logging set-up from the parent).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "cds_service.security.redaction.RedactionFilter"}},
        "formatters": {"crs": {"()": "cds_service.observability.logs.formatter", "fmt": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "crs",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's own loggers propagate to the root handler (one format for every line)
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
    }


def configure_logging(level: str, fmt: str = "json") -> None:
    """Apply `logging_config` in this process."""
    logging.config.dictConfig(logging_config(level, fmt))
