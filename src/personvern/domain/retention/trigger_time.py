"""The trigger column's own way of writing time, and the value a due row is below.

A sweep compares the trigger column with one value in the database (so an index on it
serves the sweep): every row strictly below the *boundary*, the start of the day after
the last due day, is due. The boundary is written as the column stores time: a date,
a timestamp (with its zone, or naive in UTC), wall-clock time of the rule's zone, ISO
8601 text (compared as text: "2024-03-01T10:00Z" sorts below "2024-03-02"), or seconds
or milliseconds since the epoch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from personvern.domain.datamap import TriggerFormat

Boundary = date | datetime | str | int


def zone_of(name: str | None) -> ZoneInfo:
    """The rule's time zone; UTC when the rule names none."""
    return ZoneInfo(name or "UTC")


def today_in(now: datetime, zone: str | None) -> date:
    """The day it is at ``now`` (aware) in ``zone``."""
    return now.astimezone(zone_of(zone)).date()


def boundary(fmt: TriggerFormat, last_due: date, zone: str | None) -> Boundary:
    """The value below which a trigger column of ``fmt`` holds only due days."""
    next_day = last_due + timedelta(days=1)
    start = datetime.combine(next_day, time(0), tzinfo=zone_of(zone))
    match fmt:
        case TriggerFormat.DATE:
            return next_day
        case TriggerFormat.TIMESTAMP:
            return start.astimezone(UTC)
        case TriggerFormat.NAIVE_LOCAL:
            return datetime.combine(next_day, time(0))
        case TriggerFormat.ISO_TEXT:
            return next_day.isoformat()
        case TriggerFormat.EPOCH_SECONDS:
            return int(start.timestamp())
        case TriggerFormat.EPOCH_MILLIS:
            return int(start.timestamp()) * 1000


def trigger_day(fmt: TriggerFormat, value: object, zone: str | None) -> date | None:
    """The day a stored trigger value falls on in the rule's zone; None if unreadable."""
    try:
        return _day(fmt, value, zone_of(zone))
    except (ValueError, OverflowError, OSError):
        return None


def _day(fmt: TriggerFormat, value: object, tz: ZoneInfo) -> date:
    if fmt in {TriggerFormat.EPOCH_SECONDS, TriggerFormat.EPOCH_MILLIS}:
        scale = 1000 if fmt is TriggerFormat.EPOCH_MILLIS else 1
        return datetime.fromtimestamp(int(str(value)) / scale, tz).date()
    if isinstance(value, datetime):
        if fmt is TriggerFormat.TIMESTAMP:
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return moment.astimezone(tz).date()
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
