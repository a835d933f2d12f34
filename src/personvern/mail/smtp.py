"""The Mailer port over SMTP (smtplib): plain, STARTTLS or implicit TLS, with optional login."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from personvern.mail import MailDeliveryError

log = logging.getLogger("personvern.mail")

#: Seconds to wait for the mail server: a subject is waiting for the HTTP answer.
DEFAULT_TIMEOUT = 10.0


#: One address, nothing a header parser reads as more: no spaces, brackets, commas,
#: quotes, parentheses or a domain literal.
_ONE_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"\\@]+@[^\s<>()\[\],;:\"\\@]+")


@dataclass(frozen=True)
class SmtpMailer:
    """Sends each message over a new SMTP connection (codes are rare; no pool needed)."""

    host: str
    port: int = 25
    sender: str = "privacy@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = DEFAULT_TIMEOUT

    def send(self, to: str, subject: str, body_text: str) -> None:
        """Deliver one plain-text message, or raise MailDeliveryError."""
        if not _ONE_ADDRESS.fullmatch(to):
            # A To header is parsed as a list: "a<x@evil>" or "a,b@c" would deliver the
            # code somewhere other than the address that asked for it.
            raise MailDeliveryError(
                "the e-mail was not sent: the recipient is not one plain address",
                hint="only addresses of the form name@example.com receive mail",
            )
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body_text)
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                # The envelope names the one address, whatever a header parser makes of it.
                smtp.send_message(message, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as exc:
            # Only the kind of failure and the server: SMTP replies quote the recipient.
            code = getattr(exc, "smtp_code", None)
            log.warning(
                "mail via %s:%s failed: %s%s",
                self.host,
                self.port,
                type(exc).__name__,
                f" ({code})" if code else "",
            )
            raise MailDeliveryError(
                "the e-mail could not be sent: the mail server is unavailable or refused it",
                hint="try again in a few minutes",
            ) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
