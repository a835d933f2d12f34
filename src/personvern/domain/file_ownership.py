"""Whom a file in a file store belongs to: its sidecar, its path, or a row naming it.

A ``files`` dataset lists its files by a glob (``files.pattern``). Each file's record,
the values a request matches, hands over and erases by, comes from one owner rule:

* no ``owner`` (the default): the JSON sidecar beside the file (``sidecar``, ``.json``)
  holds the dataset's fields;
* ``owner: {path: "id-documents/{customer_id}/{document_id}.pdf"}``: the file's path
  under the store's root holds them. Each ``{field}`` placeholder names a declared
  field and takes the text at its place in the path (one folder or file name at most,
  never a ``/``). The dataset declares the placeholders and nothing else, but
  ``modified_at``; ``references`` on a placeholder connect the file to its person the
  way any reference does (``customer_id`` references the customer table);
* ``owner: {column: telephony.calls.recording_path}``: a field of a dataset in another
  system holds each file's path under the root. The dataset declares one field, its
  primary key, which is that path (and may declare ``modified_at``); the file belongs
  to whoever the row naming it belongs to: the request's walk goes from the row to the
  file, an erasure of the row erases the file, an access request hands it over.

With an owner rule, a dataset may declare the field ``modified_at``: the file's
modification time (UTC), which a retention rule or legal hold may run from.

A file the pattern lists that its owner rule does not attribute to anyone (no usable
sidecar, a path the owner path does not match, a path no row names) is
*unattributed*: nobody can say whose it is. See personvern.domain.requests.file_coverage
for when that leaves a request unsure it covered everything.

:func:`file_owner_findings` checks the declarations for ``personvern check``. Errors:

    PersonvernError
    └── DomainError
        └── InvalidOwnerPathError   an owner path that cannot be read
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

from personvern.domain.datamap import DataMap, Dataset, ErasureStrategy, FileSet, System, SystemKind
from personvern.domain.errors import DomainError
from personvern.domain.findings import DocPath, Finding

#: The field that holds a file's modification time when its owner is its path or a row.
MODIFIED_AT = "modified_at"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: "system.dataset.field", as a field's ``references`` to another system is written.
_COLUMN = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+")
_WILDCARDS = frozenset("*?[]")


class InvalidOwnerPathError(DomainError):
    """An owner path that cannot be read (the message says what to write instead)."""


class OwnerRule(StrEnum):
    """How a files dataset says whom each file belongs to."""

    SIDECAR = "sidecar"
    PATH = "path"
    COLUMN = "column"


def owner_rule(fileset: FileSet) -> OwnerRule:
    """The owner rule a file set declares (the sidecar when it declares none)."""
    owner = fileset.owner
    if owner is None:
        return OwnerRule.SIDECAR
    return OwnerRule.PATH if owner.path is not None else OwnerRule.COLUMN


def owner_column(fileset: FileSet | None) -> tuple[str, str] | None:
    """("system.dataset", "field") of the column naming the files, if that is the rule."""
    if fileset is None or fileset.owner is None or fileset.owner.column is None:
        return None
    dataset, _, field = fileset.owner.column.rpartition(".")
    return dataset, field


def file_owner_references(dataset: Dataset) -> dict[str, str]:
    """The edge from the rows naming a dataset's files to the files: {primary key: column}."""
    column = dataset.files.owner.column if dataset.files and dataset.files.owner else None
    key = next((f.name for f in dataset.fields if f.primary_key), None)
    if column is None or key is None:
        return {}
    return {key: column}


@dataclass(frozen=True)
class Placeholder:
    """A ``{field}`` in an owner path."""

    name: str


#: A part of one folder or file name in an owner path: literal text or a placeholder.
Piece = str | Placeholder


