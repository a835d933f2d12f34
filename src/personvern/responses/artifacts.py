"""The files an answer consists of: their names, media types and what was written."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class OutputFormat(StrEnum):
    """The files a request's answer can consist of."""

    HTML = "html"
    PDF = "pdf"
    ZIP = "zip"

    @property
    def artifact_name(self) -> str:
        """The file name the subject downloads (and the RequestArtifact's name)."""
        return _NAMES[self]

    @property
    def media_type(self) -> str:
        """The media type the file is served with."""
        return _MEDIA_TYPES[self]


_NAMES = {
    OutputFormat.HTML: "access-report.html",
    OutputFormat.PDF: "access-report.pdf",
    OutputFormat.ZIP: "export.zip",
}
_MEDIA_TYPES = {
    OutputFormat.HTML: "text/html",
    OutputFormat.PDF: "application/pdf",
    OutputFormat.ZIP: "application/zip",
}


@dataclass(frozen=True)
class WrittenArtifact:
    """A file written for the subject, with what the receipt and the download need."""

    name: str
    media_type: str
    sha256: str
    size: int
    #: Where the file is; ``path.relative_to(out_dir)`` is what RequestArtifact.path stores.
    path: Path
    #: Whether the file on disk is the content's envelope (sha256 and size are the plain's).
    sealed: bool = False
