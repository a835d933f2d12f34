"""Limits on what a caller may send: body size and JSON nesting, checked before any parsing.

A 100 MB body to the public `POST /api/v1/requests` used to be read and parsed in
full. This middleware sits in front of every route: a body whose declared length is
over the limit is refused at once (413) without reading it, one that grows past the
limit while streaming in is refused as soon as it does, and a JSON body nested deeper
than the limit is refused (422) before the JSON parser recurses into it. Every form
and API body personvern takes is a few kilobytes; the default limit is 64 kB.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_JSON_DEPTH = 32
#: Seconds a client may take to send its whole body: a body trickled in a byte at a
#: time would otherwise hold a connection (and a file descriptor) for ever.
DEFAULT_BODY_SECONDS = 30.0
#: Headers that must not come twice: the limits here and the framework behind them
#: must read the same value, and of two values they pick different ones.
_SINGLE = ("content-type", "content-length", "transfer-encoding")

_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


def json_depth(body: bytes, stop_at: int) -> int:
    """How deeply ``body`` nests arrays and objects (counted up to ``stop_at`` + 1).

    One pass, byte by byte, keeping track of strings and escapes: a regular expression
    that skipped strings took quadratic time on a body of escaped quotes (12 s for
    64 kB, with the event loop blocked for every client).
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        elif byte in _CLOSE:
            depth -= 1
    return deepest


class RequestLimits:
    """ASGI middleware refusing oversized bodies (413) and over-nested JSON (422)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        body_seconds: float = DEFAULT_BODY_SECONDS,
        larger_bodies: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        #: Paths that take a larger body (a bulk list), and their own limit; the route
        #: parses that body itself and guards against deep nesting there.
        self.larger_bodies = dict(larger_bodies or {})
        self.max_json_depth = max_json_depth
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body, then hand the request on with the body replayed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = [k.decode("latin-1").lower() for k, _ in scope["headers"]]
        if any(names.count(name) > 1 for name in _SINGLE):
            await _problem(
                scope,
                send,
                400,
                "Bad Request",
                "a request may carry each of " + ", ".join(_SINGLE) + " once",
            )
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        larger = self.larger_bodies.get(scope.get("path", ""))
        limit = larger or self.max_body_bytes
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            await self._refuse_size(scope, send, limit)
            return
        body = await self._read_body(scope, receive, send, limit)
        if body is None:
            return
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if (
            larger is None
            and (content_type == "application/json" or content_type.endswith("+json"))
            and json_depth(body, self.max_json_depth) > self.max_json_depth
        ):
            await _problem(
                scope,
                send,
                422,
                "Invalid request",
                f"the JSON body is nested deeper than {self.max_json_depth} levels",
            )
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(
        self, scope: Scope, receive: Receive, send: Send, limit: int
    ) -> bytes | None:
        """The whole body, or None once the request has been answered (too big, too slow)."""
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_seconds):
                more = True
                while more:
                    message = await receive()
                    if message["type"] != "http.request":
                        return None  # the client went away: nothing to answer
                    body += message.get("body", b"")
                    if len(body) > limit:
                        await self._refuse_size(scope, send, limit)
                        return None
                    more = bool(message.get("more_body", False))
        except TimeoutError:
            await _problem(
                scope,
                send,
                408,
                "Request Timeout",
                f"the request body did not arrive within {self.body_seconds:.0f} seconds",
            )
            return None
        return bytes(body)

    async def _refuse_size(self, scope: Scope, send: Send, limit: int) -> None:
        await _problem(
            scope,
            send,
            413,
            "Content Too Large",
            f"the request body is larger than {limit} bytes",
        )


async def _problem(scope: Scope, send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode("ascii")),
                # The rest of an oversized body is not read; the connection must not be
                # reused for another request with it still in the pipe.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
