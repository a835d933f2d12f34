"""Responses for rendered documents, with the media type their format calls for."""

from __future__ import annotations

from typing import Any

from fastapi import Response

MEDIA_TYPES = {
    "html": "text/html",
    "md": "text/markdown",
    "txt": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
}


def document_response(text: str, fmt: str) -> Response:
    """A response carrying a rendered document in format ``fmt`` (UTF-8)."""
    # Starlette encodes as UTF-8 and adds "; charset=utf-8" to text/* media types.
    return Response(text, media_type=MEDIA_TYPES[fmt])


def document_responses(*formats: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` describing a document offered in ``formats``."""
    # JSON documents are JSON values, not strings; the others are text.
    content: dict[str, Any] = {
        MEDIA_TYPES[fmt]: {"schema": {} if fmt == "json" else {"type": "string"}} for fmt in formats
    }
    return {200: {"description": "the rendered document", "content": content}}
