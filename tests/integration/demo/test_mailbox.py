"""The demo mailbox behind the webhook contract, called by the real WebhookConnector.

The mailbox (personvern.demo.mailbox) is served by uvicorn on 127.0.0.1 in a thread and
reached over real HTTP: the connector speaks urllib, and the two sides sign and check
with separate code written from docs/webhook-contract.md, so they check each other.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from personvern.cli.demo import demo_app, mailbox_host
from personvern.connectors.port import (
    ConnectorResponseError,
    ConnectorUnavailableError,
    Criteria,
    ErasureStep,
    Redaction,
)
from personvern.connectors.registry import connector_for
from personvern.connectors.webhook import MASK, WebhookConnector, sign
from personvern.datamap.loader import load_datamap
from personvern.demo import DemoTargets, demo_environment, ground_truth, schema, seed_demo_company
from personvern.demo.errors import DemoError
from personvern.demo.generator import national_id_forms
from personvern.demo.identifiers import written_forms
from personvern.demo.mailbox import (
    MAX_CLOCK_SKEW_SECONDS,
    MAX_RECORDS,
    ROUTE_PREFIX,
    Mailbox,
    create_tables,
    serve_mailbox,
    signature,
)
from personvern.demo.mailbox import messages as messages_table
from personvern.demo.targets import targets_from_urls
from personvern.domain.datamap import ErasureStrategy, System
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.company import file_request

SECRET = "demo-mailbox-test-secret-0123456789abcdef"
CUSTOMERS = 200
SEED = 7
REFERENCE = date(2026, 3, 16)

Message = dict[str, Any]


# -- a real server -------------------------------------------------------------------------


class Served:
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@dataclass
class Box:
    """A served mailbox over its own copy of the demo's messages."""

    path: Path
    #: The base URL the connector is given.
    url: str
    system: System

    def connector(self, secret: str = SECRET) -> WebhookConnector:
        """The real webhook connector, pointed at this mailbox."""
        return WebhookConnector(self.system, self.url, secret.encode())

    def messages(self) -> dict[str, Message]:
        """Every message in the mailbox, read straight from SQLite."""
        return _read_messages(self.path)

    def post(
        self, operation: str, payload: object, *, timestamp: int | None = None, secret: str = SECRET
    ) -> tuple[int, dict[str, str], bytes]:
        """A hand-made signed call (signed with the connector's code, not the mailbox's)."""
        body = json.dumps(payload).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        request_id = secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json",
            "X-Personvern-Timestamp": stamp,
            "X-Personvern-Request-Id": request_id,
            "X-Personvern-Signature": sign(
                secret.encode(), "request", operation, stamp, request_id, body
            ),
        }
        return self.send(operation, body, headers)

    def send(
        self, operation: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """POST exactly these bytes and headers; the status, headers and body of the answer."""
        request = urllib.request.Request(
            f"{self.url}/{operation}", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, _lower(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, _lower(exc.headers.items()), exc.read()


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names in lower case (HTTP header names are case-insensitive)."""
    return {name.lower(): value for name, value in headers}


def _read_messages(path: Path) -> dict[str, Message]:
    conn = sqlite3.connect(path)
    try:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM messages").fetchall()
    finally:
        conn.close()
    return {row["message_id"]: dict(row) for row in rows}


# -- the seeded demo -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> DemoTargets:
    """The demo company seeded once into SQLite; tests that change data copy the mailbox."""
    targets = targets_from_urls(tmp_path_factory.mktemp("mailbox-company"))
    seed_demo_company(targets, customers=CUSTOMERS, seed=SEED, reference_date=REFERENCE)
    return targets


@pytest.fixture(scope="module")
def email_system() -> System:
    system = load_datamap(EXAMPLE_DATAMAP).datamap.system("email")
    assert system is not None
    return system


@pytest.fixture
def box(company: DemoTargets, email_system: System, tmp_path: Path) -> Iterator[Box]:
    """A mailbox over a fresh copy of the seeded messages, served on a free port."""
    path = tmp_path / "mailbox.sqlite"
    shutil.copyfile(company.mailbox_path, path)
    with serve_mailbox(path, SECRET) as url:
        yield Box(path, url, email_system)


@dataclass(frozen=True)
class Customer:
    """A demo customer's identities."""

    id: int
    email: str
    phone: str | None
    national_id: str | None

    @property
    def needles(self) -> list[str]:
        """What personvern searches free text for: e-mail, phone forms, national id forms."""
        needles = [self.email]
        if self.phone:
            needles += written_forms(self.phone)
        if self.national_id:
            needles += national_id_forms(self.national_id)
        return needles


def _customers(targets: DemoTargets) -> list[Customer]:
    engine = sa.create_engine(targets.url("crm"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.customers).order_by(schema.customers.c.id))
            return [Customer(r.id, r.email, r.phone, r.national_id) for r in rows]
    finally:
        engine.dispose()


def _sent_by(messages: dict[str, Message], email: str) -> set[str]:
    return {k for k, m in messages.items() if (m["sender"] or "").lower() == email}


def _mentioning(messages: dict[str, Message], needles: list[str]) -> set[str]:
    folded = [n.casefold() for n in needles]
    return {
        k for k, m in messages.items() if any(n in (m["body"] or "").casefold() for n in folded)
    }


def _first(customers: list[Customer], wanted: Callable[[Customer], bool]) -> Customer:
    found = next((c for c in customers if wanted(c)), None)
    assert found is not None, "the seeded demo has no such customer; raise CUSTOMERS"
    return found


def _keys(records: list[Any]) -> set[str]:
    return {str(r.key) for r in records}


# -- locate ----------------------------------------------------------------------------------


def test_locate_by_sender_ignores_case(box: Box, company: DemoTargets) -> None:
    messages = box.messages()
    customer = _first(
        _customers(company),
        lambda c: any(
            m["sender"].lower() == c.email and m["sender"] != c.email for m in messages.values()
        ),
    )
    connector = box.connector()

    found = connector.locate("messages", Criteria(exact={"sender": frozenset({customer.email})}))
    shouted = connector.locate(
        "messages", Criteria(exact={"sender": frozenset({customer.email.upper()})})
    )

    assert _sent_by(messages, customer.email) == _keys(found)
    assert _keys(found) == _keys(shouted)
    assert all(frozenset({"sender"}) == r.matched_fields for r in found)
    record = found[0]
    assert messages[str(record.key)]["sender"] == record.values["sender"]
    assert {"message_id", "sender", "recipients", "body", "sent_at"} == set(record.values)
    assert isinstance(record.values["sent_at"], str)
    assert "T" in record.values["sent_at"]  # ISO 8601, as the contract says


def test_locate_by_mention_finds_other_peoples_messages(box: Box, company: DemoTargets) -> None:
    messages = box.messages()
    # A customer mentioned, in another case than stored, in mail someone else sent.
    customer = _first(
        _customers(company),
        lambda c: any(
            c.email in m["body"].lower()
            and c.email not in m["body"]
            and m["sender"].lower() != c.email
            for m in messages.values()
        ),
    )

    found = box.connector().locate(
        "messages", Criteria(mentions={"body": frozenset({customer.email})})
    )

    assert _mentioning(messages, [customer.email]) == _keys(found)
    assert all(frozenset({"body"}) == r.matched_fields for r in found)
    assert any(messages[str(r.key)]["sender"].lower() != customer.email for r in found)


def test_locate_finds_phone_numbers_in_their_written_forms(box: Box, company: DemoTargets) -> None:
    messages = box.messages()
    customer = _first(
        _customers(company),
        lambda c: c.phone is not None and bool(_mentioning(messages, written_forms(c.phone))),
    )
    assert customer.phone is not None
    needles = frozenset(written_forms(customer.phone))

    found = box.connector().locate("messages", Criteria(mentions={"body": needles}))

    assert _mentioning(messages, list(needles)) == _keys(found)


def test_locate_by_either_and_exclude(box: Box, company: DemoTargets) -> None:
    messages = box.messages()
    customer = _first(
        _customers(company),
        lambda c: len(_sent_by(messages, c.email) | _mentioning(messages, c.needles)) >= 2,
    )
    criteria = Criteria(
        exact={"sender": frozenset({customer.email})},
        mentions={"body": frozenset(customer.needles)},
    )
    connector = box.connector()
    everything = _keys(connector.locate("messages", criteria))
    excluded = sorted(everything)[:1]

    rest = connector.locate(
        "messages",
        Criteria(exact=criteria.exact, mentions=criteria.mentions, exclude=frozenset(excluded)),
    )

    assert (
        _sent_by(messages, customer.email) | _mentioning(messages, customer.needles) == everything
    )
    assert everything - set(excluded) == _keys(rest)


def test_ground_truth_lists_exactly_what_the_mailbox_locates(
    box: Box, company: DemoTargets
) -> None:
    connector = box.connector()
    customers = _customers(company)
    with_mail = 0
    for customer in customers[:80]:
        truth = ground_truth(company, customer.id)["email.messages"]
        found = connector.locate(
            "messages",
            Criteria(
                exact={"sender": frozenset({customer.email})},
                mentions={"body": frozenset(customer.needles)},
            ),
        )
        assert sorted(truth) == sorted(_keys(found)), customer.id
        with_mail += bool(truth)
    # About three in ten customers have written; some more are mentioned.
    assert 15 <= with_mail <= 45


def test_ground_truth_lists_mail_the_customer_sent_or_is_mentioned_in(
    company: DemoTargets,
) -> None:
    messages = _read_messages(company.mailbox_path)
    customers = _customers(company)
    mentioned_only = 0
    for customer in customers:
        truth = set(ground_truth(company, customer.id)["email.messages"])
        sent = _sent_by(messages, customer.email)
        mentions = _mentioning(messages, customer.needles)
        assert sent | mentions == truth, customer.id
        mentioned_only += bool(mentions - sent)
    assert mentioned_only, "some customers appear only in others' mail"
    assert [] == ground_truth(company, 10_000_000)["email.messages"]


def test_the_sender_is_matched_through_its_index(company: DemoTargets) -> None:
    conn = sqlite3.connect(company.mailbox_path)
    try:
        indexes = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'"
        ).fetchall()
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE lower(sender) IN (?, ?)",
            ("a@example.no", "b@example.no"),
        ).fetchall()
        columns = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
    finally:
        conn.close()
    assert ("CREATE INDEX ix_messages_sender_lower ON messages (lower(sender))",) in indexes
    assert any("USING INDEX ix_messages_sender_lower" in row[-1] for row in plan)
    assert ["message_id", "sender", "recipients", "body", "sent_at"] == columns


def test_more_matches_than_the_contract_allows_are_refused_whole(
    email_system: System, tmp_path: Path
) -> None:
    path = tmp_path / "big.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        create_tables(conn)
        conn.execute(
            messages_table.insert(),
            [
                {"message_id": f"m-{n:05d}", "sender": "x@example.no", "body": "Hei"}
                for n in range(MAX_RECORDS + 5)
            ],
        )
    engine.dispose()
    with serve_mailbox(path, SECRET) as url:
        connector = WebhookConnector(email_system, url, SECRET.encode())
        everyone = Criteria(exact={"sender": frozenset({"X@example.no"})})
        with pytest.raises(ConnectorResponseError, match="HTTP 422"):
            connector.locate("messages", everyone)
        # Too many keys to bind in SQL: the mailbox leaves them out itself.
        excluded = frozenset(f"m-{n:05d}" for n in range(MAX_RECORDS + 1))
        rest = connector.locate("messages", Criteria(exact=everyone.exact, exclude=excluded))
        assert {f"m-{n:05d}" for n in range(MAX_RECORDS + 1, MAX_RECORDS + 5)} == _keys(rest)


# -- erase and rectify -------------------------------------------------------------------------


def _pseudonym(dataset: str, field: str, key: object) -> str:
    return f"pv_{dataset}_{field}_{key}"


def test_erase_deletes_redacts_and_is_idempotent(box: Box, company: DemoTargets) -> None:
    before = box.messages()
    customer = _first(
        _customers(company),
        lambda c: (
            bool(_sent_by(before, c.email))
            and bool(_mentioning(before, c.needles) - _sent_by(before, c.email))
        ),
    )
    own = sorted(_sent_by(before, customer.email))
    mentions = sorted(_mentioning(before, customer.needles) - set(own))
    step = ErasureStep(
        "messages",
        delete=tuple(own),
        redactions=(Redaction("body", tuple(mentions), tuple(customer.needles)),),
    )
    connector = box.connector()

    first = connector.erase([step], _pseudonym)
    after = box.messages()
    second = connector.erase([step], _pseudonym)

    assert (len(own), 0, len(mentions)) == (first[0].deleted, first[0].updated, first[0].redacted)
    assert (0, 0, 0) == (second[0].deleted, second[0].updated, second[0].redacted)
    assert after == box.messages()
    assert not set(own) & set(after)
    for key in mentions:
        body = after[key]["body"].casefold()
        assert not any(n.casefold() in body for n in customer.needles), key
        assert "[…]" in after[key]["body"]
        assert before[key]["sender"] == after[key]["sender"]
    untouched = set(before) - set(own) - set(mentions)
    assert {k: before[k] for k in untouched} == {k: after[k] for k in untouched}
    assert [] == connector.locate(
        "messages",
        Criteria(
            exact={"sender": frozenset({customer.email})},
            mentions={"body": frozenset(customer.needles)},
        ),
    )


def test_erase_updates_fields_leaves_nulls_and_counts_only_changes(box: Box) -> None:
    before = box.messages()
    keys = sorted(before)[:3]
    connector = box.connector()
    blank_body = ErasureStep(
        "messages", update=(keys[0],), update_fields={"body": ErasureStrategy.SET_NULL}
    )
    step = ErasureStep(
        "messages",
        update=tuple(keys),
        update_fields={
            "sender": ErasureStrategy.PSEUDONYMISE,
            "recipients": ErasureStrategy.MASK,
            "body": ErasureStrategy.MASK,
        },
    )

    assert 1 == connector.erase([blank_body], _pseudonym)[0].updated
    first = connector.erase([step], _pseudonym)[0]
    second = connector.erase([step], _pseudonym)[0]

    assert 3 == first.updated
    assert 0 == second.updated
    after = box.messages()
    for key in keys:
        assert _pseudonym("messages", "sender", key) == after[key]["sender"]
        assert MASK == after[key]["recipients"]
    assert after[keys[0]]["body"] is None  # already null: stays null, never masked
    assert [MASK, MASK] == [after[k]["body"] for k in keys[1:]]
    assert {k: v for k, v in before.items() if k not in keys} == {
        k: v for k, v in after.items() if k not in keys
    }


def test_steps_of_one_call_apply_in_order_in_one_transaction(box: Box) -> None:
    before = box.messages()
    gone, kept = sorted(before)[:2]
    steps = [
        ErasureStep("messages", delete=(gone,)),
        ErasureStep("messages", update=(gone, kept), update_fields={"body": ErasureStrategy.MASK}),
    ]

    outcomes = box.connector().erase(steps, _pseudonym)

    assert [(1, 0, 0), (0, 1, 0)] == [(o.deleted, o.updated, o.redacted) for o in outcomes]
    after = box.messages()
    assert gone not in after
    assert MASK == after[kept]["body"]


def test_rectify_changes_once(box: Box) -> None:
    key = sorted(box.messages())[0]
    connector = box.connector()
    changes = {"sender": "kari.nordmann@example.no", "sent_at": "2026-01-02T03:04:05"}

    assert 1 == connector.rectify("messages", [key], changes)
    assert 0 == connector.rectify("messages", [key], changes)
    assert 0 == connector.rectify("messages", ["m-no-such-message"], changes)
    message = box.messages()[key]
    assert "kari.nordmann@example.no" == message["sender"]
    assert message["sent_at"].startswith("2026-01-02 03:04:05")


# -- signatures --------------------------------------------------------------------------------


def test_a_wrong_secret_is_refused_with_401_and_changes_nothing(box: Box) -> None:
    before = box.messages()
    keys = sorted(before)[:5]
    wrong = box.connector(secret="another-secret-0123456789abcdefghij")

    with pytest.raises(ConnectorResponseError, match="HTTP 401"):
        wrong.erase([ErasureStep("messages", delete=tuple(keys))], _pseudonym)
    with pytest.raises(ConnectorResponseError, match="HTTP 401"):
        wrong.check()

    assert before == box.messages()


def test_a_body_changed_after_signing_is_refused(box: Box) -> None:
    before = box.messages()
    key = sorted(before)[0]
    signed = json.dumps({"steps": [{"dataset": "messages", "delete": [], "update": []}]})
    forged = json.dumps({"steps": [{"dataset": "messages", "delete": [key]}]}).encode()
    stamp, request_id = str(int(time.time())), secrets.token_hex(16)
    headers = {
        "Content-Type": "application/json",
        "X-Personvern-Timestamp": stamp,
        "X-Personvern-Request-Id": request_id,
        "X-Personvern-Signature": sign(
            SECRET.encode(), "request", "erase", stamp, request_id, signed.encode()
        ),
    }

    status, _headers, _body = box.send("erase", forged, headers)
    missing, _, _ = box.send("erase", forged, {"Content-Type": "application/json"})

    assert 401 == status
    assert 401 == missing
    assert before == box.messages()


# Seconds past the window, not one: the timestamp is whole seconds taken before the
# request is sent, so a skew of 301 reached the server as 299.x on a loaded machine.
@pytest.mark.parametrize("skew", [-(MAX_CLOCK_SKEW_SECONDS + 5), MAX_CLOCK_SKEW_SECONDS + 5, -3600])
def test_a_stale_or_future_timestamp_is_refused(box: Box, skew: int) -> None:
    before = box.messages()
    key = sorted(before)[0]

    status, _, _ = box.post(
        "erase",
        {"steps": [{"dataset": "messages", "delete": [key]}]},
        timestamp=int(time.time()) + skew,
    )

    assert 401 == status
    assert before == box.messages()


def test_a_timestamp_within_the_window_is_accepted(box: Box) -> None:
    status, _, body = box.post("check", {}, timestamp=int(time.time()) - 250)
    assert 200 == status
    assert {"status": "ok", "datasets": ["messages"]} == json.loads(body)


def test_a_replayed_request_is_refused(box: Box) -> None:
    body = b"{}"
    stamp, request_id = str(int(time.time())), secrets.token_hex(16)
    headers = {
        "Content-Type": "application/json",
        "X-Personvern-Timestamp": stamp,
        "X-Personvern-Request-Id": request_id,
        "X-Personvern-Signature": sign(
            SECRET.encode(), "request", "check", stamp, request_id, body
        ),
    }

    first, _, _ = box.send("check", body, headers)
    again, _, _ = box.send("check", body, headers)

    assert (200, 401) == (first, again)


def test_responses_are_signed_for_the_request_they_answer(box: Box) -> None:
    payload = {"dataset": "messages", "exact": {"sender": ["nobody@nowhere.example"]}}
    status, headers, body = box.post("locate", payload)

    assert 200 == status
    assert {"records": []} == json.loads(body)
    assert headers["content-type"].startswith("application/json")
    stamp = headers["x-personvern-timestamp"]
    request_id = headers["x-personvern-request-id"]
    assert abs(time.time() - int(stamp)) <= 5
    expected = sign(SECRET.encode(), "response", "locate", stamp, request_id, body)
    assert expected == headers["x-personvern-signature"]


def test_a_call_outside_the_contract_is_answered_422(box: Box) -> None:
    before = box.messages()
    unknown_dataset, _, _ = box.post("locate", {"dataset": "attachments", "exact": {}})
    unknown_field, _, _ = box.post(
        "erase",
        {"steps": [{"dataset": "messages", "update": [{"key": "m-1", "set": {"subject": None}}]}]},
    )
    primary_key, _, _ = box.post(
        "rectify", {"dataset": "messages", "keys": ["m-1"], "changes": {"message_id": "m-2"}}
    )
    unknown_key, _, _ = box.post("check", {"hello": 1})
    no_files, _, _ = box.post("files", {"dataset": "messages", "keys": ["m-1"]})

    assert [422, 422, 422, 422] == [unknown_dataset, unknown_field, primary_key, unknown_key]
    assert 404 == no_files
    assert before == box.messages()


def test_the_contracts_test_vector() -> None:
    secret = b"test-secret-please-replace-0123456789"
    request_id = "5f0c3b8e2a9d4c71b6e8f1a2c3d4e5f6"
    request = (
        b'{"dataset":"messages","exact":{"sender":["kari@example.no"]},"exclude":[],'
        b'"mentions":{"body":["kari@example.no"]}}'
    )
    response = b'{"records":[{"key":"m-1","values":{"sender":"Kari@Example.no"}}]}'

    assert "sha256=9b675bd9d64dcf3142dba3ab6eb5fdef313f9b815e3e9c0e5f710aebdbebcfe6" == signature(
        secret, "request", "locate", "1767225600", request_id, request
    )
    assert "sha256=c9dde9ce4304c4e8b49405f6da52d4f5cda66df8ed57eeb9d5bd3a588ffc1573" == signature(
        secret, "response", "locate", "1767225601", request_id, response
    )


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="shorter than 16 bytes"):
        Mailbox(tmp_path / "mailbox.sqlite", "too-short")


