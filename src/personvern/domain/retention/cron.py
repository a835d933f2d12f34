"""Cron expressions of retention schedules, checked when the data map is read.

Five fields of cron (minute hour day-of-month month day-of-week), read by croniter,
the parser users of Celery and Airflow know; six fields (seconds) are refused, since no
sweep needs them and a slip would sweep every second.
"""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import CroniterError, croniter

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind

_FIELDS = 5


class InvalidScheduleError(DomainError):
    """A schedule that is no five-field cron expression."""

    kind = ErrorKind.INVALID
    title = "Invalid schedule"


def parse_schedule(expression: str) -> str:
    """``expression`` with its spaces normalised, or InvalidScheduleError saying what is wrong."""
    fields = expression.split()
    if len(fields) != _FIELDS:
        raise InvalidScheduleError(
            f"{len(fields)} fields where cron takes five: "
            "minute hour day-of-month month day-of-week",
            hint='e.g. "0 3 * * *" for 03:00 every day',
        )
    normalised = " ".join(fields)
    try:
        croniter(normalised, datetime(2000, 1, 1, tzinfo=UTC))
    except (CroniterError, ValueError, KeyError) as exc:
        raise InvalidScheduleError(
            f"no cron expression: {exc}",
            hint='five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *"',
        ) from None
    return normalised
