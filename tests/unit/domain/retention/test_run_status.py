"""What a refused or never-started run says: the reason and the command that acts on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from personvern.domain.retention.run_status import (
    MESSAGE_LENGTH,
    refusal_message,
    unstarted_message,
)


def test_a_refusal_names_the_rule_the_table_and_the_command_that_confirms() -> None:
    message = refusal_message(
        [("web-events", "shop.web_events", "would delete 3 of 4 rows (75%), more than 50%")]
    )
    assert (
        "refused by the safety stop: check the rule, then run "
        "`personvern retention run --system shop --confirm` (or POST /api/v1/retention/runs "
        'with "confirm": true); web-events on shop.web_events: would delete 3 of 4 rows '
        "(75%), more than 50%"
    ) == message


def test_a_refusal_on_several_systems_names_a_command_for_each() -> None:
    message = refusal_message(
        [
            ("web-events", "shop.web_events", "x"),
            ("own-web-events", "personvern.web_events", "y"),
        ]
    )
    assert message.startswith(
        "refused by the safety stop: check the rule, then run "
        "`personvern retention run --system personvern --confirm` and "
        "`personvern retention run --system shop --confirm`"
    )
    assert message.endswith("web-events on shop.web_events: x; also refused: own-web-events")


def test_a_long_refusal_keeps_its_command_within_the_limit() -> None:
    message = refusal_message([("web-events", "shop.web_events", "z" * 1000)])
    assert MESSAGE_LENGTH == len(message)
    assert "`personvern retention run --system shop --confirm`" in message


def test_a_run_never_started_says_when_it_was_queued_and_what_to_do() -> None:
    at = datetime(2026, 12, 3, 3, 0, 12, tzinfo=UTC)
    assert (
        "queued at 2026-12-03 03:00 UTC and never started: no worker picked it up within "
        "10 minute(s), so its lease ran out and it will not run; check that `personvern "
        "worker` is running and reaches the broker (embedded: that the server's job thread "
        "is not held up by a long run), then start it again (`personvern "
        "retention run --system shop`, or the next scheduled time)"
    ) == unstarted_message(at, timedelta(minutes=10), "shop")
    assert "(`personvern retention run`, or" in unstarted_message(at, timedelta(seconds=5), None)