@dataclass(frozen=True)
class OwnerPath:
    """A path with ``{field}`` placeholders: which files it matches, and their fields' values.

    Matching is exact and case-sensitive, segment by segment. Where a name holds two
    placeholders (``{year}-{number}.wav``), the earlier takes the shortest text that
    lets the rest match, so a value there must not contain the text that follows it.
    """

    template: str
    segments: tuple[tuple[Piece, ...], ...]
    _regex: re.Pattern[str]

    @classmethod
    def parse(cls, template: str) -> OwnerPath:
        """Read an owner path, or raise InvalidOwnerPathError saying what is wrong."""
        if not template.strip():
            raise InvalidOwnerPathError(
                "owner.path is empty", hint='e.g. path: "documents/{customer_id}/{document_id}.pdf"'
            )
        if template.startswith("/"):
            raise InvalidOwnerPathError(
                f"owner.path {template!r} must be relative to the store's root",
                hint="drop the leading '/'",
            )
        segments: list[tuple[Piece, ...]] = []
        seen: set[str] = set()
        for text in template.split("/"):
            if text in {"", ".", ".."}:
                raise InvalidOwnerPathError(
                    f"owner.path {template!r} has an empty, '.' or '..' folder",
                    hint="write each folder by its name, separated by single '/'",
                )
            pieces = _pieces(template, text)
            for piece in pieces:
                if isinstance(piece, Placeholder):
                    if piece.name in seen:
                        raise InvalidOwnerPathError(
                            f"owner.path {template!r} names {{{piece.name}}} twice",
                            hint="name each field once; a path holds one value per field",
                        )
                    seen.add(piece.name)
            segments.append(pieces)
        if not seen:
            raise InvalidOwnerPathError(
                f"owner.path {template!r} names no field, so it attributes no file to anyone",
                hint="write the fields the path holds as placeholders, e.g. {customer_id}",
            )
        regex = "/".join(
            "".join(
                f"(?P<{piece.name}>[^/]+?)" if isinstance(piece, Placeholder) else re.escape(piece)
                for piece in pieces
            )
            for pieces in segments
        )
        return cls(template, tuple(segments), re.compile(regex, re.DOTALL))

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the path names, in order."""
        return tuple(
            piece.name
            for pieces in self.segments
            for piece in pieces
            if isinstance(piece, Placeholder)
        )

    def match(self, path: str) -> dict[str, str] | None:
        """The fields' values in ``path`` (relative to the root, '/'-separated), or None."""
        found = self._regex.fullmatch(path)
        return dict(found.groupdict()) if found is not None else None

    def format(self, values: Mapping[str, object]) -> str:
        """The path of the file with these values; ValueError if one cannot be in a path."""
        names: list[str] = []
        for pieces in self.segments:
            parts: list[str] = []
            for piece in pieces:
                if isinstance(piece, str):
                    parts.append(piece)
                    continue
                text = str(values[piece.name])
                if not text or "/" in text:
                    raise ValueError(f"{piece.name} {text!r} cannot be part of a path")
                parts.append(text)
            name = "".join(parts)
            if name in {".", ".."}:
                raise ValueError(f"{name!r} cannot be a folder of a path")
            names.append(name)
        return "/".join(names)

    def may_match(self, pattern: str) -> bool:
        """False when no file the glob ``pattern`` lists can match this path.

        A cautious test: it compares the folders written out in full in both, and the
        file suffix, and says True whenever it cannot tell.
        """
        globs = pattern.split("/")
        if "**" not in globs and len(globs) != len(self.segments):
            return False
        for glob, pieces in zip(globs, self.segments, strict=False):
            if glob == "**":
                break
            if len(pieces) == 1 and isinstance(pieces[0], str) and not fnmatchcase(pieces[0], glob):
                return False
        last_glob, last = globs[-1], self.segments[-1]
        wanted = re.fullmatch(r"\*([^*?\[\]]*)", last_glob)
        if wanted is None or not isinstance(last[-1], str):
            return True
        suffix, tail = wanted.group(1), last[-1]
        if len(last) == 1:
            return tail.endswith(suffix)
        # A placeholder before the literal end may supply the rest of the suffix.
        return tail.endswith(suffix) or suffix.endswith(tail)


def _pieces(template: str, text: str) -> tuple[Piece, ...]:
    """One folder or file name of an owner path as literal text and placeholders."""
    pieces: list[Piece] = []
    literal = ""
    position = 0
    while position < len(text):
        char = text[position]
        if char == "{":
            end = text.find("}", position)
            name = text[position + 1 : end] if end >= 0 else ""
            if end < 0 or not _NAME.fullmatch(name):
                raise InvalidOwnerPathError(
                    f"owner.path {template!r} has a '{{' that does not open a {{field}}",
                    hint="a placeholder is a field's name in braces, e.g. {customer_id}; "
                    "braces cannot be part of a name",
                )
            if literal:
                pieces.append(literal)
                literal = ""
            elif pieces and isinstance(pieces[-1], Placeholder):
                raise InvalidOwnerPathError(
                    f"owner.path {template!r} puts {{{pieces[-1].name}}} and {{{name}}} side "
                    "by side, so nothing says where one ends",
                    hint="separate them by text that is in neither value, e.g. {year}-{number}",
                )
            pieces.append(Placeholder(name))
            position = end + 1
            continue
        if char == "}":
            raise InvalidOwnerPathError(
                f"owner.path {template!r} has a '}}' that closes no {{field}}",
                hint="braces cannot be part of a name",
            )
        if char in _WILDCARDS:
            raise InvalidOwnerPathError(
                f"owner.path {template!r} has the wildcard {char!r}",
                hint="the pattern lists the files; the owner path names their fields, "
                "as literal text and {field} placeholders",
            )
        literal += char
        position += 1
    if literal:
        pieces.append(literal)
    return tuple(pieces)