def test_a_missing_mailbox_database_is_an_outage(email_system: System, tmp_path: Path) -> None:
    with serve_mailbox(tmp_path / "never-seeded.sqlite", SECRET) as url:
        connector = WebhookConnector(email_system, url, SECRET.encode())
        with pytest.raises(ConnectorUnavailableError, match="HTTP 503"):
            connector.check()
    assert not (tmp_path / "never-seeded.sqlite").exists()


def test_a_home_with_odd_characters_in_its_path_works(
    company: DemoTargets, email_system: System, tmp_path: Path
) -> None:
    folder = tmp_path / "my demo #2 100%"
    folder.mkdir()
    shutil.copyfile(company.mailbox_path, folder / "mailbox.sqlite")
    with serve_mailbox(folder / "mailbox.sqlite", SECRET) as url:
        connector = WebhookConnector(email_system, url, SECRET.encode())
        connector.check()
        assert connector.locate("messages", Criteria(mentions={"body": frozenset({"Hei"})}))
    assert ["mailbox.sqlite"] == sorted(p.name for p in folder.iterdir())


# -- the demo's wiring --------------------------------------------------------------------------


def test_demo_environment_connects_email_to_the_mailbox(box: Box, company: DemoTargets) -> None:
    env = demo_environment(company, EXAMPLE_DATAMAP, mailbox_url=box.url, mailbox_secret=SECRET)

    assert box.url == env["PERSONVERN_M365_WEBHOOK_URL"]
    assert SECRET == env["PERSONVERN_M365_WEBHOOK_URL_SECRET"]
    connector = connector_for(box.system, env)
    connector.check()
    assert isinstance(connector, WebhookConnector)
    with pytest.raises(DemoError, match="secret"):
        demo_environment(company, EXAMPLE_DATAMAP, mailbox_url=box.url)


