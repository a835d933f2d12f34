"""`GET /api/v1/notice`, `/ropa`, `/cookies`: one route per published document.

The routes are made from the registry (personvern.datamap.documents). Documents
without a permission (the notice, the cookie declaration) are public: they are
published to everyone the company processes data about; the others need a token
holding their permission.
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from personvern.api.deps import DataMapDep, require
from personvern.api.media import document_response, document_responses
from personvern.datamap.documents import DOCUMENTS, PublishedDocument

#: Documents published to everyone.
public_router = APIRouter(tags=["documents"])
#: Documents that need a permission.
router = APIRouter(tags=["documents"])

LANG_QUERY = Query(
    pattern=r"^[a-z]{2,3}$",
    description="language code; default: the data map's first language the document comes in",
)


def _route(document: PublishedDocument) -> Callable[..., Response]:
    """The route function answering with ``document``."""
    formats: Any = Literal[document.formats]  # the OpenAPI enum of the format parameter

    def route(
        datamap: DataMapDep,
        lang: Annotated[str | None, LANG_QUERY] = None,
        fmt: Annotated[formats, Query(alias="format")] = document.api_format,
    ) -> Response:
        return document_response(document.build(datamap, lang, fmt), fmt)

    route.__doc__ = document.summary.replace("Render the", "The", 1)
    route.__name__ = f"get_{document.name}"
    return route


for _document in DOCUMENTS:
    (public_router if _document.permission is None else router).add_api_route(
        f"/{_document.name}",
        _route(_document),
        methods=["GET"],
        response_class=Response,
        responses=document_responses(*_document.formats),
        dependencies=(
            [Depends(require(_document.permission))] if _document.permission is not None else []
        ),
        summary=_document.summary.replace("Render the", "The", 1).rstrip("."),
    )