# -- checking the data map --------------------------------------------------------------


def file_owner_findings(datamap: DataMap) -> Iterator[Finding]:
    """Problems with the files datasets' ``owner`` declarations, each at its key."""
    systems = {system.key: system for system in datamap.systems}
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            if dataset.files is None or dataset.files.owner is None:
                continue
            path: DocPath = ("systems", si, "datasets", di)
            yield from _owner_findings(system, dataset, path, systems)


def _owner_findings(
    system: System, dataset: Dataset, path: DocPath, systems: Mapping[str, System]
) -> Iterator[Finding]:
    assert dataset.files is not None
    assert dataset.files.owner is not None
    owner = dataset.files.owner
    files_path: DocPath = (*path, "files")
    where = f"{system.key}.{dataset.name}"
    if system.kind is not SystemKind.FILES:
        yield Finding(
            (*files_path, "owner"),
            f"{where}: files.owner is for files systems; {system.key} is a "
            f"{system.kind.value} system, which answers for its own files",
            hint="drop owner:",
        )
        return
    if "sidecar" in dataset.files.model_fields_set:
        yield Finding(
            (*files_path, "sidecar"),
            f"{where} declares both files.owner and files.sidecar: a file belongs to "
            "whom its sidecar says, or to whom its owner rule says, not both",
            hint="drop sidecar: (files with an owner rule have none)",
        )
    if (owner.path is None) == (owner.column is None):
        yield Finding(
            (*files_path, "owner"),
            f"{where}: files.owner needs exactly one of path or column",
            hint='owner: {path: "folder/{customer_id}/{document_id}.pdf"} or '
            "owner: {column: system.dataset.field}",
        )
        return
    yield from _owned_fields(dataset, path, where)
    if owner.path is not None:
        yield from _path_findings(dataset, owner.path, path, where)
    else:
        assert owner.column is not None
        yield from _column_findings(
            system, dataset, owner.column, path, (*files_path, "owner", "column"), systems
        )


def _owned_fields(dataset: Dataset, path: DocPath, where: str) -> Iterator[Finding]:
    """What fields of a file owned by its path or a row cannot be: nothing is stored in them."""
    if not any(f.primary_key for f in dataset.fields):
        yield Finding(
            (*path, "fields"),
            f"{where} has no primary_key, so requests never find its files",
            hint="mark the field that identifies each file primary_key: true",
        )
    for fi, field in enumerate(dataset.fields):
        fp: DocPath = (*path, "fields", fi)
        if field.free_text:
            yield Finding(
                (*fp, "free_text"),
                f"{where}.{field.name} cannot be free_text: a file owned by its path or a "
                "row stores no text of its own to search or redact",
                hint="drop free_text: true",
            )
        if field.erasure not in {None, ErasureStrategy.DELETE_ROW}:
            yield Finding(
                (*fp, "erasure"),
                f"{where}.{field.name}: a file owned by its path or a row is erased by "
                f"deleting it; erasure: {field.erasure.value if field.erasure else ''} "
                "cannot apply",
                hint="drop erasure:",
            )
    if dataset.restriction is not None:
        yield Finding(
            (*path, "restriction"),
            f"{where}: files owned by their path or a row cannot be marked restricted "
            "(personvern writes nothing beside them)",
            hint="drop restriction: (a restriction request then lists a manual step)",
        )


