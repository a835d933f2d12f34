"""The documents the data map publishes, as one registry.

Each entry says what a document is called, the formats and languages it comes in,
who may read it and how it is built. The command line (``personvern notice``, ``ropa``,
``cookies``) and the API (``GET /api/v1/notice`` ...) are made from these entries, so
a new document is one entry here and its templates, not a command and a route copied
from another.

Importing this module is cheap (the command line lists the commands from it); each
entry imports its renderer only when it renders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from personvern.domain.roles import Permission

if TYPE_CHECKING:
    from personvern.domain.datamap import DataMap


@dataclass(frozen=True)
class PublishedDocument:
    """One document generated from the data map."""

    #: The command's and the route's name (``notice`` -> ``personvern notice``, ``/notice``).
    name: str
    #: What it is, as messages name it ("privacy notice").
    title: str
    #: The one-line help of the command and the route.
    summary: str
    #: Formats it is rendered in.
    formats: tuple[str, ...]
    #: The format the API answers with when none is asked for.
    api_format: str
    #: The format the command writes when neither ``--format`` nor ``--out`` says.
    cli_format: str
    #: The permission needed to read it through the API; None: published to everyone.
    permission: Permission | None
    #: Renders it: (data map, language, format) -> text.
    render: Callable[[DataMap, str, str], str]
    #: The languages it can be rendered in for a data map, the default first.
    languages: Callable[[DataMap], Sequence[str]]

    def language(self, datamap: DataMap, asked: str | None) -> str:
        """The language asked for, else the document's default for ``datamap``.

        An unavailable language is refused by ``render`` with the available ones named.
        """
        if asked is not None:
            return asked
        available = self.languages(datamap)
        return available[0] if available else datamap.organization.language_or_default(None)

    def build(self, datamap: DataMap, lang: str | None, fmt: str) -> str:
        """The document for ``datamap`` in ``lang`` (default if None) as ``fmt``."""
        return self.render(datamap, self.language(datamap, lang), fmt)


def _render_notice(datamap: DataMap, lang: str, fmt: str) -> str:
    from personvern.datamap.notice import render_notice

    return render_notice(datamap, lang, fmt)


def _render_cookies(datamap: DataMap, lang: str, fmt: str) -> str:
    from personvern.datamap.cookies import render_cookie_declaration

    return render_cookie_declaration(datamap, lang, fmt)


def _templated(document: str) -> Callable[[DataMap], Sequence[str]]:
    """The map's languages that ``document`` has templates for, in the map's order."""

    def languages(datamap: DataMap) -> Sequence[str]:
        from personvern.datamap.rendering import declared_template_languages

        return declared_template_languages(datamap, document)

    return languages


def _render_ropa(datamap: DataMap, lang: str, fmt: str) -> str:
    from personvern.datamap.ropa import render_ropa
    from personvern.domain.retention.own_records import own_record_rules
    from personvern.settings import load_settings

    # personvern's own records are processing too: their periods are its settings.
    own = own_record_rules(load_settings().own_retention_periods())
    return render_ropa(datamap, fmt, lang, own)


def _ropa_languages(datamap: DataMap) -> Sequence[str]:
    # The record goes to the supervisory authority and auditors: English unless asked.
    from personvern.domain.ropa import ROPA_LANGUAGES

    return ROPA_LANGUAGES


#: Every published document, in the order the help lists them.
DOCUMENTS: tuple[PublishedDocument, ...] = (
    PublishedDocument(
        name="notice",
        title="privacy notice",
        summary="Render the customer privacy notice (GDPR Art. 13) from the data map.",
        formats=("html", "md", "txt"),
        api_format="html",
        cli_format="html",
        permission=None,
        render=_render_notice,
        languages=_templated("notice"),
    ),
    PublishedDocument(
        name="ropa",
        title="record of processing",
        summary=(
            "Render the record of processing activities (GDPR Art. 30(1)), one row per purpose."
        ),
        formats=("csv", "json", "html"),
        api_format="json",
        cli_format="csv",
        permission=Permission.ROPA_READ,
        render=_render_ropa,
        languages=_ropa_languages,
    ),
    PublishedDocument(
        name="cookies",
        title="cookie declaration",
        summary="Render the cookie declaration from the data map's web sites and apps.",
        formats=("html", "md", "txt"),
        api_format="html",
        cli_format="html",
        permission=None,
        render=_render_cookies,
        languages=_templated("cookies"),
    ),
)


def published_document(name: str) -> PublishedDocument:
    """The registered document called ``name`` (KeyError for none)."""
    for document in DOCUMENTS:
        if document.name == name:
            return document
    raise KeyError(name)
