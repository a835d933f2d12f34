"""The webhook connector against a reference receiver: a real HTTP server on 127.0.0.1.

The receiver implements docs/webhook-contract.md on an in-memory mailbox, signing and
verifying with its own HMAC code (not the connector's), so a drift between the
connector and the documented contract fails here. Switches make it misbehave the ways
a hostile or broken system would: bad signatures, garbage, huge answers, errors,
silence.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from personvern.connectors.port import (
    Connector,
    ConnectorError,
    ConnectorNotConfiguredError,
    ConnectorResponseError,
    ConnectorUnavailableError,
    Criteria,
    ErasureStep,
    Key,
    Redaction,
)
from personvern.connectors.webhook import MASK, MAX_RECORDS, WebhookConnector, sign
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import Dataset, ErasureStrategy, System
from tests.conftest import EXAMPLE_DATAMAP, ROOT

SECRET = b"reference-receiver-secret-0123456789abcdef"
CONTRACT = "personvern-webhook-v1"
BASE_PATH = "/hooks/m365"
KARI = "kari.nordmann@example.no"

MAILBOX: dict[Key, dict[str, Any]] = {
    "m-1": {
        "message_id": "m-1",
        "sender": "Kari.Nordmann@Example.NO",
        "recipients": "support@nws.example",
        "body": "Hello, my number is +47 912 34 567.",
        "sent_at": "2026-03-01T09:00:00",
    },
    "m-2": {
        "message_id": "m-2",
        "sender": "ola@example.no",
        "recipients": "support@nws.example",
        "body": f"Please add {KARI.upper()} to the contract.",
        "sent_at": "2026-03-02T10:00:00",
    },
    "m-3": {
        "message_id": "m-3",
        "sender": "per@example.no",
        "recipients": KARI,
        "body": "Nothing about anyone.",
        "sent_at": "2026-03-03T11:00:00",
    },
    # An integer key: it must come back as an integer, not as "5".
    5: {
        "message_id": 5,
        "sender": KARI,
        "recipients": "billing@nws.example",
        "body": "Second mail.",
        "sent_at": "2026-03-04T12:00:00",
    },
}
ATTACHMENTS: dict[tuple[Key, str], bytes] = {
    ("a-1", "contract.pdf"): b"%PDF-1.4 contract " * 1000,
    ("a-2", "scan.pdf"): b"%PDF-1.4 scan",
}


def receiver_signature(
    secret: bytes, direction: str, operation: str, timestamp: str, request_id: str, body: bytes
) -> str:
    """The signature as docs/webhook-contract.md defines it, written out independently."""
    message = f"{CONTRACT}.{direction}.{operation}.{timestamp}.{request_id}.".encode() + body
    return "sha256=" + hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Reply:
    """One answer of the receiver, before it is sent (tamper hooks may rewrite it)."""

    operation: str
    request_id: str
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    timestamp: str = ""
    signature: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    #: Leave Content-Length out and end the body by closing the connection.
    no_length: bool = False

    def signed(self, secret: bytes = SECRET, direction: str = "response") -> Reply:
        """The reply with a fresh timestamp (unless set) and its signature."""
        timestamp = self.timestamp or str(int(time.time()))
        signature = receiver_signature(
            secret, direction, self.operation, timestamp, self.request_id, self.body
        )
        return replace(self, timestamp=timestamp, signature=signature)


def json_body(payload: Any) -> bytes:
    """A JSON body as the receiver writes it."""
    return json.dumps(payload).encode()


@dataclass
class Receiver:
    """The reference receiver's state: a mailbox, what it was asked, and its switches."""

    url: str = ""
    messages: dict[Key, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(MAILBOX))
    attachments: dict[tuple[Key, str], bytes] = field(default_factory=lambda: dict(ATTACHMENTS))
    datasets: list[str] = field(default_factory=lambda: ["messages", "attachments"])
    #: Verified requests: (operation, parsed body).
    calls: list[tuple[str, Any]] = field(default_factory=list)
    rejected: int = 0
    #: Rewrites every reply before it is sent (misbehaviour).
    tamper: Callable[[Reply], Reply] | None = None
    #: Seconds to wait before answering; trickle sends the body a byte at a time.
    delay: float = 0.0
    trickle: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[BaseException] = field(default_factory=list)

    # -- the contract on a mailbox -----------------------------------------------------

    def answer(self, operation: str, body: dict[str, Any]) -> Any:
        """The JSON answer to a verified request."""
        with self.lock:
            if operation == "check":
                return {"status": "ok", "datasets": self.datasets}
            handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
                "locate": self.locate,
                "erase": self.erase,
                "rectify": self.rectify,
                "files": self.files,
            }
            return handlers[operation](body)

    def locate(self, body: dict[str, Any]) -> dict[str, Any]:
        records = []
        excluded = set(body["exclude"])
        for key, message in self.messages.items():
            if key in excluded:
                continue
            matched = [
                name
                for name, values in body["exact"].items()
                if str(message.get(name)).casefold() in {str(v).casefold() for v in values}
            ]
            matched += [
                name
                for name, needles in body["mentions"].items()
                if any(n.casefold() in str(message.get(name, "")).casefold() for n in needles)
            ]
            if matched:
                records.append({"key": key, "values": message, "matched_fields": matched})
        return {"records": records}

    def erase(self, body: dict[str, Any]) -> dict[str, Any]:
        outcomes = []
        for step in body["steps"]:
            deleted = sum(1 for key in step["delete"] if self.messages.pop(key, None))
            updated = 0
            for update in step["update"]:
                message = self.messages.get(update["key"])
                if message is None:
                    continue
                new = {
                    name: value if message.get(name) is not None else None
                    for name, value in update["set"].items()
                }
                if any(message.get(name) != value for name, value in new.items()):
                    message.update(new)
                    updated += 1
            redacted = set()
            for redaction in step["redactions"]:
                needles = sorted(redaction["needles"], key=len, reverse=True)
                pattern = re.compile("|".join(map(re.escape, needles)), re.IGNORECASE)
                for key in redaction["keys"]:
                    message = self.messages.get(key)
                    text = message.get(redaction["field"]) if message else None
                    if message is not None and isinstance(text, str):
                        # Escaped, so the replacement is taken literally (no \\1).
                        replacement = str(redaction["replacement"]).replace("\\", "\\\\")
                        new_text = pattern.sub(replacement, text)
                        if new_text != text:
                            message[redaction["field"]] = new_text
                            redacted.add(key)
            outcomes.append(
                {
                    "dataset": step["dataset"],
                    "deleted": deleted,
                    "updated": updated,
                    "redacted": len(redacted),
                }
            )
        return {"outcomes": outcomes}

    def rectify(self, body: dict[str, Any]) -> dict[str, Any]:
        changed = 0
        for key in body["keys"]:
            message = self.messages.get(key)
            if message is not None and any(message.get(n) != v for n, v in body["changes"].items()):
                message.update(body["changes"])
                changed += 1
        return {"changed": changed}

    def files(self, body: dict[str, Any]) -> dict[str, Any]:
        asked = set(body["keys"])
        return {
            "files": [
                {"key": key, "name": name, "size": len(content)}
                for (key, name), content in self.attachments.items()
                if key in asked
            ]
        }


