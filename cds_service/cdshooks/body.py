"""Reading and validating request bodies: size limit, JSON shape limits, schema errors that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from cds_service.errors import InvalidRequest, PayloadTooLarge
from cds_service.security.json_limits import check_json_limits
from cds_service.settings import Settings

M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing anything over `limit` bytes (declared or streamed) with PayloadTooLarge."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes, settings: Settings) -> Any:
    """JSON bytes to Python, decoded once (msgspec), after the nesting-depth and element-count limits."""
    if not raw.strip():
        raise InvalidRequest("request body is empty; a JSON object is required")
    check_json_limits(raw, max_depth=settings.max_json_depth, max_elements=settings.max_json_elements)
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    except ValueError:  # e.g. an integer longer than Python's 4300-digit conversion limit
        raise InvalidRequest("request body holds a number too large to read") from None


def validate(model: type[M], data: Any) -> M:
    """Validate wire data, turning pydantic errors into InvalidRequest naming each offending field."""
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [_location(err["loc"]) or "(body)" for err in exc.errors()]
        details = "; ".join(f"{_location(err['loc']) or '(body)'}: {err['msg']}" for err in exc.errors()[:10])
        raise InvalidRequest(
            f"request does not match the CDS Hooks 2.0 schema: {details}", expression=fields
        ) from None


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)
