"""Control and invisible characters are refused in what people type; ordinary text passes."""

from __future__ import annotations

import re

import pytest

from personvern.domain.text_input import UnsafeTextError, refuse_control_characters
from personvern.errors import ErrorKind

#: Each refused character, and how the message names it.
REFUSED = [
    ("\x00", "NUL"),
    ("\x1b", "ESC"),
    ("\x07", "BEL"),
    ("\x7f", "U+007F"),
    ("\x85", "U+0085"),
    ("\r", "carriage return"),
    ("\u202e", "right-to-left override"),
    ("\u202a", "left-to-right embedding"),
    ("\u2066", "left-to-right isolate"),
    ("\u2069", "pop directional isolate"),
    ("\u200e", "left-to-right mark"),
    ("\u200f", "right-to-left mark"),
    ("\u061c", "arabic letter mark"),
    ("\u200b", "zero width space"),
    ("\u200c", "zero width non-joiner"),
    ("\u200d", "zero width joiner"),
    ("\u2060", "word joiner"),
    ("\ufeff", "zero width no-break space"),
    ("\u2028", "line separator"),
    ("\u2029", "paragraph separator"),
    ("\ud800", "U+D800"),
]


@pytest.mark.parametrize(("char", "named"), REFUSED)
@pytest.mark.parametrize("allow_newlines", [False, True])
def test_control_and_hiding_characters_are_refused(
    char: str, named: str, allow_newlines: bool
) -> None:
    with pytest.raises(UnsafeTextError, match=re.escape(named)) as refused:
        refuse_control_characters(f"kari{char}@example.no", "the e-mail address")
    assert refused.value.message.startswith("the e-mail address contains")
    assert ErrorKind.INVALID is refused.value.kind
    with pytest.raises(UnsafeTextError):
        refuse_control_characters(f"Storgata 1{char}", "the new value", allow_newlines=True)


@pytest.mark.parametrize("char", ["\n", "\t"])
def test_line_breaks_and_tabs_only_in_multi_line_text(char: str) -> None:
    with pytest.raises(UnsafeTextError):
        refuse_control_characters(f"kari@example.no{char}", "the e-mail address")
    text = f"Storgata 1{char}0155 Oslo"
    assert text == refuse_control_characters(text, "the new value", allow_newlines=True)


def test_a_browser_line_break_is_allowed_in_multi_line_text_but_not_a_lone_return() -> None:
    text = "Storgata 1\r\n0155 Oslo"
    assert text == refuse_control_characters(text, "the new value", allow_newlines=True)
    with pytest.raises(UnsafeTextError, match="carriage return"):
        refuse_control_characters("Storgata 1\r0155 Oslo", "the new value", allow_newlines=True)


@pytest.mark.parametrize(
    "text",
    [
        "kari.nordmann@example.no",
        "Ørjan Ødegård, Storgata 1",
        "Åse\u00a0Berg",  # a no-break space is a space
        "Straße 5, 0155 Oslo",
        "用户@例子.广告",
        "שלום עולם",  # right-to-left script without overrides
        "co\u00adoperate",  # a soft hyphen hides nothing
        "",
    ],
)
def test_ordinary_text_passes_unchanged(text: str) -> None:
    assert text == refuse_control_characters(text, "the text")