def make_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    """The request handler of the reference receiver."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            operation = self.path.removeprefix(BASE_PATH + "/")
            timestamp = self.headers.get("X-Personvern-Timestamp", "")
            request_id = self.headers.get("X-Personvern-Request-Id", "")
            expected = receiver_signature(SECRET, "request", operation, timestamp, request_id, body)
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
            if not self.path.startswith(BASE_PATH + "/") or not (
                fresh
                and hmac.compare_digest(expected, self.headers.get("X-Personvern-Signature", ""))
            ):
                receiver.rejected += 1
                self.send_error(401)
                return
            payload = json.loads(body)
            receiver.calls.append((operation, payload))
            if operation == "files/content":
                content = receiver.attachments[(payload["key"], payload["name"])]
                reply = Reply(operation, request_id, body=content, content_type="application/pdf")
            else:
                answer = receiver.answer(operation, payload)
                reply = Reply(operation, request_id, body=json_body(answer))
            reply = reply.signed()
            if receiver.tamper is not None:
                reply = receiver.tamper(reply)
            if receiver.delay:
                receiver.release.wait(receiver.delay)
            self.send(reply)

        def send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if not reply.no_length:
                self.send_header("Content-Length", str(len(reply.body)))
            if reply.timestamp:
                self.send_header("X-Personvern-Timestamp", reply.timestamp)
            if reply.signature is not None:
                self.send_header("X-Personvern-Signature", reply.signature)
            for name, value in reply.extra_headers:
                self.send_header(name, value)
            self.end_headers()
            if receiver.trickle:
                for byte in reply.body:
                    if receiver.release.wait(0.05):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            else:
                self.wfile.write(reply.body)

    return Handler


class Server(ThreadingHTTPServer):
    """The receiver's server; errors in handlers are kept for the test to inspect."""

    daemon_threads = True
    receiver: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        if error is not None:
            self.receiver.errors.append(error)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The reference receiver, serving on a free port of 127.0.0.1 for one test."""
    state = Receiver()
    server = Server(("127.0.0.1", 0), make_handler(state))
    server.receiver = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
    # A client that gave up (timeouts) leaves the handler writing to a closed socket.
    unexpected = [e for e in state.errors if not isinstance(e, ConnectionError)]
    assert [] == unexpected


@pytest.fixture(scope="module")
def email() -> System:
    """The example company's Microsoft 365 mail system, reached through the contract."""
    system = load_datamap(EXAMPLE_DATAMAP).datamap.system("email")
    assert system is not None
    return system


