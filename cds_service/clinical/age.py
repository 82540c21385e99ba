"""Age of the patient at a moment: the input of the age-specific (paediatric) thresholds."""

from __future__ import annotations

from datetime import date, datetime


def age_days_at(birth_date: date | None, when: datetime) -> int | None:
    """Whole days from the birth date to the calendar date of `when` (in its own time zone).

    None without a birth date; 0 for a moment before the birth date (a charting error, not a negative age).
    """
    if birth_date is None:
        return None
    return max(0, (when.date() - birth_date).days)
