"""A dataset's ``change_marker``: checked when the data map is read, reported at its line."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from personvern.datamap.loader import check_datamap, load_datamap
from personvern.domain.change_marker import SETTLE_DAYS, SETTLE_KEYS, SETTLE_TIME, settled
from tests.support.small_company import company_preamble

_MAP = (
    company_preamble("Markør AS", "service")
    + """\
systems:
  - key: support
    name: Support
    description: {{en: Tickets}}
    kind: {kind}
    connection_env: MARKER_SUPPORT
    datasets:
      - name: tickets
        subjects: [customer]
        change_marker: {marker}
        fields:
          - {{name: id, primary_key: true}}
          - {{name: updated_at}}
          - {{name: secret, category: user.content, purposes: [service], encrypted: true}}
          - {{name: body, category: user.content, purposes: [service], free_text: {free_text}}}
"""
)
#: The line ``change_marker`` is on.
_LINE = _MAP.splitlines().index("        change_marker: {marker}") + 1


def _write(
    tmp_path: Path, marker: str, *, kind: str = "postgresql", free_text: str = "true"
) -> Path:
    path = tmp_path / "personvern.yaml"
    path.write_text(_MAP.format(marker=marker, kind=kind, free_text=free_text), encoding="utf-8")
    return path


def test_an_updated_at_column_or_the_primary_key_is_a_change_marker(tmp_path: Path) -> None:
    for marker in ("updated_at", "id"):
        loaded = load_datamap(_write(tmp_path, marker))
        system = loaded.datamap.system("support")
        assert system is not None
        assert marker == system.datasets[0].change_marker
        assert [] == loaded.warnings


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("changed", "support.tickets: the change_marker changed is no field of the dataset"),
        ("body", "support.tickets: the change_marker body is free text"),
        ("secret", "support.tickets: the change_marker secret is encrypted"),
        ("updated-at", "change_marker has an invalid form"),
    ],
)
def test_a_marker_that_cannot_say_what_changed_is_an_error_at_its_line(
    tmp_path: Path, marker: str, message: str
) -> None:
    datamap, _source, findings = check_datamap(_write(tmp_path, marker))
    errors = [f for f in findings if f.finding.is_error]
    assert (None, 1) == (datamap, len(errors))
    assert errors[0].finding.message.startswith(message), errors[0].finding.message
    assert errors[0].location is not None
    assert _LINE == errors[0].location.line


@pytest.mark.parametrize(
    ("kind", "free_text", "message"),
    [
        ("files", "true", "change_marker changes nothing in a files system"),
        ("sqlite", "false", "change_marker changes nothing: the dataset has no free_text field"),
    ],
)
def test_a_marker_that_changes_nothing_is_a_warning(
    tmp_path: Path, kind: str, free_text: str, message: str
) -> None:
    path = _write(tmp_path, "updated_at", kind=kind, free_text=free_text)
    _datamap, _source, findings = check_datamap(path)
    marked = [f for f in findings if "change_marker" in f.finding.message]
    assert 1 == len(marked), [f.finding.message for f in findings]
    assert not marked[0].finding.is_error
    assert marked[0].finding.message.startswith(f"support.tickets: {message}")


def test_the_high_water_mark_stays_behind_the_newest_marker_read() -> None:
    now = datetime(2026, 12, 2, 12, 0)
    assert now - SETTLE_TIME == settled(now)
    assert date(2026, 12, 2) - SETTLE_DAYS == settled(date(2026, 12, 2))
    assert 5000 - SETTLE_KEYS == settled(5000)
    assert timedelta(minutes=15) == SETTLE_TIME