@pytest.fixture
def with_attachments(email: System) -> System:
    """The mail system with a file dataset, for the files operations."""
    attachments = Dataset.model_validate(
        {
            "name": "attachments",
            "subjects": ["customer"],
            "files": {"pattern": "*", "content_category": "user.content"},
            "fields": [{"name": "attachment_id", "primary_key": True}, {"name": "message_id"}],
        }
    )
    return email.model_copy(update={"datasets": [*email.datasets, attachments]})


@pytest.fixture
def connector(email: System, receiver: Receiver) -> WebhookConnector:
    """A connector on the mail system, pointed at the reference receiver."""
    return WebhookConnector(email, receiver.url, SECRET, timeout=2.0)


def pseudonymise(dataset: str, field: str, key: Key) -> str:
    """A stand-in for the engine's keyed pseudonymiser."""
    return "pv-" + hashlib.sha256(f"{dataset}/{field}/{key}".encode()).hexdigest()[:24]


KARI_CRITERIA = Criteria(
    exact={"sender": frozenset({KARI})},
    mentions={"body": frozenset({KARI, "912 34 567"})},
)


# -- happy paths -----------------------------------------------------------------------


def test_check_agrees_on_signatures_and_datasets(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    connector.check()
    assert [("check", {})] == receiver.calls
    assert 0 == receiver.rejected


def test_locate_returns_declared_fields_and_keeps_key_types(
    connector: WebhookConnector, receiver: Receiver, email: System
) -> None:
    port: Connector = connector
    found = port.locate("messages", KARI_CRITERIA)

    assert {"m-1": {"sender", "body"}, "m-2": {"body"}, 5: {"sender"}} == {
        r.key: set(r.matched_fields) for r in found
    }
    declared = [f.name for f in email.datasets[0].fields]
    for record in found:
        assert {n: MAILBOX[record.key][n] for n in declared} == dict(record.values)
    assert [
        (
            "locate",
            {
                "dataset": "messages",
                "exact": {"sender": [KARI]},
                "mentions": {"body": sorted([KARI, "912 34 567"])},
                "exclude": [],
            },
        )
    ] == receiver.calls
    assert 1 == connector.statements_issued


def test_locate_excludes_keys_even_when_the_receiver_does_not(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    def ignore_exclude(reply: Reply) -> Reply:
        everything = [{"key": k, "values": v} for k, v in MAILBOX.items()]
        return replace(reply, body=json_body({"records": everything}), timestamp="").signed()

    criteria = Criteria(exact={"sender": frozenset({KARI})}, exclude=frozenset({"m-1"}))
    honest = connector.locate("messages", criteria)
    receiver.tamper = ignore_exclude
    careless = connector.locate("messages", criteria)

    assert [5] == [r.key for r in honest]
    # Without matched_fields in the answer, the connector works them out itself, and
    # the records that match nothing it asked for are ignored, not handed over.
    assert {5: frozenset({"sender"})} == {r.key: r.matched_fields for r in careless}
    assert 2 == connector.unmatched_records


def test_undeclared_fields_are_dropped_and_counted(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    def overshare(reply: Reply) -> Reply:
        answer = json.loads(reply.body)
        for record in answer["records"]:
            record["values"]["folder"] = "Inbox/Private"
        return replace(reply, body=json_body(answer), timestamp="").signed()

    receiver.tamper = overshare
    found = connector.locate("messages", Criteria(exact={"sender": frozenset({KARI})}))

    assert 2 == len(found)
    assert all("folder" not in r.values for r in found)
    assert 2 == connector.dropped_fields


def test_erase_deletes_updates_and_redacts_once(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    step = ErasureStep(
        "messages",
        delete=("m-1",),
        update=(5,),
        update_fields={
            "sender": ErasureStrategy.PSEUDONYMISE,
            "recipients": ErasureStrategy.MASK,
            "body": ErasureStrategy.SET_NULL,
            "sent_at": ErasureStrategy.KEEP,
        },
        redactions=(Redaction("body", ("m-2",), (KARI,)),),
    )

    first = connector.erase([step], pseudonymise)
    second = connector.erase([step], pseudonymise)

    assert (1, 1, 1) == (first[0].deleted, first[0].updated, first[0].redacted)
    assert (0, 0, 0) == (second[0].deleted, second[0].updated, second[0].redacted)
    assert "m-1" not in receiver.messages
    assert {
        **MAILBOX[5],
        "sender": pseudonymise("messages", "sender", 5),
        "recipients": MASK,
        "body": None,
    } == receiver.messages[5]
    assert "Please add […] to the contract." == receiver.messages["m-2"]["body"]
    assert MAILBOX["m-3"] == receiver.messages["m-3"]
    sent = receiver.calls[0][1]["steps"][0]
    assert [
        {
            "key": 5,
            "set": {
                "sender": pseudonymise("messages", "sender", 5),
                "recipients": MASK,
                "body": None,
            },
        }
    ] == sent["update"]


def test_empty_steps_are_answered_without_a_call(connector: WebhookConnector) -> None:
    outcomes = connector.erase([ErasureStep("messages")], pseudonymise)
    assert [("messages", 0, 0, 0)] == [
        (o.dataset, o.deleted, o.updated, o.redacted) for o in outcomes
    ]
    assert [] == connector.locate("messages", Criteria())
    assert 0 == connector.statements_issued


def test_rectify_changes_once(connector: WebhookConnector, receiver: Receiver) -> None:
    changes = {"recipients": "kari@nordmann.example"}
    first = connector.rectify("messages", ["m-3"], changes)
    second = connector.rectify("messages", ["m-3"], changes)
    assert (1, 0) == (first, second)
    assert "kari@nordmann.example" == receiver.messages["m-3"]["recipients"]
    with pytest.raises(ConnectorError, match="primary key"):
        connector.rectify("messages", ["m-3"], {"message_id": "m-9"})


def test_files_are_listed_and_fetched_with_verified_bytes(
    with_attachments: System, receiver: Receiver
) -> None:
    connector = WebhookConnector(with_attachments, receiver.url, SECRET, timeout=2.0)
    connector.check()
    exported = list(connector.export_files("attachments", ["a-1", "a-2", "a-3"]))

    assert [("a-1", "contract.pdf"), ("a-2", "scan.pdf")] == [(f.key, f.name) for f in exported]
    for file in exported:
        with file.open() as handle:
            assert ATTACHMENTS[(file.key, file.name)] == handle.read()
        assert len(ATTACHMENTS[(file.key, file.name)]) == file.size
        assert "application/octet-stream" == file.media_type
    assert [] == list(connector.export_files("messages", ["m-1"]))


# -- hostile answers -------------------------------------------------------------------


def resigned(body: bytes) -> Callable[[Reply], Reply]:
    """A tamper hook replacing the answer's body, correctly signed."""
    return lambda reply: replace(reply, body=body, timestamp="").signed()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(
            lambda r: replace(r, body=r.body.replace(b"m-1", b"m-9")),
            "invalid signature",
            id="body changed after signing",
        ),
        pytest.param(lambda r: replace(r, signature=None), "without a signature", id="unsigned"),
        pytest.param(
            lambda r: replace(r, signature="sha256=" + "0" * 64), "invalid signature", id="forged"
        ),
        pytest.param(
            lambda r: r.signed(secret=b"some-other-secret-0123456789"),
            "invalid signature",
            id="other secret",
        ),
        pytest.param(
            lambda r: replace(r, timestamp=str(int(time.time()) - 600)).signed(),
            "stale",
            id="stale timestamp",
        ),
        pytest.param(
            lambda r: replace(r, timestamp="", request_id="0" * 32).signed(),
            "invalid signature",
            id="answer to another request",
        ),
        pytest.param(
            lambda r: replace(r, timestamp="").signed(direction="request"),
            "invalid signature",
            id="a request reflected as response",
        ),
        pytest.param(
            lambda r: replace(r, timestamp="soon").signed(),
            "timestamp",
            id="timestamp not a number",
        ),
    ],
)
def test_unsigned_or_wrongly_signed_answers_are_refused(
    connector: WebhookConnector,
    receiver: Receiver,
    tamper: Callable[[Reply], Reply],
    message: str,
) -> None:
    receiver.tamper = tamper
    with pytest.raises(ConnectorResponseError, match=message):
        connector.locate("messages", KARI_CRITERIA)


def too_many_records() -> bytes:
    """One record more than the contract allows."""
    records = [{"key": i, "values": {"sender": KARI}} for i in range(MAX_RECORDS + 1)]
    return json_body({"records": records})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>Login required</html>", id="not JSON"),
        pytest.param(b"", id="empty"),
        pytest.param(json_body([]), id="a list"),
        pytest.param(json_body({"rows": []}), id="unknown envelope"),
        pytest.param(json_body({"records": [], "next": "x"}), id="extra key"),
        pytest.param(json_body({"records": [{"key": 1.5, "values": {}}]}), id="float key"),
        pytest.param(json_body({"records": [{"key": True, "values": {}}]}), id="bool key"),
        pytest.param(json_body({"records": [{"key": "", "values": {}}]}), id="empty key"),
        pytest.param(json_body({"records": [{"key": 2**64, "values": {}}]}), id="huge key"),
        pytest.param(json_body({"records": [{"key": "k"}]}), id="no values"),
        pytest.param(
            json_body({"records": [{"key": "k", "values": {"body": {"nested": 1}}}]}),
            id="nested value",
        ),
        pytest.param(b'{"records": [{"key": "k", "values": {"body": NaN}}]}', id="NaN"),
        pytest.param(
            json_body({"records": [{"key": "k", "values": {}}, {"key": "k", "values": {}}]}),
            id="duplicate key",
        ),
        pytest.param(too_many_records(), id="10,001 records"),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deeply nested"),
    ],
)
def test_answers_outside_the_contract_are_refused(
    connector: WebhookConnector, receiver: Receiver, body: bytes
) -> None:
    receiver.tamper = resigned(body)
    with pytest.raises(ConnectorResponseError):
        connector.locate("messages", KARI_CRITERIA)


