"""Hostile YAML for the tests of the data map's limits."""

from __future__ import annotations


def billion_laughs() -> str:
    """The classic bomb in under 2 kB: nine anchors, each ten aliases to the one before."""
    lines = ['organization: {name: "Laughing Ltd", country: "NO"}', "bomb:"]
    laugh = '"' + "lol" * 40 + '"'
    lines.append(f"  a: &a [{', '.join([laugh] * 10)}]")
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  {name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    lines.append("  all: [*i, *i, *i, *i, *i, *i, *i, *i, *i]")
    return "\n".join(lines) + "\n"


# a: 11 values, b: 10 x 11, c: 10 x 111; the 8th alias to c (1111 values each), on the
# line of d, is the one that passes the limit of 10000 repeated values.
BOMB_REFUSED_AT = (6, "*c", 8)


def column_of(text: str, line: int, needle: str, occurrence: int) -> int:
    """1-based column of the ``occurrence``-th ``needle`` on 1-based ``line`` of ``text``."""
    row = text.splitlines()[line - 1]
    at = -1
    for _ in range(occurrence):
        at = row.index(needle, at + 1)
    return at + 1


def bomb_location(text: str) -> str:
    """``line:column`` where the bomb of :func:`billion_laughs` is refused."""
    line, needle, occurrence = BOMB_REFUSED_AT
    return f"{line}:{column_of(text, line, needle, occurrence)}"
