"""The demo company's Microsoft 365 mailbox: a receiver of the webhook contract over SQLite.

The data map declares an ``email`` system of kind ``webhook``. personvern has no
connector for a mail tenant, so the company serves the signed HTTP contract of
docs/webhook-contract.md in front of it; in the demo, this module is that receiver. It
keeps the messages in one SQLite table whose columns are exactly the fields the data
map declares (message_id, sender, recipients, body, sent_at) and answers ``check``,
``locate``, ``erase``, ``rectify`` and ``retention`` (the dataset has no files).

The receiver side of the contract is written here from the document, not imported
from personvern's connector: the connector signs and checks with its own code, so the
two implementations check each other. Work is pushed down to SQLite: ``locate`` is
one SELECT with the match in its WHERE clause (the sender through an index on
lower(sender)), and ``erase`` and ``rectify`` are set-based UPDATE and DELETE
statements, in one transaction per call, that only touch rows they actually change,
so a repeated call changes nothing and answers zeros.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
)
from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, Text, func
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool

from personvern.demo.errors import DemoError
from personvern.errors import ErrorKind

#: The system and dataset of the data map that the mailbox serves.
MAILBOX_SYSTEM = "email"
MAILBOX_DATASET = "messages"
#: Where the demo mounts the receiver; personvern's base URL for the system ends here.
ROUTE_PREFIX = "/demo/mailbox"
#: The mailbox database's file name inside <home>/demo/.
MAILBOX_FILE = "mailbox.sqlite"

# -- docs/webhook-contract.md, written out from the document ------------------------------

CONTRACT = "personvern-webhook-v1"
TIMESTAMP_HEADER = "X-Personvern-Timestamp"
REQUEST_ID_HEADER = "X-Personvern-Request-Id"
SIGNATURE_HEADER = "X-Personvern-Signature"
MAX_CLOCK_SKEW_SECONDS = 300
MAX_RECORDS = 10_000
MIN_SECRET_BYTES = 16
#: What a field anonymised as ``mask`` is set to.
_MASK = "***"
#: The largest request body read; the contract caps JSON at 16 MiB.
MAX_BODY_BYTES = 16 * 1024 * 1024
OPERATIONS = ("check", "locate", "erase", "rectify", "retention")

_REQUEST_ID = re.compile(r"[0-9a-fA-F]{32}")
# SQLite allows 32,766 bound values per statement; stay far below it per IN list.
_CHUNK = 500
_MAX_BOUND_EXCLUDES = 10_000

# -- the table ------------------------------------------------------------------------------

metadata = MetaData()
messages = Table(
    "messages",
    metadata,
    Column("message_id", String(200), primary_key=True),
    Column("sender", String(254)),
    Column("recipients", Text),
    Column("body", Text),
    Column("sent_at", DateTime),
)
# locate matches the sender case-insensitively as lower(sender) IN (...): this expression
# index serves exactly that comparison.
Index("ix_messages_sender_lower", func.lower(messages.c.sender))
FIELDS: tuple[str, ...] = tuple(column.name for column in messages.columns)
#: Fields the data map declares as e-mail identities: compared case-insensitively.
EMAIL_FIELDS = frozenset({"sender"})
_KEY = "message_id"
_TEXT_FIELDS = frozenset({"sender", "recipients", "body"})


class MailboxRequestError(DemoError):
    """A verified call the mailbox cannot answer: unknown dataset or field, wrong value type."""

    kind = ErrorKind.INVALID
    title = "Call outside the webhook contract"


class MailboxUnavailableError(DemoError):
    """The mailbox database cannot be read or written now; personvern waits and retries."""

    kind = ErrorKind.UNAVAILABLE
    title = "Demo mailbox unavailable"


def create_tables(conn: Connection) -> None:
    """Create (or re-create) the messages table and its index on ``conn``."""
    metadata.drop_all(conn, checkfirst=True)
    metadata.create_all(conn)


def signature(
    secret: bytes, direction: str, operation: str, timestamp: str, request_id: str, body: bytes
) -> str:
    """The X-Personvern-Signature of one message, as the contract's Signatures section says."""
    message = f"{CONTRACT}.{direction}.{operation}.{timestamp}.{request_id}.".encode() + body
    return "sha256=" + hmac.new(secret, message, hashlib.sha256).hexdigest()


# -- the calls' shapes ----------------------------------------------------------------------