def test_a_json_answer_must_say_it_is_json(connector: WebhookConnector, receiver: Receiver) -> None:
    receiver.tamper = lambda r: replace(r, content_type="text/html")
    with pytest.raises(ConnectorResponseError, match="application/json"):
        connector.check()


@pytest.mark.parametrize("no_length", [False, True], ids=["announced", "unannounced"])
def test_oversized_answers_are_refused(email: System, receiver: Receiver, no_length: bool) -> None:
    connector = WebhookConnector(email, receiver.url, SECRET, max_response_bytes=64 * 1024)
    padding = "x" * (100 * 1024)
    big = json_body({"records": [{"key": "k", "values": {"body": padding}}]})
    receiver.tamper = lambda r: replace(resigned(big)(r), no_length=no_length)
    with pytest.raises(ConnectorResponseError, match="more than 65536 bytes"):
        connector.locate("messages", KARI_CRITERIA)


@pytest.mark.parametrize(
    "outcomes",
    [
        pytest.param([], id="none"),
        pytest.param(
            [{"dataset": "messages", "deleted": 0, "updated": 0, "redacted": 0}] * 2, id="too many"
        ),
        pytest.param(
            [{"dataset": "other", "deleted": 0, "updated": 0, "redacted": 0}], id="wrong dataset"
        ),
        pytest.param(
            [{"dataset": "messages", "deleted": 2, "updated": 0, "redacted": 0}],
            id="more deleted than asked",
        ),
        pytest.param(
            [{"dataset": "messages", "deleted": -1, "updated": 0, "redacted": 0}], id="negative"
        ),
        pytest.param(
            [{"dataset": "messages", "deleted": "1", "updated": 0, "redacted": 0}],
            id="a string count",
        ),
    ],
)
def test_erasure_outcomes_that_do_not_fit_are_refused(
    connector: WebhookConnector, receiver: Receiver, outcomes: list[dict[str, Any]]
) -> None:
    receiver.tamper = resigned(json_body({"outcomes": outcomes}))
    with pytest.raises(ConnectorResponseError):
        connector.erase([ErasureStep("messages", delete=("m-1",))], pseudonymise)


