"""A logging filter that masks bearer tokens, JWTs and OAuth access tokens in every log record.

Installed on the root handler (see `cli.configure_logging`), it is the last line of defence: code should never
log a token in the first place. It masks, in the formatted message and in any exception or stack text:

- `Bearer <anything>`                      -> `Bearer [REDACTED]`
- a JWT/JWS/JWE (segments starting eyJ)    -> `[REDACTED-JWT]`
- three long base64url segments joined by dots (an unusual-header JWT)
- `access_token` / `refresh_token` / `id_token` values in JSON or form text
"""

from __future__ import annotations

import logging
import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [REDACTED]"),
    # Each run starts only where a base64url run starts (lookbehind) and never gives characters back
    # (possessive), so the scan is linear: a megabyte of "AAAA..." in a path cannot stall the event loop.
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*+\.[A-Za-z0-9_-]*+(?:\.[A-Za-z0-9_-]*+)+"), "[REDACTED-JWT]"),
    (
        re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{16,}+\.[A-Za-z0-9_-]{16,}+\.[A-Za-z0-9_-]{16,}+"),
        "[REDACTED-JWT]",
    ),
    (
        re.compile(r"""(?i)((?:access|refresh|id)_token["']?\s*[:=]\s*["']?)[^"'\s&,}]+"""),
        r"\1[REDACTED]",
    ),
)


MAX_LOGGED_CHARS = 8192  # longer log text is cut first: no log line needs more, and redaction stays cheap


def redact(text: str) -> str:
    """`text` (cut to MAX_LOGGED_CHARS) with every token-like substring masked.

    A pattern runs only where its fixed part can occur (every log line passes here several times): "bearer" and
    "token" case-insensitively (`str.lower` folds the same letters `(?i)` does, the Kelvin sign included), a dot
    for the two JWT shapes."""
    if len(text) > MAX_LOGGED_CHARS:
        text = text[:MAX_LOGGED_CHARS] + " [truncated]"
    lowered = text.lower()
    bearer, jwt_first, jwt_shape, token = _PATTERNS
    if "bearer" in lowered:
        text = bearer[0].sub(bearer[1], text)
    if "." in text:
        text = jwt_first[0].sub(jwt_first[1], text)
        text = jwt_shape[0].sub(jwt_shape[1], text)
    if "_token" in lowered:
        text = token[0].sub(token[1], text)
    return text


class RedactionFilter(logging.Filter):
    """Masks token-like text in a record's message, arguments, exception text and stack text. Never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record` in place when it holds anything token-like; always keep the record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: mask the parts instead
            message = f"{record.msg} {record.args}"
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