class _Call(BaseModel):
    # Strict, as the connector is with answers: "1" is not 1 and unknown keys are errors.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


_Key = (
    Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
    | Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
)
_Scalar = StrictStr | StrictInt | StrictFloat | StrictBool | None
_Value = _Scalar | list[_Scalar]


class _CheckCall(_Call):
    pass


class _LocateCall(_Call):
    dataset: StrictStr
    exact: dict[StrictStr, list[_Key]] = Field(default_factory=dict)
    mentions: dict[StrictStr, list[StrictStr]] = Field(default_factory=dict)
    exclude: list[_Key] = Field(default_factory=list)


class _Update(_Call):
    key: _Key
    values: dict[StrictStr, _Value] = Field(alias="set")


class _Redaction(_Call):
    field: StrictStr
    keys: list[_Key]
    needles: list[StrictStr]
    replacement: StrictStr


class _Step(_Call):
    dataset: StrictStr
    delete: list[_Key] = Field(default_factory=list)
    update: list[_Update] = Field(default_factory=list)
    redactions: list[_Redaction] = Field(default_factory=list)


class _EraseCall(_Call):
    steps: list[_Step]


class _RectifyCall(_Call):
    dataset: StrictStr
    keys: list[_Key]
    changes: dict[StrictStr, _Value]


class _Condition(_Call):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, allow_inf_nan=False, populate_by_name=True
    )

    field: StrictStr
    equals: _Scalar = None
    in_: list[_Scalar] | None = Field(default=None, alias="in")
    is_null: StrictBool | None = None


class _RetentionCall(_Call):
    rule: StrictStr
    dataset: StrictStr
    trigger_field: StrictStr
    trigger_format: StrictStr | None = None
    timezone: StrictStr
    cutoff: StrictStr
    condition: _Condition | None = None
    action: StrictStr
    anonymise: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    keep: list[_Key] = Field(default_factory=list)
    dry_run: StrictBool
    limit: Annotated[StrictInt, Field(ge=0, le=100_000)]


_CALLS: dict[str, type[_Call]] = {
    "check": _CheckCall,
    "locate": _LocateCall,
    "erase": _EraseCall,
    "rectify": _RectifyCall,
    "retention": _RetentionCall,
}


# -- the mailbox ----------------------------------------------------------------------------


def _own_keys(keys: Iterable[Any]) -> list[str]:
    # Message ids are strings; a key of another JSON type names no message (42 is not "42").
    return list(dict.fromkeys(k for k in keys if isinstance(k, str)))


