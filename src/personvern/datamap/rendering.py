"""The Jinja2 environment behind the generated documents, and which languages they exist in.

Templates live in ``templates/<document>/<lang>/<document>.<format>.j2`` inside the
package, so a language is available for a document exactly when its templates are
there: adding a language means adding a folder of templates, not code.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from personvern.domain.errors import UnknownLanguageError
from personvern.domain.notice import RecipientEntry
from personvern.errors import PersonvernError

#: Width of plain-text documents; 78 leaves room for a quote marker in e-mail.
TEXT_WIDTH = 78

# Phone numbers ("+47 22 00 00 00") and section references ("§ 13") read wrongly when
# a line break splits them, so their spaces are held together while filling.
_UNBREAKABLE = re.compile(r"\+\d[\d ]*\d|§ \d+|art\. \d+", re.IGNORECASE)
_GLUE = "\u00a0"


class UnknownFormatError(PersonvernError):
    """A document was asked for in a format personvern does not render."""

    title = "Format not available"


@cache
def environment() -> Environment:
    """The shared environment: package templates, autoescaping for HTML, strict variables."""
    env = Environment(
        loader=PackageLoader("personvern.datamap", "templates"),
        # Only HTML is escaped; Markdown and text must show "&" and "<" as written.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    env.filters["recipient_label"] = recipient_label
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


def recipient_label(recipient: RecipientEntry) -> str:
    """A recipient as lists show it: ``Nordic Workspace AB (Sverige)``."""
    return f"{recipient.name} ({recipient.country})"


def check_format(fmt: str, formats: Sequence[str], document: str) -> None:
    """Refuse a format the document does not come in."""
    if fmt not in formats:
        raise UnknownFormatError(
            f"the {document} is not available as '{fmt}' (available: {', '.join(formats)})"
        )


def template_languages(document: str, fmt: str) -> list[str]:
    """Languages that have a template for ``document`` in ``fmt``."""
    suffix = f"/{document}.{fmt}.j2"
    prefix = f"{document}/"
    return sorted(
        name[len(prefix) : -len(suffix)]
        for name in environment().list_templates()
        if name.startswith(prefix) and name.endswith(suffix) and name.count("/") == 2
    )


def require_template_language(
    document: str, fmt: str, lang: str, declared: Sequence[str], label: str
) -> str:
    """The template name for ``lang``; refuses languages undeclared or without templates."""
    templated = template_languages(document, fmt)
    available = [code for code in declared if code in templated]
    if lang not in available:
        raise UnknownLanguageError(
            f"the {label} is not available in '{lang}' (available: {', '.join(available)})"
        )
    return f"{document}/{lang}/{document}.{fmt}.j2"
