"""Reading one YAML file: aliases and nesting are limited, so a small file cannot exhaust memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from personvern.datamap.errors import DataMapError
from personvern.datamap.loader import check_datamap
from personvern.datamap.source import read_yaml
from tests.support.yaml_bombs import billion_laughs, bomb_location, column_of

TOO_MANY_ALIASES = (
    "error: too many aliases (more than 100): "
    "YAML anchors may be used at most 100 times in a data map file"
)
TOO_MANY_VALUES = (
    "error: aliases repeat too many values (more than 10000): "
    "YAML anchors may repeat at most 10000 values in a data map file"
)
TOO_DEEP = (
    "error: nesting deeper than 64 levels: "
    "mappings and lists may be nested at most 64 levels deep in a data map file"
)


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "personvern.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def refusal(file: Path) -> str:
    """The one-line error ``read_yaml`` refuses ``file`` with."""
    with pytest.raises(DataMapError) as refused:
        read_yaml(file)
    return str(refused.value)


def test_billion_laughs_is_refused_while_composing_with_little_memory(tmp_path: Path) -> None:
    text = billion_laughs()
    file = write(tmp_path, text)
    tracemalloc.start()
    try:
        message = refusal(file)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"{file}:{bomb_location(text)}: {TOO_MANY_VALUES}" == message
    assert len(text) < 2048
    assert peak < 50 * 1024 * 1024, f"peak {peak} bytes"


@pytest.mark.parametrize(
    ("opening", "inner", "closing", "width"),
    [("[", "1", "]", 1), ("{a: ", "1", "}", 4), ("- ", "1", "", 2)],
    ids=["flow-lists", "flow-mappings", "block-lists"],
)
def test_ten_thousand_levels_are_refused_without_recursion_error(
    tmp_path: Path, opening: str, inner: str, closing: str, width: int
) -> None:
    text = opening * 10_000 + inner + closing * 10_000 + "\n"
    file = write(tmp_path, text)
    # The 65th opening is where the limit is passed.
    assert f"{file}:1:{64 * width + 1}: {TOO_DEEP}" == refusal(file)


def test_sixty_four_levels_still_load(tmp_path: Path) -> None:
    expected: object = "deep"
    for _ in range(63):
        expected = [expected]
    file = write(tmp_path, "{a: " + "[" * 63 + "deep" + "]" * 63 + "}\n")
    data, _ = read_yaml(file)
    assert {"a": expected} == data


def test_an_alias_may_not_carry_nesting_past_the_limit(tmp_path: Path) -> None:
    text = "deep: &deep " + "[" * 40 + "1" + "]" * 40 + "\nnested: " + "[" * 30 + "*deep"
    text += "]" * 30 + "\n"
    file = write(tmp_path, text)
    # The root mapping, 30 lists and the 40 of the anchor would make 71 levels.
    assert f"{file}:2:{column_of(text, 2, '*deep', 1)}: {TOO_DEEP}" == refusal(file)


@pytest.mark.parametrize("value", ["[*self]", "{again: *self}", "[[1, {x: [*self]}]]"])
def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path, value: str) -> None:
    text = f"loop: &self {value}\n"
    file = write(tmp_path, text)
    column = column_of(text, 1, "*self", 1)
    expected = (
        f"{file}:1:{column}: error: alias *self is inside the value it refers to: "
        "a data map file cannot contain itself"
    )
    assert expected == refusal(file)


def test_a_hundred_legitimate_aliases_load(tmp_path: Path) -> None:
    anchors = [f"  c{n}: &c{n} [user.contact.email, user.contact.phone_number]" for n in range(50)]
    uses = [f"  p{n}: {{first: *c{n}, again: *c{n}}}" for n in range(50)]
    file = write(tmp_path, "\n".join(["categories:", *anchors, "purposes:", *uses]) + "\n")
    data, positions = read_yaml(file)
    both = ["user.contact.email", "user.contact.phone_number"]
    assert {f"p{n}": {"first": both, "again": both} for n in range(50)} == data["purposes"]
    # A repeated value points at where it was written, under its anchor.
    column = column_of(anchors[3], 1, "user.contact.phone_number", 1)
    assert f"{file}:5:{column}" == str(positions[("purposes", "p3", "again", 1)])


def test_the_hundred_and_first_alias_is_refused(tmp_path: Path) -> None:
    text = "name: &n Nordic\nnames: [" + ", ".join(["*n"] * 101) + "]\n"
    file = write(tmp_path, text)
    assert f"{file}:2:{column_of(text, 2, '*n', 101)}: {TOO_MANY_ALIASES}" == refusal(file)


def test_check_reports_the_refusal_as_a_located_error(tmp_path: Path) -> None:
    text = billion_laughs()
    file = write(tmp_path, text)
    datamap, _, findings = check_datamap(file)
    assert (None, [f"{file}:{bomb_location(text)}: {TOO_MANY_VALUES}"]) == (
        datamap,
        [f.render() for f in findings],
    )


def test_a_file_of_too_many_plain_values_is_refused_early(tmp_path: Path) -> None:
    # No aliases and no nesting, only bulk: 5 MB of values took a minute and 2.3 GB.
    file = write(tmp_path, "x: [" + "1," * 150_000 + "1]\n")
    message = refusal(file)
    assert message.startswith(f"{file}:1:")
    assert message.endswith(
        "error: too many values (more than 100000): split the data map into more files "
        "(a folder of files is one data map)"
    )


def test_a_large_but_reasonable_file_loads(tmp_path: Path) -> None:
    file = write(tmp_path, "x: [" + "1," * 20_000 + "1]\n")
    data, _ = read_yaml(file)
    assert 20_001 == len(data["x"])
