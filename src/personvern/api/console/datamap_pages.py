"""`/staff/datamap`: systems, datasets and fields as the data map declares them.

Per field: its category, purposes (with their legal bases), the recipients that get
its category, and the retention rules and statutory holds that apply. The latest
findings of ``personvern check`` are listed on top, and the published documents (notice,
record of processing, cookie declaration) are shown as rendered, with download links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from personvern.api.console.pages import FormError, language_of, page_requires, render
from personvern.api.deps import ContextDep, DataMapDep, SettingsDep
from personvern.api.media import document_response
from personvern.datamap.documents import DOCUMENTS, PublishedDocument
from personvern.datamap.loader import check_datamap
from personvern.domain.datamap import DataMap, Dataset
from personvern.domain.localized_names import localized
from personvern.domain.retention.rule import rules_for_field
from personvern.domain.roles import Permission
from personvern.security.principal import Principal
from personvern.store.errors import RecordNotFoundError

router = APIRouter()
MapReader = Annotated[Principal, Depends(page_requires(Permission.DATAMAP_READ))]


@dataclass(frozen=True)
class FieldRow:
    """One field of a dataset with what the map says about it."""

    name: str
    category: str | None
    identity: str | None
    purposes: tuple[tuple[str, str], ...]
    recipients: tuple[str, ...]
    retention: tuple[str, ...]
    holds: tuple[str, ...]
    erasure: str | None


def field_rows(datamap: DataMap, system: str, dataset: Dataset, lang: str) -> list[FieldRow]:
    """The fields of ``dataset`` with purposes, legal bases, recipients and retention."""
    rows = []
    for field in dataset.fields:
        rules = rules_for_field(datamap, system, dataset, field.category)
        rows.append(
            FieldRow(
                name=field.name,
                category=field.category,
                identity=field.identity.value if field.identity else None,
                purposes=tuple(
                    (
                        localized(p.name, lang),
                        p.legal_basis.value if p.legal_basis else "",
                    )
                    for key in field.purposes
                    if (p := datamap.purpose(key)) is not None
                ),
                recipients=tuple(
                    recipient.name
                    for recipient in datamap.recipients
                    if field.category is not None and field.category in recipient.categories
                ),
                retention=tuple(f"{rule.period} ({rule.trigger.value})" for rule in rules),
                holds=tuple(rule.legal_hold.reference for rule in rules if rule.legal_hold),
                erasure=field.erasure.value if field.erasure else None,
            )
        )
    return rows


@router.get("/datamap", name="staff_datamap")
def datamap_page(
    request: Request,
    context: ContextDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    principal: MapReader,
) -> Response:
    """Every system with its datasets and fields, the check's findings and the documents."""
    lang = language_of(request).value
    path = context.application.datamap.path
    findings = check_datamap(path)[2] if path is not None else []
    return render(
        request,
        settings,
        "datamap.html.j2",
        principal=principal,
        title_key="datamap.title",
        datamap=datamap,
        findings=findings,
        documents=[d for d in DOCUMENTS if d.permission is None or principal.can(d.permission)],
        localized=lambda text: localized(text, lang),
        field_rows=lambda system, dataset: field_rows(datamap, system, dataset, lang),
    )


def _document(name: str) -> PublishedDocument:
    for document in DOCUMENTS:
        if document.name == name:
            return document
    raise RecordNotFoundError(f"there is no document '{name}'", hint="see /staff/datamap")


@router.get("/documents/{name}", name="staff_document")
def document(
    name: Annotated[str, Path(pattern=r"^[a-z_-]{1,32}$")],
    datamap: DataMapDep,
    principal: MapReader,
    lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
    fmt: Annotated[str, Query(alias="format", pattern=r"^[a-z]{2,8}$")] = "html",
) -> Response:
    """A published document as rendered (``format=html``) or for download (md, json...)."""
    published = _document(name)
    if published.permission is not None:
        principal.require(published.permission)
    if fmt not in published.formats:
        raise FormError(
            f"the {published.title} comes as {', '.join(published.formats)}, not {fmt}",
            hint="pick one of the links on the data map page",
        )
    return document_response(published.build(datamap, lang, fmt), fmt)