def test_the_served_demo_mounts_the_mailbox_without_an_api_token(
    company: DemoTargets, email_system: System, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, secret_key="test-secret-key-0123456789abcdef")
    app, mailbox = demo_app(settings, EXAMPLE_DATAMAP, company.mailbox_path, SECRET)
    served = Served(app)
    try:
        connector = WebhookConnector(email_system, f"{served.base}{ROUTE_PREFIX}", SECRET.encode())
        connector.check()  # no Authorization header: the signature is the credential
        found = connector.locate(
            "messages", Criteria(mentions={"body": frozenset({"nordicworkspace"})})
        )
        assert found == [] or all("body" in r.matched_fields for r in found)
        openapi = urllib.request.urlopen(f"{served.base}/api/v1/openapi.json", timeout=10)
        with openapi:
            assert ROUTE_PREFIX not in openapi.read().decode()
    finally:
        served.stop()
        mailbox.close()


def test_the_api_without_the_demo_has_no_mailbox(tmp_path: Path) -> None:
    from personvern.api.app import create_app

    settings = Settings(home=tmp_path, secret_key="test-secret-key-0123456789abcdef")
    paths = {getattr(route, "path", "") for route in create_app(settings, EXAMPLE_DATAMAP).routes}
    assert not any(path.startswith(ROUTE_PREFIX) for path in paths)


