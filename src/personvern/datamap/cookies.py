"""Render the cookie declaration (ekomloven § 3-15) from the web and app systems of the map."""

from __future__ import annotations

from personvern.datamap.rendering import check_format, require_template_language
from personvern.domain.cookie_declaration import build_cookie_declaration
from personvern.domain.datamap import DataMap
from personvern.templating import environment

COOKIE_FORMATS = ("html", "md", "txt")


def render_cookie_declaration(datamap: DataMap, lang: str, fmt: str) -> str:
    """The cookie declaration in ``lang`` as ``fmt`` (html, md or txt)."""
    check_format(fmt, COOKIE_FORMATS, "cookie declaration")
    name = require_template_language(
        "cookies", fmt, lang, datamap.organization.languages, "cookie declaration"
    )
    declaration = build_cookie_declaration(datamap, lang)
    return environment().get_template(name).render(declaration=declaration)
