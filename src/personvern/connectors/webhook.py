"""Any other system, reached through a small signed HTTP contract (docs/webhook-contract.md).

A company plugs in a system personvern has no connector for (a mail tenant, a SaaS
tool, an in-house service) by serving five JSON endpoints under one base URL:
``check``, ``locate``, ``erase``, ``rectify`` and, for datasets with files, ``files``
and ``files/content``; ``retention`` when the data map has retention rules on it.
Every request and every response is signed with HMAC-SHA256
over a timestamp, a request id, the direction, the operation and the body, with a
secret both sides share; a response is thereby bound to the request it answers.

The other side is treated as hostile: responses must be signed, fresh, of bounded
size and exactly of the documented shape, or the call fails with
ConnectorResponseError; values of fields the data map does not declare are dropped
(and counted) rather than stored. Failures that retrying may cure (refused
connection, timeout, 5xx, 429) raise ConnectorUnavailableError, so the request waits.

Only the standard library speaks HTTP here (``urllib.request``): httpx is a
development dependency of personvern, and one synchronous POST per call needs
nothing more. Redirects are never followed: a signed call goes where it was sent.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import secrets
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, BinaryIO, Literal, TypeVar, cast
from urllib.parse import urlsplit

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
    field_validator,
)

from personvern.connectors.base import ConnectorBase
from personvern.connectors.port import (
    ConnectorError,
    ConnectorNotConfiguredError,
    ConnectorResponseError,
    ConnectorUnavailableError,
    Criteria,
    ErasureOutcome,
    ErasureStep,
    ExportedFile,
    Key,
    Pseudonymiser,
    Record,
    declared_dataset,
    primary_key_field,
)
from personvern.domain.datamap import Dataset, ErasureStrategy, IdentityKind, System, SystemKind
from personvern.domain.identities.email import address_spellings, canonical_email_or_none
from personvern.domain.identities.kinds import exact_lookup
from personvern.domain.identities.mentions import mention_pattern
from personvern.domain.records import MASK

#: Version tag at the start of every signed message; a new contract gets a new tag.
CONTRACT = "personvern-webhook-v1"
TIMESTAMP_HEADER = "X-Personvern-Timestamp"
REQUEST_ID_HEADER = "X-Personvern-Request-Id"
SIGNATURE_HEADER = "X-Personvern-Signature"
#: Either side refuses a message whose timestamp is further than this from its clock.
MAX_CLOCK_SKEW_SECONDS = 300
#: More records than this for one subject in one dataset is refused, never truncated.
MAX_RECORDS = 10_000
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
MIN_SECRET_BYTES = 16
#: Downloaded files stay in memory up to this size, then move to a temporary file.
_SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK = 64 * 1024
_LOOPBACK_NAMES = frozenset({"localhost"})

Direction = Literal["request", "response"]


def signing_prefix(direction: Direction, operation: str, timestamp: str, request_id: str) -> bytes:
    """The bytes signed before the body: contract, direction, operation, timestamp, id."""
    return f"{CONTRACT}.{direction}.{operation}.{timestamp}.{request_id}.".encode()


def sign(
    secret: bytes,
    direction: Direction,
    operation: str,
    timestamp: str,
    request_id: str,
    body: bytes,
) -> str:
    """The X-Personvern-Signature value of one message: ``sha256=<hex>``."""
    mac = hmac.new(secret, signing_prefix(direction, operation, timestamp, request_id), "sha256")
    mac.update(body)
    return f"sha256={mac.hexdigest()}"


# -- the wire format of responses ----------------------------------------------------


class _Wire(BaseModel):
    # Strict: "1" is not 1, true is not 1, an unknown key is an error, NaN is not a number.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


_WireKey = (
    Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
    | Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
)
_Scalar = StrictStr | StrictInt | StrictFloat | StrictBool | None
_Count = Annotated[StrictInt, Field(ge=0)]
# A bare file name: no folders, no control characters (checked again for "." and "..").
_FileName = Annotated[StrictStr, StringConstraints(pattern=r"^[^/\\\x00-\x1f\x7f]{1,255}$")]


class _WireRecord(_Wire):
    key: _WireKey
    values: dict[StrictStr, _Scalar | list[_Scalar]]
    matched_fields: list[StrictStr] | None = None


class _LocateResponse(_Wire):
    records: list[_WireRecord] = Field(max_length=MAX_RECORDS)


class _WireOutcome(_Wire):
    dataset: StrictStr
    deleted: _Count
    updated: _Count
    redacted: _Count


class _EraseResponse(_Wire):
    outcomes: list[_WireOutcome] = Field(max_length=1000)


class _RectifyResponse(_Wire):
    changed: _Count


class _CheckResponse(_Wire):
    status: Literal["ok"]
    datasets: list[StrictStr] | None = Field(default=None, max_length=1000)


class _WireFile(_Wire):
    key: _WireKey
    name: _FileName
    size: _Count

    @field_validator("name")
    @classmethod
    def _not_a_folder(cls, value: str) -> str:
        if value in {".", ".."}:
            raise ValueError("a file name, not a folder")
        return value


class _FilesResponse(_Wire):
    files: list[_WireFile] = Field(max_length=MAX_RECORDS)


class RetentionCounts(_Wire):
    """The answer to a retention instruction (docs/webhook-contract.md, ``retention``)."""

    #: Records of the dataset, and of those the rule governs (its condition).
    total: _Count
    in_scope: _Count
    #: Records due before this call's changes, and past the rule but kept (``keep``).
    due: _Count
    held: _Count
    #: The trigger day of the oldest due record.
    oldest_due: date | None = None
    #: Records this call deleted or anonymised (0 for a dry run).
    changed: _Count


_Model = TypeVar("_Model", bound=_Wire)


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def _encode(payload: Mapping[str, Any]) -> bytes:
    # Compact and sorted: the signature covers these exact bytes, and logs of two
    # identical calls look identical.
    return json.dumps(
        payload,
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    ).encode("utf-8")


def _sorted_keys(keys: Sequence[Key] | frozenset[Key]) -> list[Key]:
    return sorted(set(keys), key=lambda k: (isinstance(k, str), str(k)))


@functools.lru_cache(maxsize=64)
def _pattern(needles: frozenset[str]) -> re.Pattern[str]:
    # Built once per question, not once per record the system returns.
    return mention_pattern(needles)


def _spelled_fields(ds: Dataset) -> dict[str, IdentityKind]:
    """Phone and national id fields: asked for in every spelling, compared canonical."""
    return {
        f.name: f.identity
        for f in ds.fields
        if f.identity is IdentityKind.PHONE_NUMBER or f.identity is IdentityKind.NATIONAL_ID
    }


def _email_spellings(values: frozenset[Key]) -> frozenset[Key]:
    """Every spelling of the canonical addresses the system may keep (A-label, NFD).

    The system compares without case, as the contract asks; the answer is confirmed
    with the canonical comparison (see ``_matched``).
    """
    canonical = (canonical_email_or_none(v) for v in values)
    return frozenset(s for c in canonical if c is not None for s in address_spellings(c))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turns every redirect into an HTTPError: a signed call goes only where it was sent."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Verifier:
    """Checks a response's signature over its body, fed in chunks as it arrives."""

    def __init__(self, mac: hmac.HMAC, expected: str) -> None:
        self.mac = mac
        self.expected = expected

    def update(self, chunk: bytes) -> None:
        self.mac.update(chunk)

    def valid(self) -> bool:
        return hmac.compare_digest(f"sha256={self.mac.hexdigest()}", self.expected)


