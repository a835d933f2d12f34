"""Which formats and languages the documents generated from the data map exist in.

Templates live in ``templates/<document>/<lang>/<document>.<format>.j2`` inside the
package, so a language is available for a document exactly when its templates are
there: adding a language means adding a folder of templates, not code.
"""

from __future__ import annotations

from collections.abc import Sequence

from personvern.domain.datamap import DataMap
from personvern.domain.errors import UnknownLanguageError
from personvern.errors import PersonvernError
from personvern.templating import environment


class UnknownFormatError(PersonvernError):
    """A document was asked for in a format personvern does not render."""

    title = "Format not available"


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


def declared_template_languages(datamap: DataMap, document: str, fmt: str = "html") -> list[str]:
    """The map's languages that ``document`` has templates for in ``fmt``, in the map's order."""
    templated = template_languages(document, fmt)
    return [lang for lang in datamap.organization.languages if lang in templated]


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
