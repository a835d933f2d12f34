"""The root of every error personvern raises on purpose.

    PersonvernError
    ├── domain.errors.DomainError            a rule refused something (unknown language, role)
    ├── datamap.errors.DataMapError          the data map cannot be read or is invalid
    ├── datamap.rendering.UnknownFormatError a document format that does not exist
    ├── store.errors.StoreError              personvern's own database
    ├── security.errors.SecurityError        missing or insufficient credentials
    ├── api.errors.ApiError                  a request the API cannot serve
    ├── settings.SettingsError               unusable configuration
    └── demo.errors.DemoError                the demo company cannot be built

Each carries a message a privacy officer can act on; the CLI prints it as one line
and the API maps it to a problem+json response.
"""

from __future__ import annotations


class PersonvernError(Exception):
    """An expected failure with a message meant for the person running personvern."""

    #: HTTP status the API answers with when this error escapes a route.
    http_status: int = 400
    #: Short, stable title for problem+json responses.
    title: str = "Request could not be completed"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"
