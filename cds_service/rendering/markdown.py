"""GitHub-Flavoured Markdown building blocks for card details: escaping, tables, lists, numbers and times.

Everything that comes from data (evidence labels, values, data-gap descriptions, drug names) goes through
`escape` (or `cell` inside tables) so it can never open a link, an HTML tag, emphasis or a new table column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

# CommonMark lets any ASCII punctuation be backslash-escaped; these can change structure inline.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!&$])")
_SPACES = re.compile(r"\s+")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")  # "1. x" would open an ordered list
_OTHER_START = re.compile(r"^(?:[-+](?=\s|$)|=+$)")  # "- x" a bullet list, "===" a heading underline


def escape(text: object) -> str:
    """Data text made inert in Markdown: one line, special characters backslash-escaped."""
    return _escaped(str(text))


@lru_cache(maxsize=4096)
def _escaped(text: str) -> str:
    """`escape` of a text, remembered: a card escapes the same drug names, units and numbers call after call
    (three expressions per text were a quarter of rendering)."""
    one_line = _SPECIAL.sub(r"\\\1", _SPACES.sub(" ", text).strip())
    one_line = _ORDERED_START.sub(r"\1\\\2", one_line)
    return "\\" + one_line if _OTHER_START.match(one_line) else one_line


def plain(text: object) -> str:
    """Data text for a summary (plain text, not Markdown): one line, no control characters."""
    return _SPACES.sub(" ", str(text)).strip()


def number(value: object) -> str:
    """A number as a clinician reads it: integers without a decimal point, others with <= 2 decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def utc_text(moment: datetime | str | None) -> str:
    """ "2026-11-24 14:20 UTC" for an aware datetime or ISO 8601 text; "" for None; other text unchanged."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
        except ValueError:
            return moment
        if parsed.tzinfo is None:
            return moment
        moment = parsed
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def heading(text: str) -> str:
    """A level-4 heading (cards are small; EHRs render large headings loudly)."""
    return f"#### {text}"


def bullets(lines: Iterable[str]) -> str:
    """A bullet list of already-escaped lines."""
    return "\n".join(f"- {line}" for line in lines)


def cell(value: object) -> str:
    """A table cell: escaped, never empty (an em dash stands for no value)."""
    text = escape(number(value)) if value is not None else ""
    return text or "—"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GFM pipe table; every cell escaped."""
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
    return "\n".join(lines)


def join_blocks(blocks: Iterable[str | None]) -> str:
    """Markdown blocks separated by blank lines, skipping empty ones."""
    return "\n\n".join(block for block in blocks if block)
