"""The data map's retention rule: trigger formats, conditions, holds, anonymisation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from personvern.domain.datamap import (
    Anonymisation,
    HoldStart,
    RetentionCondition,
    RetentionRule,
    TriggerFormat,
)


def _rule(**extra: Any) -> RetentionRule:
    return RetentionRule.model_validate(
        {"key": "r", "trigger": "collected", "period": "P1Y", "description": {"en": "x"}, **extra}
    )


def test_a_rule_written_before_these_keys_still_reads() -> None:
    rule = _rule(dataset="crm.prospects", trigger_field="last_contact_at")
    assert (None, None, None, None, {}) == (
        rule.trigger_format,
        rule.timezone,
        rule.condition,
        rule.trigger_via,
        rule.anonymise,
    )


def test_the_new_keys_read() -> None:
    rule = _rule(
        dataset="web.events",
        trigger_field="at",
        trigger_format="naive_local",
        timezone="Europe/Oslo",
        condition={"field": "status", "in": ["prospect", "lead"]},
        action="anonymise",
        anonymise={"ip": "truncate_ip", "born": "year"},
        legal_hold={
            "reference": "bokføringsloven § 13",
            "description": {"en": "x"},
            "period": "P3Y6M",
        },
    )
    assert TriggerFormat.NAIVE_LOCAL is rule.trigger_format
    assert rule.condition is not None
    assert ["prospect", "lead"] == rule.condition.in_
    assert {"ip": Anonymisation.TRUNCATE_IP, "born": Anonymisation.YEAR} == rule.anonymise
    assert rule.legal_hold is not None
    assert HoldStart.FINANCIAL_YEAR_END is rule.legal_hold.starts


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"trigger_format": "naive_local"}, "needs timezone"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"anonymise": {"ip": "null"}}, "only for action: anonymise"),
        ({"trigger_via": "invoice_id", "trigger_field": None}, "trigger_via needs trigger_field"),
        ({"trigger_format": "unix"}, "trigger_format"),
        ({"condition": {"field": "status"}}, "exactly one of"),
        ({"condition": {"field": "s", "equals": "a", "is_null": True}}, "exactly one of"),
        ({"condition": {"field": "s", "sql": "1=1"}}, "sql"),
        ({"condition": {"field": "s; DROP TABLE x", "equals": "a"}}, "field"),
        ({"condition": {"field": "s", "in": []}}, "in"),
        ({"action": "anonymise", "anonymise": {"ip": "hash"}}, "anonymise"),
    ],
)
def test_a_malformed_rule_is_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _rule(**{"dataset": "crm.prospects", "trigger_field": "at", **extra})


_values = st.one_of(st.text(max_size=200), st.integers(), st.booleans())


@given(field=st.text(max_size=30), value=_values)
def test_a_condition_takes_only_a_plain_field_name(field: str, value: object) -> None:
    try:
        condition = RetentionCondition.model_validate({"field": field, "equals": value})
    except ValidationError:
        return
    assert condition.field.replace("_", "a").isalnum()
    assert condition.field.isascii()


def test_an_aggregate_rule_reads_its_summary_table_and_fields() -> None:
    rule = _rule(
        dataset="web.events",
        trigger_field="at",
        action="aggregate",
        aggregate={"table": "events_daily", "by": ["path", "country"]},
    )
    assert rule.aggregate is not None
    assert ("events_daily", ["path", "country"]) == (rule.aggregate.table, rule.aggregate.by)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"action": "aggregate"}, "action: aggregate needs aggregate:"),
        ({"aggregate": {"table": "daily"}}, "aggregate: is only for action: aggregate"),
        (
            {"action": "aggregate", "aggregate": {"table": "daily", "by": ["path", "path"]}},
            "by: names a field twice",
        ),
        (
            {"action": "aggregate", "aggregate": {"table": "daily", "by": ["day"]}},
            "by: day is the summary table's own column",
        ),
        (
            {"action": "aggregate", "aggregate": {"table": "daily; drop table x"}},
            "String should match pattern",
        ),
        (
            {"action": "aggregate", "aggregate": {"table": "daily", "by": list("abcdef")}},
            "at most 5 items",
        ),
    ],
)
def test_a_broken_aggregate_is_refused(extra: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        _rule(dataset="web.events", trigger_field="at", **extra)
