"""The demo's outgoing mail: a local SMTP server that keeps what personvern sends, and its reader.

personvern mails verification codes over SMTP (personvern.mail.smtp). A demo has no
mail server, so ``personvern demo`` starts this one (aiosmtpd) on 127.0.0.1 and points
PERSONVERN_SMTP_HOST/PORT at it. Nothing is relayed: every message is stored as an
.eml file under ``<home>/demo/outbox/`` (folder 0700, files 0600, names sortable by
arrival time, the newest MAX_KEPT kept), and the demo serves them to the person at the
keyboard under ``/demo/outbox``:

    GET /demo/outbox               JSON list, newest first: id, from, to, subject, received_at, body
    GET /demo/outbox/{id}          one message as plain text
    GET /demo/outbox/code?request=ID   the six digits of the newest code for that request

The routes need no API token, but the outbox holds codes that prove who a subject is:
they answer only clients on loopback that name a loopback host (refusing, too, a web
page that rebinds its own domain to 127.0.0.1), and they exist only in demo mode.
"""

from __future__ import annotations

import asyncio
import email
import ipaddress
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Annotated, Any

from aiosmtpd.controller import Controller
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse

from personvern.demo.errors import DemoError
from personvern.errors import ErrorKind

#: Where the demo mounts the reader.
OUTBOX_PREFIX = "/demo/outbox"
#: The outbox folder's name inside <home>/demo/.
OUTBOX_DIR = "outbox"
#: Messages kept; older ones are deleted as new ones arrive.
MAX_KEPT = 500
#: The largest message accepted: codes are a few hundred bytes, so this bounds the disk
#: the outbox can fill (MAX_KEPT times this) without ever refusing personvern's mail.
MAX_MESSAGE_BYTES = 1024 * 1024
#: The sender address the demo gives personvern's mail.
DEMO_SENDER = "personvern-demo@localhost"
#: Messages listed when the caller does not say how many.
DEFAULT_LIMIT = 50

_SUFFIX = ".eml"
_CODE = re.compile(r"\b(\d{6})\b")
_PARTIAL = ".partial"
_ID = re.compile(r"[0-9]{20}-[0-9a-f]{8}")
# Always the same name in the greeting: otherwise aiosmtpd resolves this machine's
# fully qualified name, which can take seconds where DNS is slow.
_SERVER_NAME = "outbox.personvern.localhost"


class OutboxError(DemoError):
    """The demo outbox cannot be started, written or read."""

    kind = ErrorKind.UNAVAILABLE
    title = "Demo outbox unavailable"


class OutboxForbiddenError(DemoError):
    """A caller that is not on this machine asked for the outbox."""

    kind = ErrorKind.FORBIDDEN
    title = "Demo outbox is local only"


class OutboxMessageNotFoundError(DemoError):
    """No message with this id is in the outbox (never sent, or pruned)."""

    kind = ErrorKind.NOT_FOUND
    title = "No such message"


@dataclass(frozen=True)
class OutboxMessage:
    """One stored message, read back for people."""

    id: str
    sender: str
    to: str
    subject: str
    date: str
    received_at: datetime
    body: str

    def as_json(self) -> dict[str, Any]:
        """The message as the listing shows it."""
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "received_at": self.received_at.isoformat(),
            "body": self.body,
        }

    def as_text(self) -> str:
        """Headers a reader needs, a blank line, then the plain-text body."""
        head = [
            f"From: {self.sender}",
            f"To: {self.to}",
            f"Subject: {self.subject}",
            f"Date: {self.date or self.received_at.isoformat()}",
        ]
        return "\n".join(head) + "\n\n" + self.body


