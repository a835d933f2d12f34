"""Outgoing e-mail: the Mailer port and the SMTP adapter (personvern.mail.smtp).

PersonvernError
└── MailError
    ├── MailConfigurationError   500: the PERSONVERN_SMTP_* settings contradict each other
    └── MailDeliveryError        503: the mail server could not be reached or refused the mail

Messages never carry the recipient or the body: both are personal data.
"""

from __future__ import annotations

from typing import Protocol

from personvern.errors import ErrorKind, PersonvernError
from personvern.settings import Settings


class MailError(PersonvernError):
    """Sending e-mail failed."""

    kind = ErrorKind.UNAVAILABLE
    title = "E-mail unavailable"


class MailConfigurationError(MailError):
    """The mail settings cannot work together."""

    kind = ErrorKind.FAILED
    title = "E-mail misconfigured"


class MailDeliveryError(MailError):
    """The mail server could not be reached, or it did not accept the message."""

    # Its messages are fixed sentences that name no server, and the subject must learn
    # that trying again later is the way on.
    public_detail = True


class Mailer(Protocol):
    """Sends a plain-text e-mail to one recipient."""

    def send(self, to: str, subject: str, body_text: str) -> None:
        """Deliver the message or raise MailDeliveryError."""
        ...


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """The SMTP mailer the settings describe, or None when PERSONVERN_SMTP_HOST is unset."""
    if not settings.smtp_host:
        return None
    from personvern.mail.smtp import SmtpMailer

    if settings.smtp_tls and settings.smtp_starttls:
        raise MailConfigurationError(
            "PERSONVERN_SMTP_TLS and PERSONVERN_SMTP_STARTTLS are both set",
            hint="use TLS for implicit TLS (port 465) or STARTTLS (port 587), not both",
        )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=password,
        starttls=settings.smtp_starttls,
        implicit_tls=settings.smtp_tls,
    )


__all__ = [
    "MailConfigurationError",
    "MailDeliveryError",
    "MailError",
    "Mailer",
    "mailer_from_settings",
]
