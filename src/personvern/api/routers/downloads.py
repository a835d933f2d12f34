"""`GET /api/v1/downloads/{token}`: a subject downloads their report or export.

Public: the signed, time-limited link is the authorisation (see
:mod:`personvern.responses.download_link`), so the subject needs no account. A link
someone altered answers 403, an expired one 410, both as problem+json; the file is
streamed from ``<PERSONVERN_HOME>/requests/<request id>/`` as its RequestArtifact row
describes it, and only from there.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy import select

from personvern.api.deps import SessionDep, SettingsDep
from personvern.api.errors import ApiError
from personvern.responses.download_link import MAX_TOKEN_LENGTH, verify
from personvern.store.models import RequestArtifact

router = APIRouter(tags=["downloads"])

log = logging.getLogger("personvern.api")

# Request ids are random URL-safe strings; anything else never names a folder.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: Sent with every file: the link is a secret (no caching, no referrer) and the
#: browser must not run a downloaded HTML report as a page of this site.
DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}


class DownloadNotFoundError(ApiError):
    """The link is genuine but names a file the request does not have."""

    http_status = 404
    title = "File not found"


class DownloadGoneError(ApiError):
    """The link is genuine but the file has been removed (its retention ended)."""

    http_status = 410
    title = "File no longer available"


_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get(
    "/downloads/{token}",
    response_class=FileResponse,
    responses={
        200: {"description": "the file (report or export)"},
        403: {"description": "the link is not valid (altered or not ours)", **_PROBLEM},
        404: {"description": "the request has no such file", **_PROBLEM},
        410: {"description": "the link has expired, or the file was removed", **_PROBLEM},
    },
)
def download(
    token: Annotated[str, PathParam(max_length=MAX_TOKEN_LENGTH)],
    settings: SettingsDep,
    session: SessionDep,
) -> FileResponse:
    """Stream the file a signed download link grants."""
    target = verify(settings.secret(), token, datetime.now(UTC))
    if not _REQUEST_ID.fullmatch(target.request_id):
        raise DownloadNotFoundError("this link names no request")
    artifact = session.scalars(
        select(RequestArtifact).where(
            RequestArtifact.request_id == target.request_id,
            RequestArtifact.name == target.name,
        )
    ).one_or_none()
    if artifact is None:
        raise DownloadNotFoundError(
            f"request {target.request_id} has no file named {target.name!r}",
            hint="ask us for a new link",
        )
    folder = (settings.home / "requests" / target.request_id).resolve()
    path = (folder / artifact.path).resolve()
    if not path.is_relative_to(folder):
        # A row pointing outside the request's folder is a bug or tampering; never serve it.
        log.error("artifact %s of request %s points outside its folder", artifact.id, folder.name)
        raise DownloadNotFoundError(f"request {target.request_id} has no such file")
    if not path.is_file():
        raise DownloadGoneError(
            f"the file {artifact.name!r} of request {target.request_id} is no longer kept",
            hint="ask us to send the answer again",
        )
    return FileResponse(
        path,
        media_type=artifact.media_type,
        filename=artifact.name,
        headers=DOWNLOAD_HEADERS,
    )
