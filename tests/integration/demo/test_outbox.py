"""The demo outbox: a real SMTP server on 127.0.0.1 keeping mail as .eml files, and its reader.

Messages go in over real SMTP (smtplib, and personvern's own SmtpMailer) and are read
back through the FastAPI router, which answers loopback callers only.
"""

from __future__ import annotations

import smtplib
import socket
import sqlite3
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.problems import install_problem_handlers
from personvern.cli.demo import demo_app
from personvern.demo.outbox import (
    OUTBOX_PREFIX,
    Outbox,
    OutboxError,
    OutboxServer,
    is_loopback_host,
    outbox_folder,
    outbox_router,
    serve_outbox,
)
from personvern.mail.smtp import SmtpMailer
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP

LOCAL = ("127.0.0.1", 50000)
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OutboxServer]:
    """The outbox SMTP server on a free port, storing under <tmp>/home/demo/outbox."""
    with serve_outbox(outbox_folder(tmp_path / "home")) as running:
        yield running


def _client(outbox: Outbox, client: tuple[str, int] = LOCAL, base: str = BASE) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(outbox_router(outbox))
    return TestClient(app, base_url=base, client=client)


def _send(server: OutboxServer, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "privacy@example.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.send_message(message)


def test_a_message_sent_over_smtp_is_listed_with_its_body(server: OutboxServer) -> None:
    _send(server, "kari@example.test", "Your code", "Hello,\n\nYour code is: 123456\n")

    listed = _client(server.outbox).get(OUTBOX_PREFIX)

    assert 200 == listed.status_code
    [message] = listed.json()
    assert {"id", "from", "to", "subject", "received_at", "body"} == set(message)
    assert "kari@example.test" == message["to"]
    assert "privacy@example.test" == message["from"]
    assert "Your code" == message["subject"]
    assert "Hello,\n\nYour code is: 123456\n" == message["body"]
    shown = _client(server.outbox).get(f"{OUTBOX_PREFIX}/{message['id']}")
    assert 200 == shown.status_code
    assert shown.headers["content-type"].startswith("text/plain")
    assert "To: kari@example.test\n" in shown.text
    assert shown.text.endswith("\n\nHello,\n\nYour code is: 123456\n")


def test_personverns_mailer_delivers_non_ascii_mail_intact(server: OutboxServer) -> None:
    mailer = SmtpMailer(host=server.host, port=server.port, sender="personvern@localhost")

    body = "Koden din er: 654321\nHilsen Ærlig Øst\n"

    mailer.send("åse@eksempel.no", "Bekreft forespørselen", body)

    [message] = _client(server.outbox).get(OUTBOX_PREFIX).json()
    assert "åse@eksempel.no" == message["to"]
    assert "Bekreft forespørselen" == message["subject"]
    assert body == message["body"]


def test_messages_are_newest_first_and_only_the_last_are_kept(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox", keep=3)
    for n in range(5):
        outbox.store(f"To: n{n}@example.test\r\nSubject: {n}\r\n\r\nbody {n}\r\n".encode())

    listed = _client(outbox).get(OUTBOX_PREFIX).json()

    assert ["4", "3", "2"] == [m["subject"] for m in listed]
    assert 3 == len(list((tmp_path / "outbox").glob("*.eml")))
    assert ["4"] == [m["subject"] for m in _client(outbox).get(f"{OUTBOX_PREFIX}?limit=1").json()]
    assert sorted(m["id"] for m in listed) == [p.stem for p in sorted(outbox.folder.iterdir())]


def test_the_envelope_recipient_shows_when_the_message_names_none(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.store(b"Subject: bcc only\r\n\r\nhi\r\n", ["hidden@example.test"])

    [message] = _client(outbox).get(OUTBOX_PREFIX).json()

    assert "hidden@example.test" == message["to"]


def test_the_folder_and_the_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir(mode=0o755)
    outbox = Outbox(folder)

    message_id = outbox.store(b"Subject: code\r\n\r\n123456\r\n")

    assert 0o700 == folder.stat().st_mode & 0o777
    assert 0o600 == (folder / f"{message_id}.eml").stat().st_mode & 0o777


@pytest.mark.parametrize("client", ["203.0.113.5", "::ffff:203.0.113.5", "testclient"])
def test_a_client_off_loopback_is_refused(server: OutboxServer, client: str) -> None:
    _send(server, "kari@example.test", "Your code", "123456")
    message_id = server.outbox.messages()[0].id
    remote = _client(server.outbox, client=(client, 1234))

    listed = remote.get(OUTBOX_PREFIX)
    shown = remote.get(f"{OUTBOX_PREFIX}/{message_id}")

    assert 403 == listed.status_code
    assert 403 == shown.status_code
    assert "application/problem+json" == listed.headers["content-type"]
    assert "123456" not in listed.text + shown.text
    assert "127.0.0.1" in listed.json()["hint"]


@pytest.mark.parametrize("client", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_every_loopback_client_may_read(tmp_path: Path, client: str) -> None:
    outbox = Outbox(tmp_path / "outbox")
    assert 200 == _client(outbox, client=(client, 1234)).get(OUTBOX_PREFIX).status_code


def test_a_page_that_rebinds_its_name_to_loopback_is_refused(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")

    answer = _client(outbox, base="http://attacker.example:8000").get(OUTBOX_PREFIX)

    assert 403 == answer.status_code


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("[::1]:8000", True),
        ("::1", True),
        ("LOCALHOST", True),
        ("attacker.example:8000", False),
        ("127.0.0.1.attacker.example", False),
        ("192.168.1.5:8000", False),
        ("", False),
    ],
)
def test_loopback_host_names(host: str, loopback: bool) -> None:
    assert loopback == is_loopback_host(host)


@pytest.mark.parametrize("message_id", ["nope", "..%2F..%2Fpersonvern.db", "0" * 20 + "-00000000"])
def test_an_unknown_or_malformed_id_is_not_found(tmp_path: Path, message_id: str) -> None:
    outbox = Outbox(tmp_path / "outbox")

    answer = _client(outbox).get(f"{OUTBOX_PREFIX}/{message_id}")

    assert 404 == answer.status_code
    assert "application/problem+json" == answer.headers["content-type"]


def test_a_missing_message_says_where_to_look(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")

    answer = _client(outbox).get(f"{OUTBOX_PREFIX}/nope")

    assert 404 == answer.status_code
    assert "list the messages with GET /demo/outbox" == answer.json()["hint"]


def test_a_busy_port_is_an_actionable_error(server: OutboxServer, tmp_path: Path) -> None:
    started = time.monotonic()
    with (
        pytest.raises(OutboxError, match="in use") as refused,
        serve_outbox(tmp_path / "other", port=server.port),
    ):
        pass

    assert "pass another --smtp-port, or leave it out to take a free port" == refused.value.hint
    assert time.monotonic() - started < 2  # refused at once, not after a start-up timeout


def test_the_server_stops_listening_when_the_block_ends(tmp_path: Path) -> None:
    with serve_outbox(tmp_path / "outbox") as running:
        port = running.port

    with socket.socket() as probe:
        assert 0 != probe.connect_ex(("127.0.0.1", port))


def test_the_environment_points_personvern_at_the_server(server: OutboxServer) -> None:
    env = server.environment()

    assert "127.0.0.1" == env["PERSONVERN_SMTP_HOST"]
    assert str(server.port) == env["PERSONVERN_SMTP_PORT"]
    settings = Settings(
        smtp_host=env["PERSONVERN_SMTP_HOST"],
        smtp_port=int(env["PERSONVERN_SMTP_PORT"]),
        smtp_from=env["PERSONVERN_SMTP_FROM"],
    )
    assert env["PERSONVERN_SMTP_FROM"] == settings.smtp_from


def test_the_demo_app_mounts_the_outbox_only_when_given(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, secret_key="test-secret-key-0123456789abcdef")
    mailbox_path = tmp_path / "mailbox.sqlite"
    sqlite3.connect(mailbox_path).close()
    outbox = Outbox(outbox_folder(tmp_path))
    outbox.store(b"To: kari@example.test\r\nSubject: code\r\n\r\n123456\r\n")

    with_outbox, mailbox = demo_app(
        settings, EXAMPLE_DATAMAP, mailbox_path, "s" * 32, outbox=outbox
    )
    without, other_mailbox = demo_app(settings, EXAMPLE_DATAMAP, mailbox_path, "s" * 32)
    try:
        local = TestClient(with_outbox, base_url=BASE, client=LOCAL)
        assert ["code"] == [m["subject"] for m in local.get(OUTBOX_PREFIX).json()]
        assert 200 == local.get("/healthz").status_code
        remote = TestClient(with_outbox, base_url=BASE, client=("203.0.113.5", 1234))
        assert 403 == remote.get(OUTBOX_PREFIX).status_code
        assert (
            404 == TestClient(without, base_url=BASE, client=LOCAL).get(OUTBOX_PREFIX).status_code
        )
        openapi = local.get("/api/v1/openapi.json").text
        assert OUTBOX_PREFIX not in openapi
    finally:
        mailbox.close()
        other_mailbox.close()
