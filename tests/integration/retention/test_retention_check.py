"""`personvern check` on retention rules: a trigger that is no time fails at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.datamap.loader import check_datamap, load_datamap
from personvern.domain.retention.rule import sweep_rules

VIA = "    trigger_field: issued_on\n    trigger_via: invoice_id\n"


def _edit(folder: Path, old: str, new: str) -> int:
    """Replace ``old`` in retention.yaml; the line the replacement starts on."""
    path = folder / "retention.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text[: text.index(new)].count("\n") + 1


def _errors(folder: Path) -> list[tuple[int | None, str, str | None]]:
    datamap, _source, findings = check_datamap(folder)
    errors = [f for f in findings if f.finding.is_error]
    assert (datamap is None) is bool(errors)
    return [
        (f.location.line if f.location else None, f.finding.message, f.finding.hint) for f in errors
    ]


def test_the_example_map_and_its_rules_pass(example_datamap_path: Path) -> None:
    assert [] == _errors(example_datamap_path)


@pytest.mark.parametrize(
    ("field", "what"),
    [
        ("billing_email", "an identity (email)"),
        ("id", "the record's key"),
        ("customer_id", "a reference to crm.customers.id"),
    ],
)
def test_a_trigger_field_that_is_no_time_fails_at_its_line(
    example_datamap_copy: Path, field: str, what: str
) -> None:
    line = _edit(
        example_datamap_copy, "    trigger_field: issued_on\n", f"    trigger_field: {field}\n"
    )
    assert [
        (
            line,
            f"trigger_field '{field}' of retention rule 'invoices-bookkeeping' is {what}, "
            "not a date or time",
            "name the date or timestamp column the period runs from",
        )
    ] == _errors(example_datamap_copy)


def test_a_missing_trigger_field_or_dataset_fails_at_its_line(example_datamap_copy: Path) -> None:
    line = _edit(
        example_datamap_copy, "    trigger_field: issued_on\n", "    trigger_field: issued\n"
    )
    errors = _errors(example_datamap_copy)
    assert [line] == [e[0] for e in errors]
    assert "trigger_field 'issued' is not a field of billing.invoices" == errors[0][1]
    assert "'issued_on'" in str(errors[0][2])


def test_a_trigger_read_through_a_reference_is_checked_in_the_referenced_dataset(
    example_datamap_copy: Path,
) -> None:
    assert [] == _errors(example_datamap_copy)
    rules, _unswept = sweep_rules(load_datamap(example_datamap_copy).datamap)
    lines = next(r for r in rules if r.key == "invoice-lines-bookkeeping")
    assert ("issued_on", "invoice_id", "invoices", "id") == (
        lines.trigger.field,
        lines.trigger.via,
        lines.trigger.parent_dataset,
        lines.trigger.parent_key,
    )


@pytest.mark.parametrize(
    ("added", "message"),
    [
        (
            "    trigger_field: issued\n    trigger_via: invoice_id\n",
            "trigger_field 'issued' is not a field of billing.invoices, which trigger_via "
            "'invoice_id' references",
        ),
        (
            "    trigger_field: issued_on\n    trigger_via: description\n",
            "trigger_via 'description' references no dataset of the same system",
        ),
        (
            "    trigger_field: issued_on\n    trigger_via: invoice\n",
            "trigger_via 'invoice' is not a field of billing.invoice_lines",
        ),
        (
            "    trigger_field: issued_on\n    trigger_via: invoice_id\n"
            "    condition: {field: state, equals: paid}\n",
            "condition field 'state' is not a field of billing.invoice_lines",
        ),
        (
            "    trigger_field: issued_on\n    trigger_via: invoice_id\n"
            "    action: anonymise\n    anonymise: {descr: 'null'}\n",
            "anonymise names 'descr', which is not a field of billing.invoice_lines",
        ),
        (
            "    trigger_field: issued_on\n    trigger_via: invoice_id\n"
            "    action: anonymise\n    anonymise: {id: 'null'}\n",
            "anonymise names 'id', the key of billing.invoice_lines",
        ),
    ],
)
def test_each_broken_reference_of_a_rule_is_one_located_error(
    example_datamap_copy: Path, added: str, message: str
) -> None:
    line = _edit(example_datamap_copy, VIA, added)
    errors = _errors(example_datamap_copy)
    assert [message] == [e[1] for e in errors]
    located = errors[0][0]
    assert located is not None
    assert line <= located <= line + 4


def test_rules_a_sweep_cannot_enforce_are_listed_with_their_reason(
    example_datamap_path: Path,
) -> None:
    rules, unswept = sweep_rules(load_datamap(example_datamap_path).datamap)
    reasons = {u.key: u.reason for u in unswept}
    assert {"designated-employees": "it names no trigger_field to count from"} == reasons
    assert "web-events" in {r.key for r in rules}


def test_check_connect_names_a_trigger_column_that_cannot_hold_its_time(
    tmp_path: Path,
) -> None:
    from personvern.connectors.readiness import check_connected
    from tests.integration.retention import sweepco

    shop = f"sqlite:///{tmp_path / 'shop.db'}"
    sweepco.populate(shop)
    path = sweepco.write_datamap(tmp_path / "map", "sqlite")
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("trigger_format: epoch_millis", "trigger_format: iso_text", 1),
        encoding="utf-8",
    )
    datamap = load_datamap(path).datamap

    [report] = check_connected(datamap, {"SWEEPCO_SHOP_URL": shop})

    problems = [f for f in report.findings if "retention rule" in f.message]
    assert [
        "retention rule 'web-events': shop.web_events: the trigger column occurred_ms "
        "(BIGINT) cannot hold iso_text times"
    ] == [f.message for f in problems]
    assert "fix trigger_format" in str(problems[0].hint)


def test_a_file_store_rule_that_anonymises_fails_at_its_action(
    example_datamap_copy: Path,
) -> None:
    old = "    trigger_field: started_at\n    period: P90D\n"
    line = _edit(example_datamap_copy, old, old + "    action: anonymise\n")
    assert [
        (
            line + 2,
            "retention rule 'call-recordings' anonymises files of telephony.call_recordings; "
            "files are deleted whole",
            "write action: delete, or keep the data in a table to anonymise it",
        )
    ] == _errors(example_datamap_copy)


def test_a_webhook_rule_asking_for_pseudonyms_fails_at_its_anonymise(
    example_datamap_copy: Path,
) -> None:
    old = "    trigger_field: sent_at\n    period: P3Y\n"
    line = _edit(
        example_datamap_copy,
        old,
        old + "    action: anonymise\n    anonymise: {sender: pseudonym}\n",
    )
    assert [
        (
            line + 3,
            "retention rule 'email' asks a webhook system for keyed pseudonyms; it has not "
            "personvern's key",
            "anonymise with null, year, truncate_ip or mask",
        )
    ] == _errors(example_datamap_copy)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    trigger_field: issued_on\n",
            '    trigger_field: issued_on\n    schedule: "0 3 * *"\n',
            "4 fields where cron takes five",
        ),
        (
            "    trigger_field: issued_on\n",
            '    trigger_field: issued_on\n    schedule: "0 27 * * *"\n',
            "no cron expression",
        ),
    ],
)
def test_a_schedule_that_is_no_cron_fails_at_its_line(
    example_datamap_copy: Path, old: str, new: str, message: str
) -> None:
    line = _edit(example_datamap_copy, old, new) + 1
    errors = _errors(example_datamap_copy)
    assert 1 == len(errors), errors
    assert line == errors[0][0]
    assert errors[0][1].startswith("schedule: value error, ")
    assert message in errors[0][1]


def test_a_good_schedule_passes(example_datamap_copy: Path) -> None:
    _edit(
        example_datamap_copy,
        "    trigger_field: issued_on\n",
        '    trigger_field: issued_on\n    schedule: "30 2 * * 1-5"\n',
    )
    assert [] == _errors(example_datamap_copy)
    datamap = load_datamap(example_datamap_copy).datamap
    assert ["30 2 * * 1-5"] == [r.schedule for r in datamap.retention if r.schedule]


def test_a_file_store_rule_that_aggregates_fails_at_its_action(
    example_datamap_copy: Path,
) -> None:
    old = "    trigger_field: started_at\n    period: P90D\n"
    line = _edit(
        example_datamap_copy,
        old,
        old + "    action: aggregate\n    aggregate: {table: recordings_daily, by: []}\n",
    )
    assert (
        line + 2,
        "retention rule 'call-recordings' aggregates telephony.call_recordings; only tables "
        "in a SQL database can be counted into a summary, not a files system",
        "write action: delete (or anonymise on a webhook system)",
    ) in _errors(example_datamap_copy)
