"""Request types as handlers: one module per kind of right, one registry.

See docs/request-types.md for the handler's shape and how to add a request type.
"""

from __future__ import annotations

from personvern.domain.requests.handlers.base import RequestHandler, RunWrite
from personvern.domain.requests.handlers.registry import (
    HANDLERS,
    HandlerRegistry,
    MissingHandlerError,
    handler_for,
)

__all__ = [
    "HANDLERS",
    "HandlerRegistry",
    "MissingHandlerError",
    "RequestHandler",
    "RunWrite",
    "handler_for",
]
