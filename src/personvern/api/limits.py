"""Limits on what a caller may send: body size and JSON nesting, checked before any parsing.

A 100 MB body to the public `POST /api/v1/requests` used to be read and parsed in
full. This middleware sits in front of every route: a body whose declared length is
over the limit is refused at once (413) without reading it, one that grows past the
limit while streaming in is refused as soon as it does, and a JSON body nested deeper
than the limit is refused (422) before the JSON parser recurses into it. Every form
and API body personvern takes is a few kilobytes; the default limit is 64 kB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_JSON_DEPTH = 32

# A JSON string with its escapes; what is left once strings are removed is structure.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes, stop_at: int) -> int:
    """How deeply ``body`` nests arrays and objects (counted up to ``stop_at`` + 1)."""
    structure = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in structure:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        else:
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
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body, then hand the request on with the body replayed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse_size(scope, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: nothing to answer.
                return
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await self._refuse_size(scope, send)
                return
            more = bool(message.get("more_body", False))
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if (content_type == "application/json" or content_type.endswith("+json")) and (
            json_depth(bytes(body), self.max_json_depth) > self.max_json_depth
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
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse_size(self, scope: Scope, send: Send) -> None:
        await _problem(
            scope,
            send,
            413,
            "Content Too Large",
            f"the request body is larger than {self.max_body_bytes} bytes",
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
