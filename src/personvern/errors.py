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

Each carries a message a privacy officer can act on and says what kind of failure it
is (ErrorKind); the CLI prints it as one line with the kind's exit code and the API
answers problem+json with the kind's status.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, in words every entry point answers in its own way.

    The API turns a kind into an HTTP status (personvern.api.problems), the command line
    into an exit code (personvern.cli.output); errors never name either.
    """

    #: The request cannot be done as asked.
    REFUSED = "refused"
    #: Input that breaks a rule: a malformed identity, an unknown field.
    INVALID = "invalid"
    #: Nobody is signed in, or the credentials are not good.
    UNAUTHENTICATED = "unauthenticated"
    #: The caller may not do this.
    FORBIDDEN = "forbidden"
    #: No such thing.
    NOT_FOUND = "not_found"
    #: The thing's state does not allow it now (a request not yet verified, say).
    CONFLICT = "conflict"
    #: It existed and is no longer there (an expired or withdrawn link).
    GONE = "gone"
    #: A limit is reached; try again later.
    TOO_MANY = "too_many"
    #: personvern itself failed (its configuration, its store, a bug).
    FAILED = "failed"
    #: A connected system answered with something that breaks its contract.
    SYSTEM_FAILED = "system_failed"
    #: Something needed is not reachable now; the same call may work later.
    UNAVAILABLE = "unavailable"

    @property
    def is_ours(self) -> bool:
        """Whether the cause lies on personvern's side, not in what the caller asked."""
        return self in _OURS


_OURS = frozenset({ErrorKind.FAILED, ErrorKind.SYSTEM_FAILED, ErrorKind.UNAVAILABLE})


class PersonvernError(Exception):
    """An expected failure with a message meant for the person running personvern."""

    #: What went wrong; each entry point decides how to answer it.
    kind: ErrorKind = ErrorKind.REFUSED
    #: Short, stable title for problem+json responses.
    title: str = "Request could not be completed"
    #: Whether the message may be shown to anyone who called. By default only when the
    #: cause is the caller's: a failure on our side can name files, hosts or drivers, so
    #: anonymous callers get an incident id instead and the message goes to the log.
    public_detail: bool | None = None

    @property
    def shows_detail(self) -> bool:
        """Whether this error's message and hint may be shown to whoever called."""
        return not self.kind.is_ours if self.public_detail is None else self.public_detail

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"