def _chunks(keys: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _fold(column: sa.ColumnElement[Any], value: str) -> tuple[sa.ColumnElement[Any], str]:
    """The column and the value, both case-folded the same way, for a comparison in SQL."""
    # SQLite's lower() folds ASCII only but is built in (and indexed for the sender);
    # identities are ASCII nearly always. Anything else goes through Python's casefold,
    # registered on each connection as pv_casefold.
    if value.isascii():
        return func.lower(column), value.lower()
    return func.pv_casefold(column), value.casefold()


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


class Mailbox:
    """The demo mailbox: its SQLite database and the signed HTTP routes in front of it."""

    def __init__(
        self,
        database: Path,
        secret: bytes | str,
        *,
        prefix: str = ROUTE_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_BYTES:
            raise DemoError(
                f"the demo mailbox's signing secret is shorter than {MIN_SECRET_BYTES} bytes",
                hint="use secrets.token_urlsafe(32)",
            )
        self._secret = key
        self._clock = clock
        self.database = database
        # mode=rw: a missing database is an outage to report, not an empty file to create.
        # A file: URI built by pathlib keeps spaces, '#' and '%' in the path intact.
        uri = f"{database.resolve().as_uri()}?mode=rw"
        self.engine: Engine = sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False),
            poolclass=sa.pool.QueuePool,
        )
        sa.event.listen(self.engine, "connect", _register_functions)
        self._seen: dict[str, float] = {}
        self._seen_lock = threading.Lock()
        self.router = APIRouter(prefix=prefix, include_in_schema=False)
        for operation in OPERATIONS:
            self.router.add_api_route(
                f"/{operation}", self._endpoint(operation), methods=["POST"], name=operation
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- HTTP ---------------------------------------------------------------------------

    def _endpoint(self, operation: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._handle(operation, request)

        endpoint.__name__ = f"mailbox_{operation}"
        return endpoint

    async def _handle(self, operation: str, request: Request) -> Response:
        body = await _read_body(request)
        request_id = request.headers.get(REQUEST_ID_HEADER, "")
        if body is None or not self.verify(operation, request.headers, body):
            # Nothing is parsed or touched for a call that is not proven to be personvern's.
            return Response(status_code=401)
        try:
            call = _CALLS[operation].model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "the body"
            return self._problem(
                operation, request_id, MailboxRequestError(f"{where}: {first['msg']}")
            )
        try:
            answer = await run_in_threadpool(self.answer, call)
        except (MailboxRequestError, MailboxUnavailableError) as exc:
            return self._problem(operation, request_id, exc)
        except sa.exc.OperationalError:
            # A locked or vanished database file passes: the connector waits and retries.
            return self._problem(
                operation, request_id, MailboxUnavailableError("the mailbox database failed")
            )
        return self._signed(operation, request_id, 200, answer)

    def verify(self, operation: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a request is signed with the shared secret, fresh, and not seen before."""
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        request_id = headers.get(REQUEST_ID_HEADER, "")
        provided = headers.get(SIGNATURE_HEADER, "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return False
        now = self._clock()
        if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return False
        if not _REQUEST_ID.fullmatch(request_id):
            return False
        expected = signature(self._secret, "request", operation, timestamp, request_id, body)
        # Bytes on both sides: compare_digest refuses non-ASCII str, and headers may hold any.
        if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
            return False
        return self._first_sighting(request_id, now)

    def _first_sighting(self, request_id: str, now: float) -> bool:
        # A captured request replayed within its timestamp window is refused; ids older
        # than the window cannot be replayed anyway, so they are forgotten.
        with self._seen_lock:
            horizon = now - 2 * MAX_CLOCK_SKEW_SECONDS
            for old in [rid for rid, seen in self._seen.items() if seen < horizon]:
                del self._seen[old]
            if request_id.lower() in self._seen:
                return False
            self._seen[request_id.lower()] = now
            return True

    def _signed(self, operation: str, request_id: str, status: int, payload: object) -> Response:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        timestamp = str(int(self._clock()))
        return Response(
            content=body,
            status_code=status,
            media_type="application/json",
            headers={
                TIMESTAMP_HEADER: timestamp,
                REQUEST_ID_HEADER: request_id,
                SIGNATURE_HEADER: signature(
                    self._secret, "response", operation, timestamp, request_id, body
                ),
            },
        )

    def _problem(self, operation: str, request_id: str, exc: DemoError) -> Response:
        # The message names fields and datasets, never values: they may be personal data.
        status = 503 if exc.kind is ErrorKind.UNAVAILABLE else 422
        problem = {"title": exc.title, "status": status, "detail": exc.message}
        return self._signed(operation, request_id, status, problem)

    # -- the contract's operations (verified calls) -------------------------------------

    def answer(self, call: BaseModel) -> dict[str, Any]:
        """The JSON answer to a verified, parsed call."""
        if isinstance(call, _LocateCall):
            return self.locate(call)
        if isinstance(call, _EraseCall):
            return self.erase(call)
        if isinstance(call, _RectifyCall):
            return self.rectify(call)
        if isinstance(call, _RetentionCall):
            return self.retention(call)
        return self.check()

    def check(self) -> dict[str, Any]:
        """Up, and serving the messages dataset (raises when the database is unreadable)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(messages.c.message_id).limit(1)).all()
        except sa.exc.OperationalError as exc:
            raise MailboxUnavailableError("the mailbox database cannot be read") from exc
        return {"status": "ok", "datasets": [MAILBOX_DATASET]}

    def locate(self, call: _LocateCall) -> dict[str, Any]:
        """Every message matching any exact value or mention, in one SELECT."""
        _dataset(call.dataset)
        _fields([*call.exact, *call.mentions])
        matches: dict[str, list[sa.ColumnElement[bool]]] = {}
        for name, values in call.exact.items():
            clause = _exact(name, values)
            if clause is not None:
                matches.setdefault(name, []).append(clause)
        for name, needles in call.mentions.items():
            for needle in dict.fromkeys(needles):
                if needle:
                    folded, value = _fold(messages.c[name], needle)
                    matches.setdefault(name, []).append(func.instr(folded, value) > 0)
        if not matches:
            return {"records": []}
        matched = {name: sa.or_(*clauses) for name, clauses in matches.items()}
        query = sa.select(
            messages,
            *(clause.label(f"pv_matched_{i}") for i, clause in enumerate(matched.values())),
        ).where(sa.or_(*matched.values()))
        excluded = _own_keys(call.exclude)
        limit = MAX_RECORDS + 1  # one more than allowed: more is refused whole, never cut
        if len(excluded) <= _MAX_BOUND_EXCLUDES:
            if excluded:
                query = query.where(messages.c.message_id.not_in(excluded))
        else:
            # Too many to bind; left out below instead, so the limit must leave room.
            limit += len(excluded)
        query = query.order_by(messages.c.message_id).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        skip = set(excluded)
        records = []
        for row in rows:
            mapping = row._mapping
            if mapping[_KEY] in skip:
                continue
            records.append(
                {
                    "key": mapping[_KEY],
                    "values": {name: _wire(mapping[name]) for name in FIELDS},
                    "matched_fields": [
                        name for i, name in enumerate(matched) if mapping[f"pv_matched_{i}"]
                    ],
                }
            )
        if len(records) > MAX_RECORDS:
            raise MailboxRequestError(
                f"more than {MAX_RECORDS} messages match; refused rather than cut short"
            )
        return {"records": records}

    def erase(self, call: _EraseCall) -> dict[str, Any]:
        """Apply every step in order, in one transaction; count only records changed."""
        for step in call.steps:
            _check_step(step)
        with self.engine.begin() as conn:
            outcomes = [_erase_step(conn, step) for step in call.steps]
        return {"outcomes": outcomes}

    def rectify(self, call: _RectifyCall) -> dict[str, Any]:
        """Set the given fields of the given messages; count the messages that changed."""
        _dataset(call.dataset)
        _fields(list(call.changes))
        if _KEY in call.changes:
            raise MailboxRequestError("the primary key message_id cannot be changed")
        changes = {name: _column_value(name, value) for name, value in call.changes.items()}
        keys = _own_keys(call.keys)
        if not keys or not changes:
            return {"changed": 0}
        differs = sa.or_(
            *(
                messages.c[name].is_distinct_from(sa.literal(value, messages.c[name].type))
                for name, value in changes.items()
            )
        )
        changed = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(keys):
                result = conn.execute(
                    sa.update(messages)
                    .where(messages.c.message_id.in_(chunk), differs)
                    .values(changes)
                )
                changed += result.rowcount
        return {"changed": changed}

    def retention(self, call: _RetentionCall) -> dict[str, Any]:
        """Count the messages a retention rule makes due; delete or anonymise up to ``limit``."""
        _dataset(call.dataset)
        due, held, in_scope, changes = _retention_terms(call)
        oldest = sa.select(func.min(messages.c.sent_at)).where(due)
        with self.engine.begin() as conn:
            counts = conn.execute(
                sa.select(
                    func.count(),
                    func.count().filter(in_scope),
                    func.count().filter(due),
                    func.count().filter(held),
                ).select_from(messages)
            ).one()
            first = conn.execute(oldest).scalar()
            changed = 0
            if not call.dry_run and call.limit:
                # Oldest first, one statement on at most ``limit`` keys: bounded work per call.
                keys = (
                    sa.select(messages.c.message_id)
                    .where(due)
                    .order_by(messages.c.sent_at, messages.c.message_id)
                    .limit(call.limit)
                )
                statement = (
                    sa.delete(messages) if changes is None else sa.update(messages).values(changes)
                )
                changed = conn.execute(
                    statement.where(messages.c.message_id.in_(keys.scalar_subquery()))
                ).rowcount
        zone = ZoneInfo(call.timezone)
        oldest_day = first.replace(tzinfo=UTC).astimezone(zone).date() if first else None
        return {
            "total": counts[0],
            "in_scope": counts[1],
            "due": counts[2],
            "held": counts[3],
            "oldest_due": oldest_day.isoformat() if oldest_day else None,
            "changed": changed,
        }


@contextmanager
def serve_mailbox(database: Path, secret: bytes | str, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the mailbox alone on a free port of ``host`` in a thread; yields its base URL.

    For runs that have no demo server of their own (tests, scripts): point
    demo_environment(..., mailbox_url=<the URL>, mailbox_secret=secret) at it.
    """
    import uvicorn

    mailbox = Mailbox(database, secret)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(mailbox.router)
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="demo-mailbox", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise DemoError("the demo mailbox's server did not start")
            time.sleep(0.01)
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{port}{ROUTE_PREFIX}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        mailbox.close()


# -- helpers of the operations ----------------------------------------------------------------


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than the contract allows."""
    declared = request.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _register_functions(dbapi_connection: Any, _record: object) -> None:
    # Unicode case folding for needles SQLite's ASCII-only lower() cannot fold.
    dbapi_connection.create_function("pv_casefold", 1, _casefold, deterministic=True)


def _dataset(name: str) -> None:
    if name != MAILBOX_DATASET:
        raise MailboxRequestError(f"the mailbox serves only the dataset {MAILBOX_DATASET}")


def _fields(names: Iterable[str]) -> None:
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        raise MailboxRequestError(f"the messages dataset has no field {', '.join(unknown)}")


def _exact(name: str, values: Sequence[Any]) -> sa.ColumnElement[bool] | None:
    """``name`` equals one of ``values`` (e-mail fields case-insensitively)."""
    column = messages.c[name]
    if name == "sent_at":
        moments = [moment for v in values if (moment := _moment(v)) is not None]
        return column.in_(moments) if moments else None
    texts = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    if not texts:
        return None
    if name not in EMAIL_FIELDS:
        return column.in_(texts)
    # Without regard to the case of A-Z only, which is what SQLite's lower() folds (and
    # the index on lower(sender) serves): Unicode case folding would take "ſ" for "s"
    # and hand personvern another person's mail. personvern checks every answer anyway.
    return func.lower(column).in_(sorted({_ascii_lower(t) for t in texts}))


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # The mailbox keeps naive UTC times, as the demo's other systems keep naive times.
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _column_value(name: str, value: object) -> object:
    """A JSON value as the column stores it; refuses a value of the wrong type."""
    if value is None:
        return None
    if name == "sent_at":
        moment = _moment(value)
        if moment is None:
            raise MailboxRequestError("sent_at takes an ISO 8601 date and time")
        return moment
    if name == "recipients" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        return value
    raise MailboxRequestError(f"{name} takes a string or null")


def _wire(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _retention_terms(
    call: _RetentionCall,
) -> tuple[
    sa.ColumnElement[bool], sa.ColumnElement[bool], sa.ColumnElement[bool], dict[str, Any] | None
]:
    """Due, held and in-scope predicates of a retention call, and the anonymising changes."""
    if call.trigger_field != "sent_at":
        raise MailboxRequestError("the mailbox keeps time in sent_at only")
    try:
        zone = ZoneInfo(call.timezone)
        cutoff = date.fromisoformat(call.cutoff)
    except (ValueError, KeyError) as exc:
        raise MailboxRequestError("timezone or cutoff cannot be read") from exc
    # Due: sent before the start of the day after the cutoff, in the rule's zone (the
    # mailbox keeps naive UTC times).
    start = datetime.combine(cutoff + timedelta(days=1), time_of_day(0), tzinfo=zone)
    boundary = start.astimezone(UTC).replace(tzinfo=None)
    in_scope = _retention_condition(call.condition)
    past = sa.and_(in_scope, messages.c.sent_at < boundary)
    kept = _own_keys(call.keep)
    keep = messages.c.message_id.in_(kept) if kept else sa.false()
    changes: dict[str, Any] | None = None
    if call.action == "anonymise":
        changes = {}
        for name, how in call.anonymise.items():
            _fields([name])
            if name == _KEY:
                raise MailboxRequestError("the primary key message_id cannot be anonymised")
            if how == "null":
                changes[name] = None
            elif how == "mask" and name in _TEXT_FIELDS:
                changes[name] = _MASK
            else:
                raise MailboxRequestError(f"{name} cannot be anonymised as {how} here")
        if not changes:
            raise MailboxRequestError("anonymise names no field")
        not_yet = sa.or_(
            *(
                messages.c[name].is_not(None)
                if value is None
                else messages.c[name].is_distinct_from(value)
                for name, value in changes.items()
            )
        )
        past = sa.and_(past, not_yet)
    elif call.action != "delete":
        raise MailboxRequestError("action is delete or anonymise")
    return sa.and_(past, sa.not_(keep)), sa.and_(past, keep), in_scope, changes


def _retention_condition(condition: _Condition | None) -> sa.ColumnElement[bool]:
    if condition is None:
        return sa.true()
    _fields([condition.field])
    column = messages.c[condition.field]
    if condition.is_null is not None:
        return column.is_(None) if condition.is_null else column.is_not(None)
    if condition.in_ is not None:
        return column.in_(condition.in_)
    return column == condition.equals


def _check_step(step: _Step) -> None:
    """Refuse a step that names an unknown dataset or field before anything is changed."""
    _dataset(step.dataset)
    for update in step.update:
        _fields(list(update.values))
        if _KEY in update.values:
            raise MailboxRequestError("the primary key message_id cannot be erased")
        for name, value in update.values.items():
            _column_value(name, value)
    for redaction in step.redactions:
        _fields([redaction.field])
        if redaction.field not in _TEXT_FIELDS:
            raise MailboxRequestError(f"{redaction.field} is not a text field to redact")


def _erase_step(conn: Connection, step: _Step) -> dict[str, Any]:
    deleted = 0
    for chunk in _chunks(_own_keys(step.delete)):
        deleted += conn.execute(
            sa.delete(messages).where(messages.c.message_id.in_(chunk))
        ).rowcount
    return {
        "dataset": step.dataset,
        "deleted": deleted,
        "updated": _apply_updates(conn, step.update),
        "redacted": _apply_redactions(conn, step.redactions),
    }


def _apply_updates(conn: Connection, updates: Sequence[_Update]) -> int:
    """Set fields per record in one UPDATE per chunk of records with the same fields."""
    by_fields: dict[tuple[str, ...], dict[str, dict[str, object]]] = {}
    for update in updates:
        if isinstance(update.key, str) and update.values:
            values = {name: _column_value(name, v) for name, v in update.values.items()}
            by_fields.setdefault(tuple(sorted(values)), {})[update.key] = values
    updated = 0
    for names, records in by_fields.items():
        keys = list(records)
        for chunk in _chunks(keys):
            new: dict[str, sa.ColumnElement[Any]] = {}
            differs = []
            for name in names:
                column = messages.c[name]
                target = _per_key(column, {key: records[key][name] for key in chunk})
                # A field already null stays null: erasing it again must change nothing.
                new[name] = sa.case((column.is_(None), sa.null()), else_=target)
                differs.append(sa.and_(column.is_not(None), column.is_distinct_from(target)))
            result = conn.execute(
                sa.update(messages)
                .where(messages.c.message_id.in_(chunk), sa.or_(*differs))
                .values(new)
            )
            updated += result.rowcount
    return updated


def _per_key(column: sa.Column[Any], values: Mapping[str, object]) -> sa.ColumnElement[Any]:
    """One value for every key (a bound parameter), or CASE message_id WHEN ... per key."""
    distinct = list(dict.fromkeys(map(repr, values.values())))
    if len(distinct) == 1:
        return sa.literal(next(iter(values.values())), column.type)
    # Pseudonyms differ per record; one CASE keeps it a single statement per chunk.
    return sa.case(
        {key: sa.literal(value, column.type) for key, value in values.items()},
        value=messages.c.message_id,
    )


def _apply_redactions(conn: Connection, redactions: Sequence[_Redaction]) -> int:
    """Replace the needles in place, one UPDATE per redaction; count distinct records changed."""
    changed: set[str] = set()
    for redaction in redactions:
        needles = sorted({n for n in redaction.needles if n}, key=len, reverse=True)
        keys = _own_keys(redaction.keys)
        if not needles or not keys:
            continue
        # Longest first in one alternation: "+47 912 34 567" goes whole before
        # "912 34 567" could match inside it. Case is ignored for A-Z only (re.ASCII):
        # Unicode case folding would blank "nilsen" where the needle says "nilſen".
        pattern = re.compile("|".join(map(re.escape, needles)), re.IGNORECASE | re.ASCII)

        def redact(
            text: object,
            pattern: re.Pattern[str] = pattern,
            replacement: str = redaction.replacement,
        ) -> object:
            # A function replacement is taken literally (no backslash references).
            return pattern.sub(lambda _match: replacement, text) if isinstance(text, str) else text

        # The regular expression runs inside SQLite, so the change stays one set-based
        # UPDATE that touches only the records whose text really changes.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.create_function("pv_redact", 1, redact, deterministic=True)
        column = messages.c[redaction.field]
        for chunk in _chunks(keys):
            result = conn.execute(
                sa.update(messages)
                .where(
                    messages.c.message_id.in_(chunk),
                    column.is_not(None),
                    func.pv_redact(column) != column,
                )
                .values({redaction.field: func.pv_redact(column)})
                .returning(messages.c.message_id)
            )
            changed.update(result.scalars())
    return len(changed)
