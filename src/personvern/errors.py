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
    #: Whether the API may show the message to the caller. By default only for 4xx: a
    #: server-side failure's message can name files, hosts or drivers, so callers get
    #: an incident id instead and the message goes to the log.
    public_detail: bool | None = None

    @property
    def shows_detail(self) -> bool:
        """Whether this error's message and hint may be shown to whoever called."""
        return self.http_status < 500 if self.public_detail is None else self.public_detail

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"
