"""The SMTP adapter against a real local server: delivery, refusals and settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from personvern.errors import ErrorKind
from personvern.mail import MailConfigurationError, MailDeliveryError, mailer_from_settings
from personvern.mail.smtp import SmtpMailer
from tests.integration.intake.conftest import make_settings
from tests.integration.intake.smtp import Inbox, smtp_server

RECIPIENT = "kari.nordmann@example.no"


class _RefusingInbox(Inbox):
    async def handle_RCPT(  # aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: no such user"


def test_a_message_arrives_with_sender_recipient_and_subject(inbox: Inbox) -> None:
    SmtpMailer(host=inbox.host, port=inbox.port, sender="personvern@example.no").send(
        RECIPIENT, "Bekreft forespørselen din", "Koden din er: 123456\n"
    )
    [message] = inbox.to(RECIPIENT)
    assert ("personvern@example.no", "Bekreft forespørselen din") == (
        message["From"],
        message["Subject"],
    )
    assert "123456" == inbox.last_code(RECIPIENT)


def test_a_refused_recipient_is_a_delivery_error_that_logs_no_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusing = _RefusingInbox()
    with (
        smtp_server(refusing) as server,
        caplog.at_level(logging.WARNING, "personvern.mail"),
        pytest.raises(MailDeliveryError) as caught,
    ):
        SmtpMailer(host=server.host, port=server.port).send(RECIPIENT, "s", "b")
    assert ErrorKind.UNAVAILABLE is caught.value.kind
    assert RECIPIENT not in caplog.text
    assert RECIPIENT not in str(caught.value)
    assert "SMTPRecipientsRefused" in caplog.text


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
def test_tls_against_a_server_without_it_fails_cleanly(inbox: Inbox, mode: str) -> None:
    mailer = SmtpMailer(
        host=inbox.host,
        port=inbox.port,
        timeout=5,
        starttls=mode == "starttls",
        implicit_tls=mode == "implicit_tls",
    )
    with pytest.raises(MailDeliveryError):
        mailer.send(RECIPIENT, "s", "b")
    assert [] == inbox.messages


def test_the_settings_choose_the_mailer(tmp_path: Path, inbox: Inbox) -> None:
    assert mailer_from_settings(make_settings(tmp_path, None)) is None
    mailer = mailer_from_settings(
        make_settings(tmp_path, inbox, smtp_username="pv", smtp_password="s3cret")
    )
    assert isinstance(mailer, SmtpMailer)
    assert (inbox.port, "pv", "s3cret") == (mailer.port, mailer.username, mailer.password)
    assert "s3cret" not in repr(mailer)
    with pytest.raises(MailConfigurationError):
        mailer_from_settings(make_settings(tmp_path, inbox, smtp_tls=True, smtp_starttls=True))


@pytest.mark.parametrize(
    "recipient",
    [
        "a<attacker@evil.example>",
        "root,victim@example.org",
        "(1)victim@example.org",
        "v@[127.0.0.1]",
    ],
)
def test_a_recipient_a_header_parser_reads_as_more_than_one_address_gets_no_mail(
    inbox: Inbox, recipient: str
) -> None:
    from personvern.mail import MailDeliveryError
    from personvern.mail.smtp import SmtpMailer

    mailer = SmtpMailer(host=inbox.host, port=inbox.port)
    with pytest.raises(MailDeliveryError):
        mailer.send(recipient, "Your code", "123456")
    assert [] == inbox.messages