class Outbox:
    """The folder of .eml files: stores what arrives, prunes the oldest, reads messages back."""

    def __init__(self, folder: Path, *, keep: int = MAX_KEPT) -> None:
        if keep < 1:
            raise OutboxError("the demo outbox must keep at least one message")
        self.folder = folder
        self.keep = keep
        self._lock = threading.Lock()
        self._last_ns = 0
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask, and an existing folder keeps its
            # mode: set it outright, since the messages carry verification codes.
            folder.chmod(0o700)
            # A demo killed while writing leaves these behind; nothing else reads them.
            for leftover in folder.glob(f".*{_PARTIAL}"):
                leftover.unlink(missing_ok=True)
        except OSError as exc:
            raise OutboxError(
                f"the demo outbox folder {folder} cannot be created: {exc.strerror}",
                hint="check that the demo's home is writable, or pass another --home",
            ) from exc

    def store(self, content: bytes, recipients: Sequence[str] = ()) -> str:
        """Keep one message as it arrived (with its envelope recipients); returns its id."""
        with self._lock:
            # Strictly increasing within the process, so names sort by arrival even when
            # two messages arrive within the clock's resolution.
            self._last_ns = max(time.time_ns(), self._last_ns + 1)
            message_id = f"{self._last_ns:020d}-{secrets.token_hex(4)}"
        # As a delivering mail server does, record whom the envelope named: a message
        # need not list all (or any) of its recipients in To.
        envelope = "".join(
            f"X-Original-To: {_one_line(address)}\r\n" for address in recipients
        ).encode()
        target = self.folder / f"{message_id}{_SUFFIX}"
        partial = self.folder / f".{message_id}{_PARTIAL}"
        # Written aside and renamed: a reader never sees half a message.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(envelope + content)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self._prune()
        return message_id

    def messages(self, limit: int | None = None) -> list[OutboxMessage]:
        """The stored messages, newest first (at most ``limit``)."""
        names = self._ids()
        names.reverse()
        chosen = names if limit is None else names[:limit]
        found: list[OutboxMessage] = []
        for message_id in chosen:
            try:
                found.append(self.message(message_id))
            except OutboxMessageNotFoundError:
                continue  # pruned between listing and reading
        return found

    def message(self, message_id: str) -> OutboxMessage:
        """One message by id, or OutboxMessageNotFoundError."""
        # The id becomes a file name: only the exact shape store() makes is looked up.
        if not _ID.fullmatch(message_id):
            raise OutboxMessageNotFoundError(
                "no message has this id", hint=f"list the messages with GET {OUTBOX_PREFIX}"
            )
        try:
            raw = (self.folder / f"{message_id}{_SUFFIX}").read_bytes()
        except FileNotFoundError as exc:
            raise OutboxMessageNotFoundError(
                "no message has this id; it was never received or is older than the last "
                f"{self.keep}",
                hint=f"list the messages with GET {OUTBOX_PREFIX}",
            ) from exc
        except OSError as exc:
            raise OutboxError(f"the demo outbox cannot be read: {exc.strerror}") from exc
        return _read(message_id, raw)

    def _ids(self) -> list[str]:
        """Ids of the stored messages, oldest first."""
        try:
            names = [entry.name for entry in os.scandir(self.folder)]
        except OSError as exc:
            raise OutboxError(
                f"the demo outbox folder {self.folder} cannot be read: {exc.strerror}",
                hint="restart `personvern demo`, which creates it",
            ) from exc
        ids = [name[: -len(_SUFFIX)] for name in names if name.endswith(_SUFFIX)]
        return sorted(i for i in ids if _ID.fullmatch(i))

    def _prune(self) -> None:
        with self._lock:
            ids = self._ids()
            for old in ids[: max(0, len(ids) - self.keep)]:
                (self.folder / f"{old}{_SUFFIX}").unlink(missing_ok=True)


def outbox_folder(home: Path) -> Path:
    """Where the demo keeps its outgoing mail: ``<home>/demo/outbox``."""
    return home / "demo" / OUTBOX_DIR


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _read(message_id: str, raw: bytes) -> OutboxMessage:
    parsed = email.message_from_bytes(raw, policy=default_policy)
    to = _header(parsed, "To") or ", ".join(parsed.get_all("X-Original-To", []))
    nanoseconds = int(message_id.partition("-")[0])
    received_at = datetime.fromtimestamp(nanoseconds // 1_000_000_000, UTC).replace(
        microsecond=nanoseconds // 1000 % 1_000_000
    )
    return OutboxMessage(
        id=message_id,
        sender=_header(parsed, "From"),
        to=to,
        subject=_header(parsed, "Subject"),
        date=_header(parsed, "Date"),
        received_at=received_at,
        body=_plain_text(parsed),
    )


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):
        return ""  # a malformed header from some other local sender; show the rest
    return "" if value is None else str(value)


def _plain_text(message: Message) -> str:
    if not isinstance(message, EmailMessage):
        return ""
    try:
        part = message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        text = part.get_content()
    except (LookupError, ValueError, KeyError, TypeError):
        return ""  # an unknown charset or broken MIME: the listing still works
    if not isinstance(text, str):
        return ""
    # SMTP carries CRLF line ends; people and JSON readers expect plain newlines.
    return text.replace("\r\n", "\n")


# -- the SMTP server ------------------------------------------------------------------------


class _Handler:
    """aiosmtpd's handler: every message that arrives goes into the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Store the message as it came; a failure to store is a temporary SMTP error."""
        content = envelope.original_content
        if not isinstance(content, bytes):
            return "554 5.6.0 the message has no content"
        recipients = [str(r) for r in envelope.rcpt_tos]
        try:
            # File writes block; keep the server's event loop free for other clients.
            await asyncio.to_thread(self._outbox.store, content, recipients)
        except OSError:
            # 4xx: personvern reports the mail server as unavailable, the subject retries.
            return "451 4.3.0 the demo outbox could not store the message"
        return "250 2.0.0 kept in the demo outbox"


class _OutboxController(Controller):
    """aiosmtpd's threaded controller, also on the port the OS picks (port 0)."""

    def _trigger_server(self) -> None:
        # start() connects to self.port to make the server build its protocol; with port
        # 0 that would fail, so learn the real port from the bound socket first.
        if self.server is not None and self.port == 0:
            sockets = getattr(self.server, "sockets", ())
            if sockets:
                self.port = int(sockets[0].getsockname()[1])
        with socket.create_connection((self.hostname, self.port), timeout=1.0) as probe:
            probe.recv(1024)


