"""FHIR date, dateTime and instant text -> FhirTime (earliest and latest instant it can mean).

    "2026-11-24T10:05:00+01:00"  one instant (fractions of a second kept)
    "2026-11-24T10:05:00"        not valid FHIR (a time needs a zone): read as UTC, zone_given False
    "2026-11-24"                 that day: 00:00 UTC to 24:00 UTC + 14 h (the most eastern zone's day end)
    "2026-11", "2026"            that month, that year
    after the year 9000          None too: no chart time can be that late, and the windows the rules add to a
                                 time (a year at most) would pass the last instant a datetime holds (9999-12-31)
    anything else                None (the caller records a FieldProblem)

A date alone is read in UTC: the rules never compare it closer than a day (an exposure date, a birth date).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cds_service.intake.types import FhirTime

_FHIR_TIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
#: The latest local day end on Earth is UTC+14: a date's last instant, for "is it older than the window" tests.
_EASTERNMOST = timedelta(hours=14)
#: The latest year a chart time may have (see the module docstring).
LAST_YEAR = 9000


@lru_cache(maxsize=8192)
def parse_time(text: str) -> FhirTime | None:
    """The FhirTime of a FHIR date/dateTime/instant text, or None when it is not one. Remembered per text (the
    result is immutable): the Observations of one set of vital signs share their time, and the pre-filter and
    the reader both read it."""
    match = _FHIR_TIME.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, _, _, _, zone = match.groups()
    if int(year) > LAST_YEAR:
        return None
    try:
        if month is None:
            start = datetime(int(year), 1, 1, tzinfo=UTC)
            return FhirTime(start, start.replace(year=start.year + 1) - timedelta(microseconds=1), "year")
        if day is None:
            start = datetime(int(year), int(month), 1, tzinfo=UTC)
            following = (start + timedelta(days=32)).replace(day=1)
            return FhirTime(start, following - timedelta(microseconds=1), "month")
        if hour is None:
            start = datetime(int(year), int(month), int(day), tzinfo=UTC)
            return FhirTime(start, start + timedelta(days=1) + _EASTERNMOST, "day")
        moment = datetime.fromisoformat(text.strip())
    except ValueError:  # 2026-02-30, hour 25 ...
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return FhirTime(moment, moment, "time", zone_given=zone is not None)