@pytest.mark.parametrize(
    ("listen", "called"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("localhost", "localhost"),
        ("::", "[::1]"),
        ("::1", "[::1]"),
    ],
)
def test_the_server_calls_its_mailbox_on_loopback(listen: str, called: str) -> None:
    assert called == mailbox_host(listen)


# -- a request through the engine -------------------------------------------------------------


@pytest.fixture
def fresh_company(tmp_path: Path) -> DemoTargets:
    """A demo company of its own, for a request that erases."""
    targets = targets_from_urls(tmp_path / "home")
    seed_demo_company(targets, customers=60, seed=SEED, reference_date=REFERENCE)
    return targets


def test_requests_reach_the_mailbox_and_complete(
    fresh_company: DemoTargets, email_system: System, tmp_path: Path
) -> None:
    with serve_mailbox(fresh_company.mailbox_path, SECRET) as url:
        environ = demo_environment(
            fresh_company, EXAMPLE_DATAMAP, mailbox_url=url, mailbox_secret=SECRET
        )
        settings = Settings(
            home=tmp_path,
            secret_key="test-secret-key-0123456789abcdef",  # type: ignore[arg-type]
            four_eyes="off",  # the engine is driven directly here, as after an approval
        )
        store = make_engine(settings)
        upgrade_to_head(store)
        engine = RequestEngine(
            settings=settings,
            datamap=load_datamap(EXAMPLE_DATAMAP).datamap,
            unit_of_work=unit_of_work_factory(make_session_factory(store)),
            environ=environ,
            today=lambda: REFERENCE,
        )
        messages = _read_messages(fresh_company.mailbox_path)
        customer = _first(
            _customers(fresh_company),
            lambda c: (
                bool(_sent_by(messages, c.email))
                and bool(_mentioning(messages, c.needles) - _sent_by(messages, c.email))
            ),
        )
        truth = ground_truth(fresh_company, customer.id)
        identities = [{"kind": "email", "value": customer.email}]

        access = engine.dry_run(file_request(engine, RequestType.ACCESS, identities))
        assert "email" not in access.unavailable
        part = access.dataset("email.messages")
        assert part is not None
        assert sorted(truth["email.messages"]) == sorted(str(k) for k in part.export)

        outcome = engine.run(file_request(engine, RequestType.ERASURE, identities))
        # Erased everywhere, the mailbox included; only telling recipients (Art. 19) is left.
        assert RequestState.PARTIALLY_COMPLETED == outcome.state, outcome.message
        assert outcome.plan is not None
        assert () == outcome.plan.manual_steps
        after = _read_messages(fresh_company.mailbox_path)
        assert not _sent_by(after, customer.email)
        assert not _mentioning(after, customer.needles)
        store.dispose()
