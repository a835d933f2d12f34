"""`GET /api/v1/ropa`: the record of processing activities (GDPR Art. 30(1))."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from personvern.api.deps import DataMapDep, require
from personvern.api.media import document_response, document_responses
from personvern.domain.roles import Permission

router = APIRouter(tags=["documents"])


@router.get(
    "/ropa",
    response_class=Response,
    responses=document_responses("json", "csv", "html"),
    dependencies=[Depends(require(Permission.ROPA_READ))],
)
def get_ropa(
    datamap: DataMapDep,
    fmt: Annotated[Literal["json", "csv", "html"], Query(alias="format")] = "json",
) -> Response:
    """The record of processing in ``format``: one row per processing activity."""
    from personvern.datamap.ropa import render_ropa

    return document_response(render_ropa(datamap, fmt), fmt)
