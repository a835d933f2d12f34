"""Text typed by subjects and staff, refused when it carries characters that act instead of show.

Identities end up in mail headers and on staff terminals, free text in reports and
letters. A NUL cuts a string short in C libraries, ESC and BEL drive terminals,
bidirectional overrides and isolates make ``moc.elpmaxe@ari`` read as something
else, zero-width characters make two different values look the same, and Unicode
line separators start a new line where no newline was checked for. None of them
belongs in what a person types into a form, so intake refuses them with a message
saying which one it found, rather than silently removing it.
"""

from __future__ import annotations

import unicodedata

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind

#: Format characters that reorder or hide text (category Cf), refused everywhere.
_HIDING = frozenset(
    {
        "\u061c",  # Arabic letter mark (a bidirectional mark)
        "\u200b",  # zero width space
        "\u200c",  # zero width non-joiner
        "\u200d",  # zero width joiner
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        *(chr(c) for c in range(0x202A, 0x202F)),  # bidi embeddings and overrides
        "\u2060",  # word joiner
        *(chr(c) for c in range(0x2066, 0x206A)),  # bidi isolates
        "\ufeff",  # zero width no-break space (byte order mark)
    }
)
#: Line and paragraph separators: new lines that a check for "\n" does not see.
_SEPARATORS = frozenset({"\u2028", "\u2029"})
#: What free text may keep of the control characters: new lines and tabs.
_TEXT_CONTROLS = frozenset({"\n", "\t"})

_NAMES = {
    "\x00": "a NUL character",
    "\x07": "a BEL (bell) character",
    "\x1b": "an ESC (escape) character",
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
}


class UnsafeTextError(DomainError):
    """Text a person typed holds control or invisible characters that could mislead or break."""

    kind = ErrorKind.INVALID
    title = "Invisible or control characters"


def refuse_control_characters(text: str, what: str, *, allow_newlines: bool = False) -> str:
    """``text`` unchanged, or UnsafeTextError naming the first control or hiding character.

    ``what`` names the text for the message ("the e-mail address"). With
    ``allow_newlines`` (multi-line free text), new lines and tabs are allowed, and so
    is a carriage return directly before a new line, as browsers send text areas.
    """
    for index, char in enumerate(text):
        if _allowed(text, index, char, allow_newlines=allow_newlines):
            continue
        raise UnsafeTextError(
            f"{what} contains {_describe(char)}, which is not allowed",
            hint="type it again; copying from documents or chats can bring invisible "
            "characters along",
        )
    return text


def _allowed(text: str, index: int, char: str, *, allow_newlines: bool) -> bool:
    if char.isprintable():
        return True
    if char in _HIDING or char in _SEPARATORS:
        return False
    category = unicodedata.category(char)
    if category == "Cc":
        if not allow_newlines:
            return False
        if char in _TEXT_CONTROLS:
            return True
        return char == "\r" and text[index + 1 : index + 2] == "\n"
    # Half of a surrogate pair is broken text that cannot even be stored. Other
    # unprintable characters are kept: spaces other than " ", and format characters
    # that shape scripts (soft hyphen, Arabic number signs), hiding nothing.
    return category != "Cs"


def _describe(char: str) -> str:
    if char in _NAMES:
        return _NAMES[char]
    code = f"U+{ord(char):04X}"
    category = unicodedata.category(char)
    if category == "Cc":
        return f"a control character ({code})"
    if category == "Cs":
        return f"a broken character ({code}, half of a pair)"
    name = unicodedata.name(char, "").lower()
    return f"an invisible character ({name}, {code})" if name else f"the character {code}"
