"""The one Jinja2 environment every document personvern writes is rendered with.

Templates live in two packages: ``personvern.datamap/templates`` (what the data map
publishes: notice, cookie declaration, record of processing, and the shared stylesheet)
and ``personvern.responses/templates`` (the answers to requests: access report, export
README, answer mail). One environment loads both, so the report shares the notice's
stylesheet and every document sees the same filters and escaping rules.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache
from typing import Protocol

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

#: Width of plain-text documents; 78 leaves room for a quote marker in e-mail.
TEXT_WIDTH = 78

# Phone numbers ("+47 22 00 00 00") and section references ("§ 13") read wrongly when
# a line break splits them, so their spaces are held together while filling.
_UNBREAKABLE = re.compile(r"\+\d[\d ]*\d|§ \d+|art\. \d+", re.IGNORECASE)
_GLUE = "\u00a0"


class NamedInCountry(Protocol):
    """Anything shown with its country in lists (a recipient, a controller)."""

    @property
    def name(self) -> str:
        """The name as the document shows it."""

    @property
    def country(self) -> str:
        """The country as the document shows it."""


@cache
def environment() -> Environment:
    """The shared environment: package templates, HTML always escaped, strict variables."""
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("personvern.responses", "templates"),
                PackageLoader("personvern.datamap", "templates"),
            ]
        ),
        # Record values come from the company's stores and may hold anything, "<script>"
        # included: HTML is always escaped. Markdown and text must show "&" and "<" as
        # written.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    env.filters["recipient_label"] = recipient_label
    env.filters["filesize"] = filesize
    return env


def wrap(text: str, initial: str = "", subsequent: str | None = None) -> str:
    """Fill ``text`` to :data:`TEXT_WIDTH`; a bullet's continuation lines align under it."""
    glued = _UNBREAKABLE.sub(lambda m: m.group(0).replace(" ", _GLUE), " ".join(str(text).split()))
    filled = textwrap.fill(
        glued,
        width=TEXT_WIDTH,
        initial_indent=initial,
        subsequent_indent=" " * len(initial) if subsequent is None else subsequent,
        # URLs and e-mail addresses must stay whole to remain clickable and copyable.
        break_long_words=False,
        break_on_hyphens=False,
    )
    return filled.replace(_GLUE, " ")


def recipient_label(recipient: NamedInCountry) -> str:
    """A recipient as lists show it: ``Nordic Workspace AB (Sverige)``."""
    return f"{recipient.name} ({recipient.country})"


def filesize(size: int, lang: str = "en") -> str:
    """A byte count for people: ``512 B``, ``1.4 MB`` (``1,4 MB`` in Norwegian)."""
    units = ("B", "kB", "MB", "GB")
    value = float(size)
    unit = units[0]
    for unit in units:
        if value < 1000 or unit == units[-1]:
            break
        value /= 1000
    text = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
    return f"{text.replace('.', ',') if lang == 'nb' else text} {unit}"
