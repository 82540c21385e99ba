"""Intake times as aware datetimes, and the data-quality notes facts extraction makes.

A FhirTime counts from its earliest instant: a date (or a partial date, "2026-05", "2026") from the start of
that day (month, year) in UTC. A time sent without a zone (not valid FHIR) is read as UTC, with a note.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from cds_service.intake.types import FhirTime, Period

#: Device clock skew accepted for an observation time (a reviewed design choice, clinical-safety review item 2):
#: bedside monitors and point-of-care devices often run a few minutes fast, and dropping their newest value would
#: hide the sign that matters most. A time up to this far after `now` is read as `now`; a time further ahead is
#: not trusted (the value is reported as unusable, never silently dropped).
FUTURE_SKEW_TOLERANCE = timedelta(minutes=15)
NAIVE_NOTE = "a date-time without a time zone was read as UTC"


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


def to_aware(value: FhirTime | None, notes: Notes) -> datetime | None:
    """The aware datetime a FhirTime counts from (its earliest instant), or None."""
    if value is None:
        return None
    if not value.zone_given:
        notes.flag(NAIVE_NOTE)
    return value.earliest


def to_date(value: FhirTime | None) -> date | None:
    """The calendar date of a FHIR date (a partial date: its first day), or None."""
    return None if value is None else value.earliest.date()


def period_bounds(period: Period | None, notes: Notes) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a FHIR Period, each aware or None."""
    if period is None:
        return None, None
    return to_aware(period.start, notes), to_aware(period.end, notes)


def effective_time(
    moment: FhirTime | None, period: Period | None, notes: Notes
) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a `[x]` choice: a single time (start = end) or a Period."""
    if moment is not None:
        aware = to_aware(moment, notes)
        return aware, aware
    return period_bounds(period, notes)


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