def _path_findings(dataset: Dataset, template: str, path: DocPath, where: str) -> Iterator[Finding]:
    assert dataset.files is not None
    at: DocPath = (*path, "files", "owner", "path")
    try:
        owner_path = OwnerPath.parse(template)
    except InvalidOwnerPathError as exc:
        yield Finding(at, f"{where}: {exc.message}", hint=exc.hint)
        return
    declared = [f.name for f in dataset.fields]
    placeholders = owner_path.fields
    for name in placeholders:
        if name == MODIFIED_AT:
            yield Finding(
                at,
                f"{where}: {{{MODIFIED_AT}}} is the file's modification time, not part of its path",
                hint="name the placeholder otherwise",
            )
        elif name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            yield Finding(
                at,
                f"{where}: owner.path names {{{name}}}, which is not a field of {where}",
                hint=f"did you mean {{{close[0]}}}?"
                if close
                else f"declare it under fields, e.g. {{name: {name}, label: ...}}",
            )
    for fi, field in enumerate(dataset.fields):
        if field.name not in placeholders and field.name != MODIFIED_AT:
            yield Finding(
                (*path, "fields", fi, "name"),
                f"{where}.{field.name} is not in owner.path: a file owned by its path has "
                f"no values but those in its path (and {MODIFIED_AT})",
                hint=f"put {{{field.name}}} into owner.path, or drop the field",
            )
    key = next((f.name for f in dataset.fields if f.primary_key), None)
    if key is not None and key not in placeholders:
        yield Finding(
            at,
            f"{where}: owner.path must hold the primary key {{{key}}}: it is each file's key",
            hint=f"e.g. .../{{{key}}}.pdf",
        )
    if not owner_path.may_match(dataset.files.pattern):
        yield Finding(
            at,
            f"{where}: no file the pattern {dataset.files.pattern!r} lists can match "
            f"owner.path {template!r}",
            hint="write the same folders and file suffix in both",
        )


def _column_findings(
    system: System,
    dataset: Dataset,
    column: str,
    path: DocPath,
    at: DocPath,
    systems: Mapping[str, System],
) -> Iterator[Finding]:
    where = f"{system.key}.{dataset.name}"
    parts = column.split(".")
    if not _COLUMN.fullmatch(column):
        yield Finding(
            at,
            f"{where}: owner.column {column!r} must be system.dataset.field",
            hint="e.g. column: telephony.calls.recording_path",
        )
        return
    target_system, target_dataset, target_field = parts
    if target_system == system.key:
        yield Finding(
            at,
            f"{where}: owner.column {column} is in {system.key} itself; it must name the "
            "dataset of another system whose rows name the files",
            hint="name the column of the system that keeps a row per file",
        )
        return
    owner_system = systems.get(target_system)
    if owner_system is None:
        close = difflib.get_close_matches(target_system, list(systems), n=1)
        yield Finding(
            at,
            f"{where}: owner.column {column} names system '{target_system}', which does not exist",
            hint=f"did you mean '{close[0]}'?" if close else "declare the system first",
        )
        return
    owner_dataset = next((d for d in owner_system.datasets if d.name == target_dataset), None)
    if owner_dataset is None:
        close = difflib.get_close_matches(
            target_dataset, [d.name for d in owner_system.datasets], n=1
        )
        yield Finding(
            at,
            f"{where}: owner.column {column} names dataset "
            f"'{target_system}.{target_dataset}', which does not exist",
            hint=f"did you mean '{close[0]}'?" if close else None,
        )
        return
    names = [f.name for f in owner_dataset.fields]
    if target_field not in names:
        close = difflib.get_close_matches(target_field, names, n=1)
        yield Finding(
            at,
            f"{where}: owner.column {column} names field '{target_field}', which "
            f"{target_system}.{target_dataset} does not have",
            hint=f"did you mean '{close[0]}'?" if close else None,
        )
        return
    if not any(f.primary_key for f in owner_dataset.fields):
        yield Finding(
            at,
            f"{where}: {target_system}.{target_dataset} has no primary_key, so requests "
            "never find the rows naming the files",
            hint=f"mark the key of {target_system}.{target_dataset} primary_key: true",
        )
    for fi, field in enumerate(dataset.fields):
        fp: DocPath = (*path, "fields", fi)
        if field.primary_key:
            if field.name == MODIFIED_AT:
                yield Finding(
                    (*fp, "name"),
                    f"{where}: the primary key is each file's path; {MODIFIED_AT} is its "
                    "modification time",
                    hint="name the key field otherwise, e.g. path",
                )
            elif field.references is not None and field.references != column:
                yield Finding(
                    (*fp, "references"),
                    f"{where}.{field.name} is the file's path, named by {column}; it cannot "
                    f"reference {field.references}",
                    hint=f"drop references: (or write references: {column})",
                )
        elif field.name != MODIFIED_AT:
            yield Finding(
                (*fp, "name"),
                f"{where}.{field.name}: a file owned by a column has no values but its path "
                f"(the primary key) and {MODIFIED_AT}",
                hint="drop the field; the row naming the file holds its details",
            )
