"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port), keeping what it receives."""

from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

from aiosmtpd.controller import Controller

_CODE = re.compile(r"\b(\d{6})\b")


class Inbox:
    """Every message the server accepted, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self.host = "127.0.0.1"
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(message)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """A copy of the messages received so far."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget every message (between tests)."""
        with self._lock:
            self._messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        """Messages sent to ``address``."""
        return [m for m in self.messages if m["To"] == address]

    def last_code(self, address: str) -> str:
        """The six-digit code in the newest message to ``address``."""
        messages = self.to(address)
        assert messages, f"no mail to {address}"
        return code_in(messages[-1])


def text_of(message: EmailMessage) -> str:
    """The plain-text body of ``message``."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "no text body"
    text: str = body.get_content()
    return text


def code_in(message: EmailMessage) -> str:
    """The six-digit code in ``message``."""
    found = _CODE.search(text_of(message))
    assert found, "no code in the message"
    return found.group(1)


class _FreePortController(Controller):
    """aiosmtpd's controller, listening on the port the OS picks (port 0)."""

    def _trigger_server(self) -> None:
        # The controller connects to self.port to check the server answers; with port 0
        # that would fail, so learn the real port from the bound socket first.
        server = cast(asyncio.Server, self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_server(inbox: Inbox | None = None) -> Iterator[Inbox]:
    """Run an SMTP server until the block ends; yields its inbox (with host and port)."""
    inbox = inbox or Inbox()
    # A fixed server name: otherwise every connection waits for a reverse DNS lookup.
    controller = _FreePortController(
        inbox, hostname="127.0.0.1", port=0, server_hostname="smtp.test"
    )
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
