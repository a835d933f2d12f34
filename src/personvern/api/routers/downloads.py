"""`GET /api/v1/downloads/{token}`: a subject downloads their report or export.

Public: the signed, time-limited link is the authorisation (see
:mod:`personvern.responses.handover`), so the subject needs no account. A link someone
altered answers 403; an expired or withdrawn one, or one for a file no longer kept,
410; all as problem+json. The file is streamed from
``<PERSONVERN_HOME>/requests/<request id>/`` as its RequestArtifact row describes it,
and only from there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from personvern.api.deps import SessionDep, SettingsDep
from personvern.responses.download_link import MAX_TOKEN_LENGTH
from personvern.responses.handover import open_download

router = APIRouter(tags=["downloads"])

#: Sent with every file: the link is a secret (no caching, no referrer) and the
#: browser must not run a downloaded HTML report as a page of this site.
DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get(
    "/downloads/{token}",
    response_class=FileResponse,
    responses={
        200: {"description": "the file (report or export)"},
        403: {"description": "the link is not valid (altered or not ours)", **_PROBLEM},
        404: {"description": "the request has no such file", **_PROBLEM},
        410: {
            "description": "the link has expired or was withdrawn, or the file was removed",
            **_PROBLEM,
        },
    },
)
def download(
    token: Annotated[str, PathParam(max_length=MAX_TOKEN_LENGTH)],
    settings: SettingsDep,
    session: SessionDep,
) -> Response:
    """Stream the file a signed download link grants."""
    found = open_download(session, settings.secret(), token, settings.home, datetime.now(UTC))
    if found.content is not None:
        # A sealed file, opened in memory: answers are megabytes, not gigabytes.
        return Response(
            found.content,
            media_type=found.media_type,
            headers={
                **DOWNLOAD_HEADERS,
                "Content-Disposition": f'attachment; filename="{found.name}"',
            },
        )
    return FileResponse(
        found.path,
        media_type=found.media_type,
        filename=found.name,
        headers=DOWNLOAD_HEADERS,
    )