def test_rectify_counts_above_the_keys_are_refused(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    receiver.tamper = resigned(json_body({"changed": 3}))
    with pytest.raises(ConnectorResponseError):
        connector.rectify("messages", ["m-3"], {"recipients": "x@example.no"})


@pytest.mark.parametrize(
    "files",
    [
        pytest.param([{"key": "a-9", "name": "x.pdf", "size": 1}], id="key not asked"),
        pytest.param([{"key": "a-1", "name": "../x.pdf", "size": 1}], id="path"),
        pytest.param([{"key": "a-1", "name": "..", "size": 1}], id="dot dot"),
        pytest.param([{"key": "a-1", "name": "x\n.pdf", "size": 1}], id="control character"),
        pytest.param([{"key": "a-1", "name": "x.pdf", "size": 2**40}], id="too large"),
    ],
)
def test_file_listings_outside_the_contract_are_refused(
    with_attachments: System, receiver: Receiver, files: list[dict[str, Any]]
) -> None:
    connector = WebhookConnector(with_attachments, receiver.url, SECRET)
    receiver.tamper = resigned(json_body({"files": files}))
    with pytest.raises(ConnectorResponseError):
        list(connector.export_files("attachments", ["a-1"]))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(
            lambda r: replace(r, body=r.body[:-1] + b"!"), "invalid signature", id="altered"
        ),
        pytest.param(lambda r: resigned(r.body[:10])(r), "cut short", id="short"),
    ],
)
def test_file_content_is_verified_before_it_is_handed_over(
    with_attachments: System,
    receiver: Receiver,
    tamper: Callable[[Reply], Reply],
    message: str,
) -> None:
    connector = WebhookConnector(with_attachments, receiver.url, SECRET)
    file = next(iter(connector.export_files("attachments", ["a-2"])))
    receiver.tamper = lambda r: tamper(r) if r.operation == "files/content" else r
    with pytest.raises(ConnectorResponseError, match=message):
        file.open()


