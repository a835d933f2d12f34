"""The boundary a due row's trigger value is below, in each way a column stores time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.domain.datamap import TriggerFormat
from personvern.domain.retention.trigger_time import boundary, today_in, trigger_day, zone_of

LAST_DUE = date(2024, 3, 10)


@pytest.mark.parametrize(
    ("fmt", "zone", "expected"),
    [
        (TriggerFormat.DATE, None, date(2024, 3, 11)),
        (TriggerFormat.ISO_TEXT, "Europe/Oslo", "2024-03-11"),
        (TriggerFormat.TIMESTAMP, None, datetime(2024, 3, 11, tzinfo=UTC)),
        # Midnight in Oslo (UTC+1 in March) is 23:00 UTC the day before.
        (TriggerFormat.TIMESTAMP, "Europe/Oslo", datetime(2024, 3, 10, 23, tzinfo=UTC)),
        (TriggerFormat.NAIVE_LOCAL, "Europe/Oslo", datetime(2024, 3, 11)),
        (TriggerFormat.EPOCH_SECONDS, None, 1710115200),
        (TriggerFormat.EPOCH_SECONDS, "Europe/Oslo", 1710115200 - 3600),
        (TriggerFormat.EPOCH_MILLIS, None, 1710115200000),
    ],
)
def test_the_boundary_is_the_start_of_the_next_day_as_the_column_writes_time(
    fmt: TriggerFormat, zone: str | None, expected: object
) -> None:
    assert expected == boundary(fmt, LAST_DUE, zone)


@pytest.mark.parametrize(
    ("fmt", "value", "zone", "expected"),
    [
        (TriggerFormat.DATE, date(2024, 3, 10), None, date(2024, 3, 10)),
        (TriggerFormat.ISO_TEXT, "2024-03-10T23:59:59Z", None, date(2024, 3, 10)),
        (TriggerFormat.TIMESTAMP, datetime(2024, 3, 10, 23, 30), "Europe/Oslo", date(2024, 3, 11)),
        (
            TriggerFormat.NAIVE_LOCAL,
            datetime(2024, 3, 10, 23, 30),
            "Europe/Oslo",
            date(2024, 3, 10),
        ),
        (TriggerFormat.EPOCH_MILLIS, 1710115199999, None, date(2024, 3, 10)),
        (TriggerFormat.EPOCH_SECONDS, "not a number", None, None),
        (TriggerFormat.ISO_TEXT, "10.03.2024", None, None),
        (TriggerFormat.EPOCH_SECONDS, 10**30, None, None),
    ],
)
def test_a_stored_value_is_read_as_its_day(
    fmt: TriggerFormat, value: object, zone: str | None, expected: date | None
) -> None:
    assert expected == trigger_day(fmt, value, zone)


def test_today_is_counted_in_the_rules_zone() -> None:
    late = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)
    assert (date(2024, 3, 10), date(2024, 3, 11)) == (
        today_in(late, None),
        today_in(late, "Europe/Oslo"),
    )


_ZONES = st.sampled_from([None, "Europe/Oslo", "America/St_Johns", "Pacific/Kiritimati"])
_MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(moment=_MOMENTS, last=st.dates(date(1971, 1, 2), date(2199, 12, 30)), zone=_ZONES)
def test_below_the_boundary_is_exactly_on_or_before_the_last_due_day(
    moment: datetime, last: date, zone: str | None
) -> None:
    # What the database compares (value < boundary) must say what the rule means
    # (the value's day in the rule's zone is on or before the last due day).
    local = moment.astimezone(zone_of(zone))
    stored: dict[TriggerFormat, object] = {
        TriggerFormat.TIMESTAMP: moment,
        TriggerFormat.EPOCH_SECONDS: int(moment.timestamp()),
        TriggerFormat.EPOCH_MILLIS: int(moment.timestamp() * 1000),
        TriggerFormat.NAIVE_LOCAL: local.replace(tzinfo=None),
        TriggerFormat.ISO_TEXT: local.isoformat(),
        TriggerFormat.DATE: local.date(),
    }
    for fmt, value in stored.items():
        day = trigger_day(fmt, value, zone)
        assert day is not None
        bound = boundary(fmt, last, zone)
        below = value < bound  # type: ignore[operator]
        assert below is (day <= last), (fmt, value, bound)
