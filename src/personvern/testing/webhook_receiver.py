"""A receiver of the webhook contract (docs/webhook-contract.md) backed by a connector.

It checks every call's signature and clock as a real receiver must, answers signed,
and does what each operation asks through a connector of the same system (an
InMemoryConnector, typically). With it, the webhook connector runs against a real HTTP
server in tests, and the webhook contract is held to the same contract tests as the
other connectors.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from personvern.connectors.port import (
    Connector,
    ConnectorError,
    Criteria,
    ErasureStep,
    Key,
    Redaction,
)
from personvern.connectors.webhook import (
    MAX_CLOCK_SKEW_SECONDS,
    REQUEST_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from personvern.errors import ErrorKind

_OPERATIONS = frozenset({"check", "locate", "erase", "rectify", "files", "files/content"})


def _never(_dataset: str, _field: str, _key: Key) -> str:
    raise AssertionError("the webhook contract sends erased values, never strategies")


class _Receiver:
    """What the HTTP handler calls: signature checks, and each operation on the connector."""

    def __init__(self, connector: Connector, secret: bytes) -> None:
        self.connector = connector
        self.secret = secret
        #: Operations received, in order (tests read which calls were made).
        self.calls: list[str] = []

    def verified(self, operation: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a call is signed with the secret and timely (``headers`` lower-cased)."""
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        request_id = headers.get(REQUEST_ID_HEADER.lower(), "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return False
        expected = sign(self.secret, "request", operation, timestamp, request_id, body)
        return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER.lower(), ""))

    def answer(self, operation: str, call: dict[str, Any]) -> Any:
        """What ``operation`` answers to ``call``: a JSON-ready value, or a file's bytes."""
        self.calls.append(operation)
        connector = self.connector
        if operation == "check":
            connector.check()
            return {"status": "ok", "datasets": [d.name for d in connector.system.datasets]}
        if operation == "locate":
            criteria = Criteria(
                exact={f: frozenset(v) for f, v in call.get("exact", {}).items()},
                mentions={f: frozenset(v) for f, v in call.get("mentions", {}).items()},
                exclude=frozenset(call.get("exclude", [])),
            )
            records = connector.locate(call["dataset"], criteria)
            return {
                "records": [
                    {
                        "key": r.key,
                        "values": dict(r.values),
                        "matched_fields": sorted(r.matched_fields),
                    }
                    for r in records
                ]
            }
        if operation == "erase":
            return {"outcomes": [self._erase_step(step) for step in call["steps"]]}
        if operation == "rectify":
            changed = connector.rectify(call["dataset"], call["keys"], call["changes"])
            return {"changed": changed}
        if operation == "files":
            listed = connector.export_files(call["dataset"], call["keys"])
            return {"files": [{"key": f.key, "name": f.name, "size": f.size} for f in listed]}
        for exported in connector.export_files(call["dataset"], [call["key"]]):
            if exported.name == call["name"]:
                with exported.open() as stream:
                    return stream.read()
        raise ConnectorError("no such file")

    def _erase_step(self, step: Mapping[str, Any]) -> dict[str, Any]:
        # The contract sends the erased values themselves: updates are plain changes.
        dataset = step["dataset"]
        deleted = self.connector.erase([ErasureStep(dataset, delete=tuple(step["delete"]))], _never)
        updated = sum(
            self.connector.rectify(dataset, [item["key"]], item["set"]) for item in step["update"]
        )
        redactions = tuple(
            Redaction(r["field"], tuple(r["keys"]), tuple(r["needles"]), r["replacement"])
            for r in step["redactions"]
        )
        redacted = self.connector.erase([ErasureStep(dataset, redactions=redactions)], _never)
        return {
            "dataset": dataset,
            "deleted": deleted[0].deleted,
            "updated": updated,
            "redacted": redacted[0].redacted,
        }


def _lowered(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by lower-case name: HTTP names are case-insensitive (urllib capitalizes)."""
    return {name.lower(): value for name, value in items}


def _handler(receiver: _Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            operation = self.path.lstrip("/")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if operation not in _OPERATIONS:
                self._send(404, b"{}", operation)
                return
            if not receiver.verified(operation, _lowered(self.headers.items()), body):
                self._send(401, b"{}", operation)
                return
            try:
                result = receiver.answer(operation, json.loads(body))
            except ConnectorError as exc:
                status = 503 if exc.kind is ErrorKind.UNAVAILABLE else 422
                self._send(status, json.dumps({"detail": exc.message}).encode(), operation)
                return
            if isinstance(result, bytes):
                self._send(200, result, operation, "application/octet-stream")
                return
            self._send(200, json.dumps(result, default=str).encode(), operation)

        def _send(
            self, status: int, body: bytes, operation: str, media: str = "application/json"
        ) -> None:
            timestamp = str(int(time.time()))
            request_id = self.headers.get(REQUEST_ID_HEADER, "")
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.send_header(TIMESTAMP_HEADER, timestamp)
            self.send_header(REQUEST_ID_HEADER, request_id)
            self.send_header(
                SIGNATURE_HEADER,
                sign(receiver.secret, "response", operation, timestamp, request_id, body),
            )
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: calls carry personal data, and tests read their own output."""

    return Handler


@contextmanager
def serve_webhook_receiver(
    connector: Connector, secret: bytes | None = None
) -> Iterator[tuple[str, bytes]]:
    """Serve the contract for ``connector`` on a free loopback port; yields (URL, secret)."""
    key = secret if secret is not None else secrets.token_bytes(32)
    receiver = _Receiver(connector, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", key
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