# -- failures of the other side ----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_server_errors_and_slow_down_mean_unavailable(
    connector: WebhookConnector, receiver: Receiver, status: int
) -> None:
    receiver.tamper = lambda r: replace(r, status=status)
    with pytest.raises(ConnectorUnavailableError, match=f"HTTP {status}") as caught:
        connector.locate("messages", KARI_CRITERIA)
    assert "email" == caught.value.system


@pytest.mark.parametrize("status", [201, 204, 400, 403, 404, 422])
def test_other_statuses_break_the_contract(
    connector: WebhookConnector, receiver: Receiver, status: int
) -> None:
    receiver.tamper = lambda r: replace(r, status=status, body=b"" if status == 204 else r.body)
    with pytest.raises(ConnectorResponseError, match=f"HTTP {status}"):
        connector.locate("messages", KARI_CRITERIA)


def test_redirects_are_not_followed(connector: WebhookConnector, receiver: Receiver) -> None:
    elsewhere = receiver.url + "/../elsewhere"
    receiver.tamper = lambda r: replace(r, status=307, extra_headers=(("Location", elsewhere),))
    with pytest.raises(ConnectorResponseError, match="redirect"):
        connector.erase([ErasureStep("messages", delete=("m-1",))], pseudonymise)
    assert ["erase"] == [operation for operation, _ in receiver.calls]


def test_a_wrong_secret_is_rejected_by_the_receiver_and_changes_nothing(
    email: System, receiver: Receiver
) -> None:
    connector = WebhookConnector(email, receiver.url, b"not-the-shared-secret-at-all")
    with pytest.raises(ConnectorResponseError, match="HTTP 401"):
        connector.erase([ErasureStep("messages", delete=("m-1",))], pseudonymise)
    assert 1 == receiver.rejected
    assert MAILBOX == receiver.messages


def test_a_system_that_is_down_is_unavailable(email: System) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe is closed.
    connector = WebhookConnector(email, f"http://127.0.0.1:{port}/hooks", SECRET, timeout=2.0)
    with pytest.raises(ConnectorUnavailableError, match="refused the connection"):
        connector.check()


