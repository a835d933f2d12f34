"""`GET /api/v1/notice`: the privacy notice generated from the data map. Public: it is
published to everyone the company processes data about."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from personvern.api.deps import DataMapDep
from personvern.api.media import document_response, document_responses

router = APIRouter(tags=["documents"])

LANG_QUERY = Query(
    pattern=r"^[a-z]{2,3}$",
    description="language code declared in the data map; default: its first language",
)


@router.get("/notice", response_class=Response, responses=document_responses("html", "md", "txt"))
def get_notice(
    datamap: DataMapDep,
    lang: Annotated[str | None, LANG_QUERY] = None,
    fmt: Annotated[Literal["html", "md", "txt"], Query(alias="format")] = "html",
) -> Response:
    """The privacy notice in ``lang`` and ``format``."""
    from personvern.datamap.notice import render_notice

    language = datamap.organization.language_or_default(lang)
    return document_response(render_notice(datamap, language, fmt), fmt)