@dataclass(frozen=True)
class OutboxServer:
    """A running outbox SMTP server: where personvern sends and where the mail is kept."""

    host: str
    port: int
    outbox: Outbox

    def environment(self) -> dict[str, str]:
        """The PERSONVERN_SMTP_* settings that send personvern's mail to this server."""
        return {
            "PERSONVERN_SMTP_HOST": self.host,
            "PERSONVERN_SMTP_PORT": str(self.port),
            "PERSONVERN_SMTP_FROM": DEMO_SENDER,
            # The local server speaks plain SMTP without login.
            "PERSONVERN_SMTP_STARTTLS": "false",
            "PERSONVERN_SMTP_TLS": "false",
        }


@contextmanager
def serve_outbox(
    folder: Path, *, port: int | None = None, host: str = "127.0.0.1", keep: int = MAX_KEPT
) -> Iterator[OutboxServer]:
    """Run the outbox SMTP server on ``host`` (a free port unless ``port``) until the block ends."""
    outbox = Outbox(folder, keep=keep)
    if port:
        _refuse_busy(host, port)
    controller = _OutboxController(
        _Handler(outbox),
        hostname=host,
        port=port or 0,
        server_hostname=_SERVER_NAME,
        data_size_limit=MAX_MESSAGE_BYTES,
    )
    try:
        controller.start()
    except (OSError, TimeoutError, RuntimeError) as exc:
        controller.stop(no_assert=True)
        # A server that never bound leaves its event loop open (aiosmtpd closes it only
        # after serving); the thread has ended, so it can be closed here.
        if not controller.loop.is_closed():
            controller.loop.close()
        raise _cannot_listen(host, port, exc) from exc
    try:
        yield OutboxServer(host=host, port=int(controller.port), outbox=outbox)
    finally:
        controller.stop()


def _refuse_busy(host: str, port: int) -> None:
    """Fail at once on a port in use: aiosmtpd notices only after its start-up timeout."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As asyncio binds its servers, so a port in TIME_WAIT counts as free here too.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _cannot_listen(host, port, exc) from exc


def _cannot_listen(host: str, port: int | None, exc: Exception) -> OutboxError:
    where = f"{host}:{port}" if port else host
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return OutboxError(
        f"the demo's mail server cannot listen on {where}: {reason}",
        hint="pass another --smtp-port, or leave it out to take a free port"
        if port
        else "check that loopback networking works on this machine",
    )


# -- the HTTP reader ------------------------------------------------------------------------


def loopback_only(request: Request) -> None:
    """Refuse callers not on this machine, and pages that reach loopback under a foreign name."""
    client = request.client.host if request.client else ""
    if not _is_loopback(client):
        raise OutboxForbiddenError(
            "the demo outbox holds verification codes and answers only on this machine",
            hint=f"read it where the demo runs: curl http://127.0.0.1:<port>{OUTBOX_PREFIX}",
        )
    # A web page whose own domain was re-pointed at 127.0.0.1 (DNS rebinding) reaches
    # this server from the user's browser on loopback, but still names its domain in Host.
    host = request.headers.get("host", "")
    if not is_loopback_host(host):
        raise OutboxForbiddenError(
            "the demo outbox answers only when addressed as 127.0.0.1, [::1] or localhost",
            hint=f"use http://127.0.0.1:<port>{OUTBOX_PREFIX}",
        )


def _is_loopback(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback


def is_loopback_host(host_header: str) -> bool:
    """Whether a Host header (or host name) names loopback: localhost, 127.0.0.0/8, [::1]."""
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host in ("localhost", "localhost.") or _is_loopback(host)


def outbox_router(outbox: Outbox) -> APIRouter:
    """The reader of ``outbox`` under /demo/outbox; mounted in demo mode only."""
    router = APIRouter(
        prefix=OUTBOX_PREFIX, include_in_schema=False, dependencies=[Depends(loopback_only)]
    )

    @router.get("")
    def list_messages(
        limit: Annotated[int, Query(ge=1, le=MAX_KEPT)] = DEFAULT_LIMIT,
    ) -> list[dict[str, Any]]:
        """The newest messages personvern sent, newest first, with their plain-text bodies."""
        return [message.as_json() for message in outbox.messages(limit)]

    @router.get("/code", response_class=PlainTextResponse)
    def latest_code(
        request: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    ) -> PlainTextResponse:
        """The newest code mailed for a request, alone, so a shell can read it into a variable."""
        reference = re.compile(rf"(?:Reference|Referanse): {re.escape(request)}\b")
        for message in outbox.messages():
            found = _CODE.search(message.body)
            if found and reference.search(message.body):
                return PlainTextResponse(found.group(1))
        raise OutboxMessageNotFoundError(
            f"no code has been mailed for request {request}",
            hint="file the request first; the code arrives within a second",
        )

    @router.get("/{message_id}", response_class=PlainTextResponse)
    def read_message(
        message_id: Annotated[str, PathParam(max_length=64)],
    ) -> PlainTextResponse:
        """One message as plain text: From, To, Subject, Date, then the body."""
        return PlainTextResponse(outbox.message(message_id).as_text())

    return router
