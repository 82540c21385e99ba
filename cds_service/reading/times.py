"""FHIR times as aware datetimes, and the data-quality notes facts extraction makes.

R4B models give a dateTime as an aware `datetime`, a full date as a `date`, and a partial date ("2026-05",
"2026") as text. Dates without a time are read as the start of that day (month, year) in UTC. A naive
datetime (possible only for resources built without validation) is read as UTC, with a quality note.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")

#: Device clock skew accepted for an observation time (a reviewed design choice, clinical-safety review item 2):
#: bedside monitors and point-of-care devices often run a few minutes fast, and dropping their newest value would
#: hide the sign that matters most. A time up to this far after `now` is read as `now`; a time further ahead is
#: not trusted (the value is reported as unusable, never silently dropped).
FUTURE_SKEW_TOLERANCE = timedelta(minutes=15)


class Notes:
    """Data-quality notes, counted and returned sorted (so the order of resources changes nothing).

    A note names a concept, a unit or a resource type, never a patient or a clinical value.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._flags: set[str] = set()

    def add(self, note: str) -> None:
        """Record one occurrence of a note (rendered with its count)."""
        self._counts[note] += 1

    def flag(self, note: str) -> None:
        """Record a note without counting (for things one resource may trigger several times, such as times)."""
        self._flags.add(note)

    def render(self) -> tuple[str, ...]:
        """Each note once, with "(N times)" when it occurred more than once, sorted."""
        counted = (note if count == 1 else f"{note} ({count} times)" for note, count in self._counts.items())
        return tuple(sorted({*counted, *self._flags}))


NAIVE_NOTE = "a date-time without a time zone was read as UTC"


def to_aware(value: Any, notes: Notes) -> datetime | None:
    """An aware datetime for a FHIR date, dateTime or instant value (see the module docstring), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            notes.flag(NAIVE_NOTE)
            return value.replace(tzinfo=UTC)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return _from_text(value.strip(), notes)
    return None


def _from_text(text: str, notes: Notes) -> datetime | None:
    partial = _PARTIAL_DATE.match(text)
    if partial is not None:
        return datetime(int(partial.group(1)), int(partial.group(2) or 1), 1, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        notes.flag("a date-time that could not be read was not used")
        return None
    return to_aware(parsed, notes)


def to_date(value: Any) -> date | None:
    """A calendar date for a FHIR date (a partial date: its first day), or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        partial = _PARTIAL_DATE.match(value.strip())
        if partial is not None:
            return date(int(partial.group(1)), int(partial.group(2) or 1), 1)
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def period_bounds(period: Any, notes: Notes) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a FHIR Period, each aware or None."""
    if period is None:
        return None, None
    return to_aware(getattr(period, "start", None), notes), to_aware(getattr(period, "end", None), notes)


def effective_time(resource: Any, prefix: str, notes: Notes) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a `<prefix>[x]` choice: DateTime (start = end), Period, or Instant (start = end)."""
    moment = to_aware(getattr(resource, f"{prefix}DateTime", None), notes)
    if moment is None:
        moment = to_aware(getattr(resource, f"{prefix}Instant", None), notes)
    if moment is not None:
        return moment, moment
    return period_bounds(getattr(resource, f"{prefix}Period", None), notes)


def observed_at(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime | None, bool]:
    """(time an observation counts for at `now`, whether that time is too far in the future to use).

    The end of a finished period (or the single time of a dateTime); the start of a period without an end or whose
    end is still ahead of `now`. A time at most FUTURE_SKEW_TOLERANCE after `now` is clamped to `now`.
    """
    moment = end if end is not None and (end <= now or start is None) else start
    if moment is None or moment <= now:
        return moment, False
    if moment - now <= FUTURE_SKEW_TOLERANCE:
        return now, False
    return moment, True


def sort_key_time(moment: datetime | None) -> tuple[bool, float]:
    """A sort key for an optional datetime: unknown times last."""
    return (moment is None, moment.timestamp() if moment is not None else 0.0)
