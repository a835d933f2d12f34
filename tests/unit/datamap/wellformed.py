"""A strict-enough HTML check: every non-void element is closed, in order."""

from __future__ import annotations

from html.parser import HTMLParser

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_problems(document: str) -> list[str]:
    """Mismatched or unclosed elements in ``document`` (empty when well formed)."""
    checker = _Checker()
    checker.feed(document)
    checker.close()
    return checker.problems + [f"<{tag}> never closed" for tag in checker.stack]


def html_text(document: str) -> str:
    """The document's text with entities decoded, whitespace collapsed."""
    checker = _Checker()
    checker.feed(document)
    checker.close()
    return " ".join("".join(checker.text).split())
