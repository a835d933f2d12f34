"""`check_datamap` on the example map with keys deleted or corrupted at random (Hypothesis).

Whatever is done to the map, `check` reports findings, each with its place, and never
raises. When a change breaks the schema, the example being otherwise valid, every
finding is a schema error: what the later checks would say about the rest of the map is
only a consequence of setting the broken item aside, and must not be reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from personvern.datamap.loader import check_datamap
from personvern.datamap.source import (
    YamlProblemError,
    data_map_files,
    merge_documents,
    read_yaml,
)
from personvern.domain.datamap import DataMap
from tests.conftest import EXAMPLE_DATAMAP

TODAY = date(2026, 11, 25)
FILES = sorted(p.relative_to(EXAMPLE_DATAMAP) for p in data_map_files(EXAMPLE_DATAMAP))
#: Values that break the schema in most places, and a few that fit some.
CORRUPT = [None, 42, -1.5, True, "", "Not A Key!", "x", "NO", [], {}, ["x"], {"x": 1}]
#: What a slip of the finger adds to a key.
TYPOS = ["s", "x", "_", "-", " "]


@dataclass(frozen=True)
class Mutation:
    """One change to one file: ``action`` the value at ``path``, or cut the text at ``cut``."""

    file: Path
    action: str  # "delete", "replace" (by ``value``), "rename" (to ``value``) or "cut"
    path: tuple[str | int, ...] = ()
    value: Any = None
    cut: int = 0

    def apply(self, root: Path) -> None:
        """Write the changed file under ``root``."""
        target = root / self.file
        if self.action == "cut":
            text = (EXAMPLE_DATAMAP / self.file).read_text(encoding="utf-8")
            target.write_text(text[: self.cut], encoding="utf-8")
            return
        data, _positions = read_yaml(EXAMPLE_DATAMAP / self.file)
        *above, last = self.path
        parent = data
        for part in above:
            parent = parent[part]
        if self.action == "delete":
            del parent[last]
        elif self.action == "replace":
            parent[last] = self.value
        else:
            # Keep the key's place among its siblings, as a typo in the file would.
            items = [(self.value if k == last else k, v) for k, v in parent.items()]
            parent.clear()
            parent.update(items)
        target.write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    """A change to one file of the example map: inside a section, or a cut of its text."""
    file = draw(st.sampled_from(FILES))
    size = len((EXAMPLE_DATAMAP / file).read_text(encoding="utf-8"))
    if draw(st.integers(0, 9)) == 0:
        return Mutation(file, "cut", cut=draw(st.integers(0, size - 1)))
    data, _positions = read_yaml(EXAMPLE_DATAMAP / file)
    path: list[str | int] = []
    parent: Any = None
    value = data
    # Two levels at least: a section's type stays, so the files still merge.
    while len(path) < 2 or draw(st.booleans()):
        children = list(value) if isinstance(value, dict) else list(range(len(value)))
        if not children:
            break
        part = draw(st.sampled_from(children))
        path.append(part)
        parent, value = value, value[part]
        if not isinstance(value, dict | list):
            break
    if len(path) < 2:  # an empty section: cut the file instead
        return Mutation(file, "cut", cut=size // 2)
    actions = ["delete", "replace", "rename"] if isinstance(parent, dict) else ["delete", "replace"]
    action = draw(st.sampled_from(actions))
    if action == "replace":
        return Mutation(file, action, tuple(path), draw(st.sampled_from(CORRUPT)))
    if action == "rename":
        typo = f"{path[-1]}{draw(st.sampled_from(TYPOS))}"
        return Mutation(file, action, tuple(path), typo if typo not in parent else f"{typo}x")
    return Mutation(file, action, tuple(path))


def schema_errors(root: Path) -> int | None:
    """How many schema errors the merged map has; None if a file cannot be read or merged."""
    parts = []
    for file in data_map_files(root):
        try:
            parts.append((file, *read_yaml(file)))
        except YamlProblemError:
            return None
    merged, _source, problems = merge_documents(parts)
    if problems:
        return None
    try:
        DataMap.model_validate(merged)
    except ValidationError as exc:
        return exc.error_count()
    return 0


# About 0.15 s an example: the whole map is read and checked each time.
@pytest.mark.timeout(300)
@settings(
    max_examples=60,
    deadline=None,
    # The copied map is restored after each example, so one copy serves them all.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=mutations())
def test_a_changed_map_is_reported_never_raised(
    example_datamap_copy: Path, mutation: Mutation
) -> None:
    changed = example_datamap_copy / mutation.file
    original = changed.read_bytes()
    try:
        mutation.apply(example_datamap_copy)
        _datamap, _source, findings = check_datamap(example_datamap_copy, today=TODAY)
        expected_errors = schema_errors(example_datamap_copy)
    finally:
        changed.write_bytes(original)
    files = set(data_map_files(example_datamap_copy))
    placed = [(f.location.file if f.location else None, f) for f in findings]
    assert [] == [f.render() for file, f in placed if file not in files]
    if expected_errors and mutation.action != "cut":
        # Only the schema's errors, all in the changed file: nothing the rest would say.
        assert (expected_errors, []) == (
            len(findings),
            [f.render() for file, f in placed if file != changed or not f.finding.is_error],
        ), [f.render() for f in findings]
