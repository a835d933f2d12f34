"""`GET /api/v1/cookies`: the cookie declaration generated from the data map. Public, like
the notice: ekomloven requires telling visitors what is stored in their browser."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from personvern.api.deps import DataMapDep
from personvern.api.media import document_response, document_responses
from personvern.api.routers.notice import LANG_QUERY

router = APIRouter(tags=["documents"])


@router.get("/cookies", response_class=Response, responses=document_responses("html", "md", "txt"))
def get_cookie_declaration(
    datamap: DataMapDep,
    lang: Annotated[str | None, LANG_QUERY] = None,
    fmt: Annotated[Literal["html", "md", "txt"], Query(alias="format")] = "html",
) -> Response:
    """The cookie declaration in ``lang`` and ``format``."""
    from personvern.datamap.cookies import render_cookie_declaration

    language = datamap.organization.language_or_default(lang)
    return document_response(render_cookie_declaration(datamap, language, fmt), fmt)