def test_a_silent_system_times_out(email: System, receiver: Receiver) -> None:
    receiver.delay = 5.0
    connector = WebhookConnector(email, receiver.url, SECRET, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ConnectorUnavailableError, match="timed out"):
        connector.check()
    assert time.monotonic() - started < 2.0


def test_a_trickling_answer_runs_into_the_deadline(email: System, receiver: Receiver) -> None:
    receiver.trickle = True
    connector = WebhookConnector(email, receiver.url, SECRET, timeout=0.4)
    started = time.monotonic()
    with pytest.raises(ConnectorUnavailableError, match=r"longer than 0\.4 s"):
        connector.locate("messages", KARI_CRITERIA)
    assert time.monotonic() - started < 2.0


def test_check_refuses_a_receiver_missing_a_declared_dataset(
    with_attachments: System, receiver: Receiver
) -> None:
    receiver.datasets = ["messages"]
    connector = WebhookConnector(with_attachments, receiver.url, SECRET)
    with pytest.raises(ConnectorResponseError, match="attachments"):
        connector.check()


# -- configuration and the engine's mistakes ---------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://bridge.example/pv", "plain http"),
        ("ftp://bridge.example/pv", "not an http"),
        ("https://user:pw@bridge.example/pv", "credentials"),
        ("https://bridge.example/pv?token=x", "query"),
        ("bridge.example", "not an http"),
    ],
)
def test_unusable_urls_are_refused(email: System, url: str, message: str) -> None:
    with pytest.raises(ConnectorNotConfiguredError, match=message):
        WebhookConnector(email, url, SECRET)


def test_acceptable_urls_and_secrets(email: System) -> None:
    WebhookConnector(email, "https://bridge.example/pv/", SECRET)
    WebhookConnector(email, "http://localhost:8080", SECRET)
    WebhookConnector(email, "http://[::1]:8080/pv", SECRET)
    WebhookConnector(email, "http://bridge:8080/pv", SECRET, allow_plain_http=True)
    with pytest.raises(ConnectorNotConfiguredError, match="shorter than 16 bytes"):
        WebhookConnector(email, "https://bridge.example/pv", b"short")
    crm = load_datamap(EXAMPLE_DATAMAP).datamap.system("crm")
    assert crm is not None
    with pytest.raises(ValueError, match="not webhook"):
        WebhookConnector(crm, "https://bridge.example/pv", SECRET)


def test_undeclared_datasets_and_fields_never_leave_personvern(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    with pytest.raises(ConnectorError, match="not a dataset"):
        connector.locate("calendar", KARI_CRITERIA)
    with pytest.raises(ConnectorError, match="declares no field subject"):
        connector.locate("messages", Criteria(mentions={"subject": frozenset({KARI})}))
    with pytest.raises(ConnectorError, match="delete"):
        connector.erase(
            [
                ErasureStep(
                    "messages", update=("m-1",), update_fields={"body": ErasureStrategy.DELETE_ROW}
                )
            ],
            pseudonymise,
        )
    assert [] == receiver.calls


def test_the_documented_test_vector_is_what_the_connector_signs() -> None:
    document = (ROOT / "docs" / "webhook-contract.md").read_text(encoding="utf-8")
    secret = b"test-secret-please-replace-0123456789"
    request_id = "5f0c3b8e2a9d4c71b6e8f1a2c3d4e5f6"
    request = (
        '{"dataset":"messages","exact":{"sender":["kari@example.no"]},"exclude":[],'
        '"mentions":{"body":["kari@example.no"]}}'
    )
    response = '{"records":[{"key":"m-1","values":{"sender":"Kari@Example.no"}}]}'
    signed_request = sign(secret, "request", "locate", "1767225600", request_id, request.encode())
    signed_response = sign(
        secret, "response", "locate", "1767225601", request_id, response.encode()
    )
    for text in (request, response, signed_request, signed_response):
        assert text in document
    assert signed_request == receiver_signature(
        secret, "request", "locate", "1767225600", request_id, request.encode()
    )


def test_the_connector_signs_requests_as_documented(
    connector: WebhookConnector, receiver: Receiver
) -> None:
    # The receiver checks with its own HMAC code; a single rejection would fail the call.
    connector.check()
    connector.locate("messages", KARI_CRITERIA)
    connector.rectify("messages", ["m-3"], {"recipients": "x@example.no"})
    assert ["check", "locate", "rectify"] == [operation for operation, _ in receiver.calls]
    assert 0 == receiver.rejected
