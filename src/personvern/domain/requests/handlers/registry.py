"""Which handler answers which request type; a type without one is refused, never run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from personvern.domain.errors import DomainError
from personvern.domain.requests.handlers.base import RequestHandler
from personvern.domain.requests.handlers.erasure import ErasureHandler
from personvern.domain.requests.handlers.hand_over import AccessHandler, PortabilityHandler
from personvern.domain.requests.handlers.rectification import RectificationHandler
from personvern.domain.requests.handlers.restriction import RestrictionHandler
from personvern.domain.requests.handlers.stop_processing import (
    ObjectionHandler,
    WithdrawConsentHandler,
)
from personvern.domain.requests.lifecycle import RequestType
from personvern.errors import ErrorKind


class MissingHandlerError(DomainError):
    """A request type has no handler: personvern does not know how to plan or run it."""

    kind = ErrorKind.FAILED
    title = "Request type not supported"


class DuplicateHandlerError(DomainError):
    """Two handlers claim one request type: which one runs would be chance."""

    kind = ErrorKind.FAILED
    title = "Request type handled twice"


class HandlerRegistry:
    """The handlers by request type, one each."""

    def __init__(self, handlers: Iterable[RequestHandler]) -> None:
        self._handlers: dict[RequestType, RequestHandler] = {}
        for handler in handlers:
            if handler.request_type in self._handlers:
                raise DuplicateHandlerError(
                    f"two handlers for {handler.request_type} requests",
                    hint="each request type has exactly one handler: remove one of them",
                )
            self._handlers[handler.request_type] = handler

    def handler_for(self, request_type: RequestType) -> RequestHandler:
        """The handler of ``request_type``, or MissingHandlerError."""
        try:
            return self._handlers[request_type]
        except KeyError:
            raise MissingHandlerError(
                f"personvern has no handler for {request_type} requests, "
                "so it cannot plan or run them",
                hint="this is a defect in personvern: report it; the request stays where it "
                "is and nothing was changed",
            ) from None

    def __iter__(self) -> Iterator[RequestHandler]:
        return iter(self._handlers.values())


#: Every request type personvern answers. A new type adds its handler here.
HANDLERS = HandlerRegistry(
    [
        AccessHandler(),
        PortabilityHandler(),
        ErasureHandler(),
        RectificationHandler(),
        RestrictionHandler(),
        ObjectionHandler(),
        WithdrawConsentHandler(),
    ]
)


def handler_for(request_type: RequestType) -> RequestHandler:
    """The handler of ``request_type`` (MissingHandlerError if there is none)."""
    return HANDLERS.handler_for(request_type)
