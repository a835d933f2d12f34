"""A wrong ``restriction`` in the data map is reported at its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from personvern.datamap.loader import check_datamap, load_datamap
from tests.conftest import EXAMPLE_DATAMAP

DECLARED = "        restriction: {field: restricted_at}\n"


def _copy_with(tmp_path: Path, restriction: str) -> tuple[Path, int]:
    """The example map with crm.customers' restriction replaced; and the line it is on."""
    target = tmp_path / "datamap"
    shutil.copytree(EXAMPLE_DATAMAP, target)
    crm = target / "systems" / "crm.yaml"
    lines = crm.read_text(encoding="utf-8").splitlines(keepends=True)
    index = lines.index(DECLARED)
    lines[index] = f"        restriction: {restriction}\n"
    crm.write_text("".join(lines), encoding="utf-8")
    return target, index + 1


def test_the_example_declares_restriction_on_the_customer_register() -> None:
    crm = load_datamap(EXAMPLE_DATAMAP).datamap.system("crm")
    assert crm is not None
    customers = next(d for d in crm.datasets if d.name == "customers")
    assert customers.restriction is not None
    assert ("restricted_at", "timestamp") == (
        customers.restriction.field,
        customers.restriction.mark.value,
    )


@pytest.mark.parametrize(
    ("restriction", "message"),
    [
        ("{field: email}", "restriction field crm.customers.email holds the subject's email"),
        ("{field: restricted}", "restriction field 'restricted' is not a field of crm.customers"),
        ("{field: restricted_at, mark: blue}", "'blue' is not allowed for mark"),
        ("{field: restricted_at, set: now}", "unknown key 'set'"),
    ],
)
def test_a_wrong_declaration_is_reported_at_its_line(
    tmp_path: Path, restriction: str, message: str
) -> None:
    root, line = _copy_with(tmp_path, restriction)
    datamap, _source, findings = check_datamap(root)
    errors = [f for f in findings if f.finding.is_error]
    assert (None, 1) == (datamap, len(errors))
    location = errors[0].location
    assert location is not None
    assert ("crm.yaml", line) == (location.file.name, location.line)
    assert errors[0].finding.message.startswith(message)