class WebhookConnector(ConnectorBase):
    """A ``webhook`` system: the company's own endpoint implementing the signed contract."""

    def __init__(
        self,
        system: System,
        url: str,
        secret: bytes,
        *,
        timeout: float = 10.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_file_bytes: int = MAX_FILE_BYTES,
        allow_plain_http: bool = False,
    ) -> None:
        if system.kind is not SystemKind.WEBHOOK:
            raise ValueError(f"{system.key} is a {system.kind.value} system, not webhook")
        self.system = system
        self._base, self._where = self._check_url(system, url, allow_plain_http)
        if len(secret) < MIN_SECRET_BYTES:
            raise ConnectorNotConfiguredError(
                f"{system.name}: the webhook signing secret is shorter than "
                f"{MIN_SECRET_BYTES} bytes",
                hint="share a random secret of 32 bytes or more, e.g. `openssl rand -hex 32`",
            )
        self._secret = secret
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.max_file_bytes = max_file_bytes
        self._opener = urllib.request.build_opener(_NoRedirect())
        #: HTTP calls made (the engine adds them to its statement count).
        self.statements_issued = 0
        #: Values of fields the data map does not declare, dropped from responses.
        self.dropped_fields = 0
        #: Records the system returned that match nothing personvern asked for (ignored).
        self.unmatched_records = 0

    @staticmethod
    def _check_url(system: System, url: str, allow_plain_http: bool) -> tuple[str, str]:
        parts = urlsplit(url.strip())
        problem = None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "is not an http(s) URL"
        elif parts.username or parts.password:
            problem = "carries credentials; the shared secret is what authenticates"
        elif parts.query or parts.fragment:
            problem = "has a query or fragment; give the base URL the endpoints hang under"
        elif parts.scheme == "http" and not allow_plain_http and not _is_loopback(parts.hostname):
            # The signature proves who wrote a message, but personal data crosses this
            # link in the clear without TLS.
            problem = "uses plain http to another machine; personal data needs https"
        if problem is not None:
            raise ConnectorNotConfiguredError(
                f"{system.name}: the webhook URL in {system.connection_env} {problem}",
                hint="e.g. https://privacy-bridge.internal.example/personvern",
            )
        port = parts.port or (443 if parts.scheme == "https" else 80)
        base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        return base, f"{parts.scheme}://{parts.hostname}:{port}"

    # -- the port ----------------------------------------------------------------------

    def check(self) -> None:
        """Ask the system whether it is up; also checks that signatures agree both ways."""
        answer = self._call("check", {}, _CheckResponse)
        if answer.datasets is not None:
            missing = sorted({d.name for d in self.system.datasets} - set(answer.datasets))
            if missing:
                raise ConnectorResponseError(
                    f"{self.system.name} does not serve the dataset(s) {', '.join(missing)} "
                    "the data map declares"
                )

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """Every record of ``dataset`` matching ``criteria``, in one signed call."""
        ds = self._dataset(dataset)
        self._check_fields(ds, [*criteria.exact, *criteria.mentions])
        if not criteria:
            return []
        emails = {f.name for f in ds.fields if f.identity is IdentityKind.EMAIL}
        spelled = _spelled_fields(ds)
        payload = {
            "dataset": dataset,
            "exact": {
                f: _sorted_keys(
                    _email_spellings(v)
                    if f in emails
                    else exact_lookup(spelled[f], v).spellings
                    if f in spelled
                    else v
                )
                for f, v in criteria.exact.items()
                if v
            },
            "mentions": {f: sorted(v) for f, v in criteria.mentions.items() if v},
            "exclude": _sorted_keys(criteria.exclude),
        }
        answer = self._call("locate", payload, _LocateResponse)
        declared = [f.name for f in ds.fields]
        asked = {*payload["exact"], *payload["mentions"]}
        excluded = {str(k) for k in criteria.exclude}
        seen: set[str] = set()
        records: list[Record] = []
        for wire in answer.records:
            # Messages never quote keys, names or values: they may be personal data.
            if str(wire.key) in seen:
                raise ConnectorResponseError(
                    f"{self.system.name} returned a record of {dataset} twice"
                )
            seen.add(str(wire.key))
            if str(wire.key) in excluded:
                continue  # asked not to return it: found in an earlier round
            self.dropped_fields += len(set(wire.values) - set(declared))
            values = {name: wire.values.get(name) for name in declared}
            # The system's word is not enough: a record counts only for the fields
            # personvern itself sees matching, so a careless or hostile system cannot
            # hand over (or get erased) a record that matches nothing.
            matched = self._matched(ds, criteria, values)
            if wire.matched_fields is not None:
                matched &= frozenset(wire.matched_fields) & asked
            if not matched:
                self.unmatched_records += 1
                continue
            records.append(Record(key=wire.key, values=values, matched_fields=matched))
        return records

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """The files behind the given records, listed in one call and fetched when opened."""
        ds = self._dataset(dataset)
        if ds.files is None or not keys:
            return
        media_type = ds.files.media_type
        wanted = {str(k) for k in keys}
        answer = self._call(
            "files", {"dataset": dataset, "keys": _sorted_keys(keys)}, _FilesResponse
        )
        # The whole listing is checked before the first file is handed over.
        files: list[ExportedFile] = []
        for wire in answer.files:
            if str(wire.key) not in wanted:
                raise ConnectorResponseError(
                    f"{self.system.name} offered a file of a record not asked for"
                )
            if wire.size > self.max_file_bytes:
                raise ConnectorResponseError(
                    f"{self.system.name} offered a file of {wire.size} bytes, "
                    f"more than the {self.max_file_bytes} accepted"
                )
            files.append(
                ExportedFile(
                    dataset=dataset,
                    key=wire.key,
                    name=wire.name,
                    media_type=media_type,
                    size=wire.size,
                    open=self._file_opener(dataset, wire),
                )
            )
        yield from files

    def erase(
        self, steps: Sequence[ErasureStep], pseudonymise: Pseudonymiser
    ) -> list[ErasureOutcome]:
        """Send the non-empty steps in one call; the system applies them in order."""
        wire_steps = []
        for step in steps:
            ds = self._dataset(step.dataset)
            self._check_step(ds, step)
            if step:
                wire_steps.append(self._wire_step(step, pseudonymise))
        if not wire_steps:
            return [ErasureOutcome(step.dataset) for step in steps]
        answer = self._call("erase", {"steps": wire_steps}, _EraseResponse)
        sent = [step for step in steps if step]
        if len(answer.outcomes) != len(sent):
            raise ConnectorResponseError(
                f"{self.system.name} answered {len(answer.outcomes)} outcomes "
                f"for {len(sent)} erasure steps"
            )
        by_step: dict[int, ErasureOutcome] = {}
        for step, wire in zip(sent, answer.outcomes, strict=True):
            self._check_outcome(step, wire)
            by_step[id(step)] = ErasureOutcome(
                step.dataset, wire.deleted, wire.updated, wire.redacted
            )
        return [by_step.get(id(step), ErasureOutcome(step.dataset)) for step in steps]

    def rectify(self, dataset: str, keys: Sequence[Key], changes: Mapping[str, Any]) -> int:
        """Ask the system to set the given fields of the given records; how many changed."""
        ds = self._dataset(dataset)
        self._check_fields(ds, list(changes))
        if self._primary_key(ds) in changes:
            raise ConnectorError(f"{self.system.key}.{dataset}: the primary key cannot be changed")
        if not keys or not changes:
            return 0
        payload = {"dataset": dataset, "keys": _sorted_keys(keys), "changes": dict(changes)}
        answer = self._call("rectify", payload, _RectifyResponse)
        if answer.changed > len(set(keys)):
            raise ConnectorResponseError(
                f"{self.system.name} reports {answer.changed} records changed "
                f"of {len(set(keys))} asked"
            )
        return answer.changed

    def retention(self, instruction: Mapping[str, Any]) -> RetentionCounts:
        """Send one retention instruction (a rule's cutoff on a dataset); its counts, checked."""
        dataset = str(instruction.get("dataset"))
        ds = self._dataset(dataset)
        named = [str(instruction.get("trigger_field")), *dict(instruction.get("anonymise") or {})]
        condition = instruction.get("condition")
        if isinstance(condition, Mapping):
            named.append(str(condition.get("field")))
        self._check_fields(ds, named)
        answer = self._call("retention", instruction, RetentionCounts)
        limit = int(instruction.get("limit") or 0)
        bound = 0 if instruction.get("dry_run") else min(limit, answer.due)
        if (
            answer.in_scope > answer.total
            or answer.due + answer.held > answer.in_scope
            or answer.changed > bound
            or (answer.due == 0) is not (answer.oldest_due is None)
        ):
            raise ConnectorResponseError(
                f"{self.system.name} answered retention counts that do not fit "
                f"(total {answer.total}, in scope {answer.in_scope}, due {answer.due}, "
                f"held {answer.held}, changed {answer.changed} of at most {bound})"
            )
        return answer

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    # -- the data map --------------------------------------------------------------------

    def _dataset(self, name: str) -> Dataset:
        return declared_dataset(self.system, name)

    def _primary_key(self, ds: Dataset) -> str:
        return primary_key_field(self.system, ds).name

    def _check_fields(self, ds: Dataset, names: Sequence[str]) -> None:
        unknown = sorted(set(names) - {f.name for f in ds.fields})
        if unknown:
            # An undeclared field would be sent to, and perhaps matched by, a system
            # that the data map does not say holds it.
            raise ConnectorError(
                f"{self.system.key}.{ds.name} declares no field {', '.join(unknown)}"
            )

    def _check_step(self, ds: Dataset, step: ErasureStep) -> None:
        self._check_fields(ds, [*step.update_fields, *(r.field for r in step.redactions)])
        if self._primary_key(ds) in step.update_fields:
            raise ConnectorError(f"{self.system.key}.{ds.name}: the primary key cannot be erased")
        if ErasureStrategy.DELETE_ROW in step.update_fields.values():
            raise ConnectorError(
                f"{self.system.key}.{ds.name}: whole records are erased through delete, "
                "not update_fields"
            )

    @staticmethod
    def _matched(ds: Dataset, criteria: Criteria, values: Mapping[str, Any]) -> frozenset[str]:
        """Which fields match, when the system did not say (same rules as the file store)."""
        emails = {f.name for f in ds.fields if f.identity is IdentityKind.EMAIL}
        spelled = _spelled_fields(ds)
        matched: set[str] = set()
        for name, wanted in criteria.exact.items():
            value = values.get(name)
            if value is None or isinstance(value, list):
                continue
            if name in spelled:
                # A phone number or national id counts in any spelling that reads, in
                # canonical form, as one asked for ("971 55 337" as +4797155337).
                if exact_lookup(spelled[name], wanted).matches(value):
                    matched.add(name)
            elif name in emails:
                # The system may compare more loosely (Unicode case folding takes "ſ"
                # for "s"); only the canonical form says whose address it is.
                canonical = canonical_email_or_none(value)
                if canonical is not None and canonical in {
                    canonical_email_or_none(w) for w in wanted
                }:
                    matched.add(name)
            elif str(value) in {str(w) for w in wanted}:
                matched.add(name)
        for name, needles in criteria.mentions.items():
            value = values.get(name)
            if isinstance(value, str) and _pattern(frozenset(needles)).search(value):
                matched.add(name)
        return frozenset(matched)

    def _wire_step(self, step: ErasureStep, pseudonymise: Pseudonymiser) -> dict[str, Any]:
        # personvern computes the replacement values, so the system needs no key and
        # every connector erases a field the same way.
        updates = []
        fields = {n: s for n, s in step.update_fields.items() if s is not ErasureStrategy.KEEP}
        deleted = {str(k) for k in step.delete}
        if fields:
            for key in _sorted_keys([k for k in step.update if str(k) not in deleted]):
                values: dict[str, Any] = {}
                for name, strategy in fields.items():
                    if strategy is ErasureStrategy.SET_NULL:
                        values[name] = None
                    elif strategy is ErasureStrategy.MASK:
                        values[name] = MASK
                    else:
                        values[name] = pseudonymise(step.dataset, name, key)
                updates.append({"key": key, "set": values})
        return {
            "dataset": step.dataset,
            "delete": _sorted_keys(step.delete),
            "update": updates,
            "redactions": [
                {
                    "field": r.field,
                    "keys": _sorted_keys(r.keys),
                    "needles": sorted(set(r.needles)),
                    "replacement": r.replacement,
                }
                for r in step.redactions
            ],
        }

    def _check_outcome(self, step: ErasureStep, wire: _WireOutcome) -> None:
        redactable = len({str(k) for r in step.redactions for k in r.keys})
        updatable = len(set(step.update)) if step.update_fields else 0
        if (
            wire.dataset != step.dataset
            or wire.deleted > len(set(step.delete))
            or wire.updated > updatable
            or wire.redacted > redactable
        ):
            raise ConnectorResponseError(
                f"{self.system.name} answered an erasure outcome for {step.dataset} "
                "that does not fit the step sent"
            )

    # -- HTTP ------------------------------------------------------------------------------

    def _call(self, operation: str, payload: Mapping[str, Any], model: type[_Model]) -> _Model:
        """POST a signed JSON body; return the verified, validated JSON answer."""
        deadline = time.monotonic() + self.timeout
        response, verifier = self._send(operation, _encode(payload))
        with response:
            content_type = response.headers.get("Content-Type", "")
            if content_type.split(";", 1)[0].strip().lower() != "application/json":
                raise self._broken(operation, "did not answer with application/json")
            body = self._read(operation, response, verifier, self.max_response_bytes, deadline)
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            # Locations and messages only: the input values may be personal data.
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "the body"
            raise self._broken(
                operation, f"answered outside the contract ({where}: {first['msg']})"
            ) from None

    def _file_opener(self, dataset: str, wire: _WireFile) -> Callable[[], BinaryIO]:
        def open_file() -> BinaryIO:
            payload = {"dataset": dataset, "key": wire.key, "name": wire.name}
            response, verifier = self._send("files/content", _encode(payload))
            spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
            try:
                with response:
                    for chunk in self._chunks("files/content", response, wire.size, None):
                        verifier.update(chunk)
                        spool.write(chunk)
                if spool.tell() != wire.size:
                    raise self._broken("files/content", "sent a file cut short")
                if not verifier.valid():
                    raise self._broken("files/content", "sent a file with an invalid signature")
            except BaseException:
                spool.close()
                raise
            spool.seek(0)
            return cast(BinaryIO, spool)

        return open_file

    def _send(self, operation: str, body: bytes) -> tuple[http.client.HTTPResponse, _Verifier]:
        request_id = secrets.token_hex(16)
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 (the scheme was checked: http or https)
            f"{self._base}/{operation}",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "personvern-webhook/1",
                TIMESTAMP_HEADER: timestamp,
                REQUEST_ID_HEADER: request_id,
                SIGNATURE_HEADER: sign(
                    self._secret, "request", operation, timestamp, request_id, body
                ),
            },
        )
        self.statements_issued += 1
        try:
            response = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise self._status_error(operation, exc.code) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._unavailable(operation, exc) from None
        if not isinstance(response, http.client.HTTPResponse):
            response.close()
            raise self._broken(operation, "answered in an unexpected way")
        try:
            if response.status != 200:
                raise self._status_error(operation, response.status)
            verifier = self._verifier(operation, request_id, response)
        except BaseException:
            response.close()
            raise
        return response, verifier

    def _verifier(
        self, operation: str, request_id: str, response: http.client.HTTPResponse
    ) -> _Verifier:
        """Check the response's timestamp now and prepare to check its signature."""
        timestamp = response.headers.get(TIMESTAMP_HEADER, "")
        signature = response.headers.get(SIGNATURE_HEADER, "")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise self._broken(operation, "answered without a valid signature timestamp")
        if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise self._broken(operation, "answered with a stale or future timestamp")
        if not signature.startswith("sha256="):
            raise self._broken(operation, "answered without a signature")
        prefix = signing_prefix("response", operation, timestamp, request_id)
        return _Verifier(hmac.new(self._secret, prefix, hashlib.sha256), signature)

    def _read(
        self,
        operation: str,
        response: http.client.HTTPResponse,
        verifier: _Verifier,
        limit: int,
        deadline: float,
    ) -> bytes:
        chunks: list[bytes] = []
        for chunk in self._chunks(operation, response, limit, deadline):
            verifier.update(chunk)
            chunks.append(chunk)
        if not verifier.valid():
            raise self._broken(operation, "answered with an invalid signature")
        return b"".join(chunks)

    def _chunks(
        self,
        operation: str,
        response: http.client.HTTPResponse,
        limit: int,
        deadline: float | None,
    ) -> Iterator[bytes]:
        """The body as it arrives, refused beyond ``limit`` bytes or past ``deadline``."""
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise self._broken(operation, f"answered more than {limit} bytes")
        total = 0
        while True:
            # The socket timeout bounds each read; the deadline bounds a server that
            # trickles a byte at a time and would otherwise never time out.
            if deadline is not None and time.monotonic() > deadline:
                raise ConnectorUnavailableError(
                    self.system.key,
                    f"POST /{operation} at {self._where} took longer than {self.timeout:g} s",
                )
            try:
                chunk = response.read1(_CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise self._unavailable(operation, exc) from None
            if not chunk:
                return
            total += len(chunk)
            if total > limit:
                raise self._broken(operation, f"answered more than {limit} bytes")
            yield chunk

    # -- errors ------------------------------------------------------------------------

    def _broken(self, operation: str, what: str) -> ConnectorResponseError:
        return ConnectorResponseError(
            f"{self.system.name} broke the webhook contract: POST /{operation} {what}",
            hint="see docs/webhook-contract.md; the request stops until this is fixed",
        )

    def _unavailable(self, operation: str, exc: BaseException) -> ConnectorUnavailableError:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            what = f"timed out after {self.timeout:g} s"
        elif isinstance(reason, ConnectionRefusedError):
            what = "refused the connection"
        else:
            what = f"failed ({type(reason).__name__}: {reason})"
        return ConnectorUnavailableError(
            self.system.key, f"POST /{operation} at {self._where} {what}"
        )

    def _status_error(self, operation: str, status: int) -> ConnectorError:
        # Server errors and "slow down" are worth waiting for; anything else means the
        # two sides disagree, which waiting will not mend.
        if status >= 500 or status in (408, 425, 429):
            return ConnectorUnavailableError(
                self.system.key, f"POST /{operation} at {self._where} answered HTTP {status}"
            )
        if 300 <= status < 400:
            return self._broken(operation, f"answered a redirect (HTTP {status}), not followed")
        return self._broken(operation, f"answered HTTP {status}")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
