"""Access and erasure for every subject of the second test company, row for row.

The company (tests/support/second_company) was built apart from the engine, with data
unlike the demo's; its generator says what each request must find, delete, erase,
redact and keep. Every subject is checked four ways, on SQLite, PostgreSQL and MariaDB:

* the access plan exports exactly the subject's records (recall and precision 1.0);
* the access run completes (or stops for review where it must) and its export holds
  exactly those records and files;
* the erasure plan deletes, erases, redacts and keeps exactly what the truth says;
* the erasure run, on a fresh copy, leaves every row and file of the company exactly as
  the truth says, nothing else touched.

Expectations that need a feature of issue 7 not built yet are strict xfails naming it,
so a feature that lands turns its tests into XPASS failures until the marker goes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from personvern.connectors.port import ConnectorDataError
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.intake.review import resolve_review
from tests.integration.second_company.conftest import Nordavind
from tests.support.company import file_request
from tests.support.second_company.datamap import primary_keys
from tests.support.second_company.generator import BUILT, HardCase, generate
from tests.support.second_company.seed import Seeded, read_files, read_rows, unreadable_keys
from tests.support.second_company.truth import (
    PSEUDONYM,
    Aspect,
    Expectation,
    expectations,
    remaining_files,
    remaining_rows,
)

COMPANY = generate()
EXPECTATIONS = expectations(COMPANY)
PRIMARY_KEYS = primary_keys()

#: Expectations that fail today for a reason none of issue 7's features covers, by scenario.
KNOWN_BUGS: dict[str, dict[Aspect, str]] = {}


def _cases(aspect: Aspect) -> list[Any]:
    """Every subject as a test case, xfail (strict) with the features it needs not built yet."""
    cases = []
    for expected in EXPECTATIONS:
        reasons = [feature.reason for feature in sorted(expected.needs[aspect] - BUILT)]
        bug = KNOWN_BUGS.get(expected.subject.scenario, {}).get(aspect)
        if bug:
            reasons.append(bug)
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
        cases.append(pytest.param(expected, id=expected.name, marks=marks))
    return cases


def _identities(expected: Expectation) -> list[dict[str, str]]:
    return [{"kind": kind, "value": value} for kind, value in expected.subject.identities]


def _scores(expected: Mapping[str, frozenset[str]], actual: Mapping[str, frozenset[str]]) -> str:
    """Recall and precision over (dataset, key), and what is missing or unexpected."""
    wanted = {(name, key) for name, keys in expected.items() for key in keys}
    got = {(name, key) for name, keys in actual.items() for key in keys}
    hits = len(wanted & got)
    recall = hits / len(wanted) if wanted else 1.0
    precision = hits / len(got) if got else 1.0
    return (
        f"recall {recall:.2f}, precision {precision:.2f}; "
        f"missing {sorted(wanted - got)}; unexpected {sorted(got - wanted)}"
    )


def _export(
    engine: RequestEngine, request_id: str
) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """The keys of the records in the export zip per dataset, and the files it holds."""
    # Opened through the engine: the file in the home is sealed under the subject's key.
    path = io.BytesIO(engine.read_answer(request_id, "export.zip"))
    records: dict[str, frozenset[str]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if parts[0] == "export" and name.endswith(".json"):
                dataset = f"{parts[1]}.{parts[2].removesuffix('.json')}"
                key = PRIMARY_KEYS[dataset]
                objects = json.loads(archive.read(name))
                records[dataset] = frozenset(str(item[key]) for item in objects)
        files = frozenset(name for name in archive.namelist() if name.startswith("files/"))
    return records, files


def _state(nordavind: Nordavind, seeded: Seeded) -> dict[str, Any]:
    """Every row of every table and every file path of every store, read with plain SQL."""
    unreadable = unreadable_keys(nordavind.company)
    state: dict[str, Any] = {
        name: read_rows(seeded.url, name, PRIMARY_KEYS[name], unreadable.get(name, ()))
        for name in nordavind.company.rows
    }
    for store in nordavind.company.files:
        state[f"files:{store}"] = frozenset(read_files(seeded.folder, store))
    return state


def _expected_state(expected: Expectation | None) -> dict[str, Any]:
    state: dict[str, Any] = dict(remaining_rows(COMPANY, expected))
    for store, paths in remaining_files(COMPANY, expected).items():
        state[f"files:{store}"] = paths
    return state


def _with_pseudonyms(state: dict[str, Any], expected: Expectation) -> dict[str, Any]:
    """``state`` with each field the truth expects pseudonymised shown as PSEUDONYM if it is one.

    A keyed pseudonym cannot be predicted; it is one when it is neither empty nor the
    value the field held before.
    """
    for dataset, rows in expected.erase.items():
        for key, fields in rows.items():
            row = state[dataset].get(key)
            if row is None:
                continue
            original = COMPANY.row(dataset, key)
            for name, value in fields.items():
                if value == PSEUDONYM and row[name] not in (None, "", original[name]):
                    row[name] = PSEUDONYM
    return state


def _differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> str:
    """The first differences between two states, row by row, for the assertion message."""
    lines = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name, {}), actual.get(name, {})
        if want == got:
            continue
        if isinstance(want, frozenset) and isinstance(got, frozenset):
            lines.append(f"{name}: missing {sorted(want - got)}, extra {sorted(got - want)}")
            continue
        lines += [f"{name} {key}: should be gone" for key in sorted(set(got) - set(want))]
        lines += [f"{name} {key}: is gone" for key in sorted(set(want) - set(got))]
        for key in sorted(set(want) & set(got)):
            changed = {c: (want[key].get(c), got[key].get(c)) for c in want[key]}
            changed = {c: pair for c, pair in changed.items() if pair[0] != pair[1]}
            if changed:
                lines.append(f"{name} {key}: (expected, actual) {changed}")
    return "; ".join(lines[:12]) + (f" ... and {len(lines) - 12} more" if len(lines) > 12 else "")


@pytest.mark.parametrize("expected", _cases(Aspect.ACCESS_PLAN))
def test_access_plan_exports_exactly_the_subjects_records(
    nordavind: Nordavind, expected: Expectation
) -> None:
    engine = nordavind.engine()
    request_id = file_request(engine, RequestType.ACCESS, _identities(expected))
    if expected.review is not None:
        with pytest.raises(ConnectorDataError) as stopped:
            engine.dry_run(request_id)
        assert expected.review == stopped.value.message[: len(expected.review)]
        return

    plan = engine.dry_run(request_id)

    actual = {part.name: frozenset(str(k) for k in part.export) for part in plan.datasets}
    actual = {name: keys for name, keys in actual.items() if keys}
    assert (expected.access, {}) == (actual, dict(plan.unavailable)), _scores(
        expected.access, actual
    )


@pytest.mark.parametrize("expected", _cases(Aspect.ACCESS_RUN))
def test_access_run_completes_and_hands_over_exactly_the_subjects_data(
    nordavind: Nordavind, expected: Expectation
) -> None:
    engine = nordavind.engine()
    request_id = file_request(engine, RequestType.ACCESS, _identities(expected))

    outcome = engine.run(request_id)

    if expected.review is not None:
        assert (RequestState.NEEDS_REVIEW, expected.review) == (
            outcome.state,
            outcome.message[: len(expected.review)],
        )
        return
    assert RequestState.COMPLETED == outcome.state, outcome.message
    records, files = _export(engine, request_id)
    assert (expected.access, expected.exported_files) == (records, files), _scores(
        expected.access, records
    )


@pytest.mark.parametrize("expected", _cases(Aspect.ERASURE_PLAN))
def test_erasure_plan_deletes_erases_redacts_and_keeps_exactly_the_truth(
    nordavind: Nordavind, expected: Expectation
) -> None:
    engine = nordavind.engine()
    request_id = file_request(engine, RequestType.ERASURE, _identities(expected))
    if expected.review is not None:
        with pytest.raises(ConnectorDataError) as stopped:
            engine.dry_run(request_id)
        assert expected.review == stopped.value.message[: len(expected.review)]
        return

    plan = engine.dry_run(request_id)

    actual = {
        part.name: {
            "delete": frozenset(str(k) for k in part.delete),
            "erase_fields": frozenset(str(k) for k in part.erase_fields),
            "redact": frozenset(str(k) for k in part.redact),
            "keep": frozenset(str(k) for k in part.keep),
        }
        for part in plan.datasets
        if part.delete or part.erase_fields or part.redact or part.keep
    }
    reasons = {part.name: part.keep_reason for part in plan.datasets if part.keep}
    expected_reasons = {
        name: "; ".join(sorted(set(kept.values()))) for name, kept in expected.keep.items()
    }
    assert (expected.erased(), expected_reasons) == (actual, reasons)


@pytest.mark.parametrize("expected", _cases(Aspect.ERASURE_RUN))
def test_erasure_run_leaves_exactly_what_the_truth_says_remains(
    nordavind: Nordavind, expected: Expectation
) -> None:
    with nordavind.fresh_copy() as copy:
        engine = nordavind.engine(copy)
        request_id = file_request(engine, RequestType.ERASURE, _identities(expected))

        outcome = engine.run(request_id)

        if expected.review is not None:
            untouched = _expected_state(None)
            assert (RequestState.NEEDS_REVIEW, expected.review, untouched) == (
                outcome.state,
                outcome.message[: len(expected.review)],
                _state(nordavind, copy),
            )
            return
        assert RequestState.COMPLETED == outcome.state, outcome.message
        remains = _expected_state(expected)
        actual = _with_pseudonyms(_state(nordavind, copy), expected)
        assert remains == actual, _differences(remains, actual)


def test_a_business_customer_sees_of_its_contacts_only_what_shown_to_it(
    nordavind: Nordavind,
) -> None:
    owner = next(e for e in EXPECTATIONS if HardCase.BUSINESS_CUSTOMER in e.subject.hard_cases)
    engine = nordavind.engine()
    request_id = file_request(engine, RequestType.ACCESS, _identities(owner))
    assert RequestState.COMPLETED == engine.run(request_id).state
    # Opened through the engine: the file in the home is sealed under the subject's key.
    path = io.BytesIO(engine.read_answer(request_id, "export.zip"))
    with zipfile.ZipFile(path) as archive:
        contacts = json.loads(archive.read("export/crm/kontaktpersoner.json"))
    personal = {"navn", "stilling", "epost", "telefon"}

    shown = [sorted(personal & set(contact)) for contact in contacts]

    contacts_expected = len(owner.access["crm.kontaktpersoner"])
    assert [["navn", "stilling"]] * contacts_expected == shown


def test_the_unreadable_rows_cannot_be_read_and_the_rest_can(nordavind: Nordavind) -> None:
    # Without this, the hard cases of undecodable text would pass on a database that
    # quietly repaired the bytes.
    readable = {
        name: len(rows)
        for name, rows in _state(nordavind, nordavind.seeded).items()
        if not name.startswith("files:")
    }
    failures = []
    for bad in COMPANY.unreadable:
        try:
            read_rows(nordavind.seeded.url, bad.dataset, PRIMARY_KEYS[bad.dataset])
        except Exception:  # each driver fails its own way; failing is the point here
            failures.append((bad.dataset, bad.key))

    assert [(bad.dataset, bad.key) for bad in COMPANY.unreadable] == failures
    assert {name: len(rows) for name, rows in COMPANY.rows.items()} == readable


@pytest.mark.parametrize("request_type", [RequestType.ACCESS, RequestType.ERASURE])
def test_a_review_for_an_unreadable_row_is_resolved_by_leaving_the_row_out(
    nordavind: Nordavind, request_type: RequestType
) -> None:
    expected = next(e for e in EXPECTATIONS if e.review is not None)
    bad = next(u for u in COMPANY.unreadable if u.dataset in expected.review)
    with nordavind.fresh_copy() as copy:
        engine = nordavind.engine(copy)
        request_id = file_request(engine, request_type, _identities(expected))
        assert RequestState.NEEDS_REVIEW == engine.run(request_id).state
        with engine.unit_of_work() as uow:
            resolve_review(
                uow.session,
                nordavind.settings,
                request_id,
                attach=[],
                exclude=[f"{bad.dataset}:{bad.key}"],
                reason="the ticket text is broken; IT is repairing it",
                actor="dpo",
                now=datetime.now(UTC),
            )

        outcome = engine.run(request_id)

        # Never completed: the row left out is a task until a person has checked it.
        assert RequestState.PARTIALLY_COMPLETED == outcome.state, outcome.message
        with engine.unit_of_work() as uow:
            tasks = uow.requests.tasks(request_id)
            receipt = uow.requests.get(request_id).receipt
        assert [f"{bad.dataset}:{bad.key}"] == [t.key for t in tasks if t.status == "open"]
        assert [f"{bad.dataset}:{bad.key}"] == receipt["not_covered"]
        covered = {
            name: keys - {str(bad.key)}
            for name, keys in expected.access.items()
            if keys - {str(bad.key)}
        }
        if request_type is RequestType.ACCESS:
            records, files = _export(engine, request_id)
            assert (covered, expected.exported_files) == (records, files)
            return
        # Everything else as the truth says; the row left out is still there, untouched.
        remains = _expected_state(expected)
        remains[bad.dataset] = {
            **remains[bad.dataset],
            str(bad.key): {PRIMARY_KEYS[bad.dataset]: bad.key},
        }
        actual = _with_pseudonyms(_state(nordavind, copy), expected)
        assert remains == actual, _differences(remains, actual)
