"""Render the customer privacy notice (GDPR Art. 13) from the data map."""

from __future__ import annotations

from personvern.datamap.rendering import (
    check_format,
    declared_template_languages,
    require_template_language,
)
from personvern.domain.datamap import DataMap
from personvern.domain.notice import build_notice_content
from personvern.templating import environment

NOTICE_FORMATS = ("html", "md", "txt")


def notice_languages(datamap: DataMap, fmt: str = "html") -> list[str]:
    """Languages the notice can be rendered in: declared by the map and with templates."""
    return declared_template_languages(datamap, "notice", fmt)


def render_notice(datamap: DataMap, lang: str, fmt: str) -> str:
    """The privacy notice in ``lang`` as ``fmt`` (html, md or txt)."""
    check_format(fmt, NOTICE_FORMATS, "privacy notice")
    name = require_template_language(
        "notice", fmt, lang, datamap.organization.languages, "privacy notice"
    )
    content = build_notice_content(datamap, lang)
    return environment().get_template(name).render(notice=content)
