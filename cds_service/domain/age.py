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


def years_at(birth_date: date | None, when: datetime) -> int | None:
    """Completed calendar years on the date of `when` (birthdays passed); None without a birth date."""
    if birth_date is None:
        return None
    return max(0, completed_years(birth_date, when.date()))


def completed_years(birth_date: date, on_date: date) -> int:
    """Completed calendar years of age on a date (the last birthday counts; 29 February falls on 1 March)."""
    years = on_date.year - birth_date.year
    if (on_date.month, on_date.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
