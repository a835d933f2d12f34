"""The export zip: the subject's data as JSON and CSV per dataset, plus their files.

Layout (the same for access and portability; only what is included differs)::

    README.txt                     what is in the archive, in the subject's language
    schema.json                    every file and field: name, category, description
    export/<system>/<dataset>.json a list of objects, one per record
    export/<system>/<dataset>.csv  the same, UTF-8 with a header row
    files/<system>/<name>          recordings and documents, as they are

Access (Art. 15(3)) exports every declared field; portability (Art. 20) only the fields
the subject provided or that were observed from them and are processed on consent or
contract (:func:`~personvern.domain.requests.collected.portability_fields`), and no
record that was found only because someone else's text mentions the subject. The
recordings go in both, as the issue's portability scope says.

The archive is written entry by entry, record by record and file chunk by chunk, so a
subject with many records or long recordings never needs them all in memory. Order and
timestamps are fixed, so the same data gives the same bytes (and the same SHA-256).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import IO, Any

from personvern.connectors.port import ExportedFile, Key, Record
from personvern.domain.datamap import DataField, DataMap
from personvern.domain.localized_names import (
    category_name,
    country_name,
    dataset_label,
    field_label,
    localized,
    system_label,
)
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.requests.collected import (
    CollectedData,
    FoundDataset,
    found_datasets,
    is_mention,
    portability_fields,
    visible_fields,
)
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.taxonomy import fides_taxonomy
from personvern.responses.rendering import answer_profile
from personvern.responses.values import (
    csv_value,
    format_datetime,
    json_value,
    zone_for_country,
)
from personvern.templating import environment

SCHEMA_FORMAT = "personvern-export"
SCHEMA_VERSION = 1
_CHUNK = 1024 * 1024
# Zip's DOS timestamps start in 1980; anything earlier cannot be stored.
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)
_UNSAFE = re.compile(r"[^\w.\- ]+")


class ExportScope(StrEnum):
    """Which right the export answers: a copy of everything, or the portable part."""

    ACCESS = "access"
    PORTABILITY = "portability"

    @classmethod
    def for_request(cls, request_type: RequestType) -> ExportScope:
        """Portability for portability requests; a full copy for everything else."""
        return cls.PORTABILITY if handler_for(request_type).portable_only else cls.ACCESS


@dataclass(frozen=True)
class ExportFile:
    """One file of a dataset with its place in the archive."""

    dataset: FoundDataset
    file: ExportedFile
    #: ``files/<system>/<name>``, unique within the archive.
    path: str


@dataclass(frozen=True)
class ExportTable:
    """One dataset as the archive holds it: its fields and the records to write."""

    dataset: FoundDataset
    fields: tuple[DataField, ...]
    records: tuple[Record, ...]

    @property
    def json_path(self) -> str:
        """Where the JSON of the dataset is in the archive."""
        return f"export/{self.dataset.system.key}/{self.dataset.dataset.name}.json"

    @property
    def csv_path(self) -> str:
        """Where the CSV of the dataset is in the archive."""
        return f"export/{self.dataset.system.key}/{self.dataset.dataset.name}.csv"


def record_order(record: Record) -> tuple[int, int, str]:
    """Sort key for records: numeric keys in numeric order, then text keys."""
    return _key_order(record.key)


def _key_order(key: Key) -> tuple[int, int, str]:
    return (0, key, "") if isinstance(key, int) else (1, 0, key)


def export_files(found: Sequence[FoundDataset]) -> list[ExportFile]:
    """Every file to hand over, in a fixed order, each with a unique safe archive path."""
    taken: set[str] = set()
    entries: list[ExportFile] = []
    for item in found:
        files = sorted(item.collected.files, key=lambda f: (*_key_order(f.key), f.name))
        for file in files:
            path = _unique(f"files/{item.system.key}", _safe_name(file), file.key, taken)
            taken.add(path)
            entries.append(ExportFile(item, file, path))
    return entries


def _safe_name(file: ExportedFile) -> str:
    # Only the last part of the name, and only ordinary characters: a name such as
    # "../../etc/passwd" from a sidecar must not escape the folder when unpacked.
    name = PurePosixPath(file.name.replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip(" .")
    return name or f"file-{file.key}"


def _unique(folder: str, name: str, key: Key, taken: set[str]) -> str:
    path = f"{folder}/{name}"
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    counter = 0
    while path in taken:
        counter += 1
        extra = f"{key}" if counter == 1 else f"{key}-{counter}"
        path = f"{folder}/{stem}-{extra}{dot}{suffix}"
    return path


def export_tables(
    datamap: DataMap, found: Sequence[FoundDataset], scope: ExportScope
) -> list[ExportTable]:
    """The datasets to write as JSON and CSV, with the fields and records in scope."""
    tables: list[ExportTable] = []
    for item in found:
        records = sorted(item.collected.records, key=record_order)
        if scope is ExportScope.PORTABILITY:
            fields = portability_fields(datamap, item.system.key, item.dataset.name)
            # Another person's ticket that mentions the subject was not provided by them.
            records = [r for r in records if not is_mention(item.dataset, r)]
        else:
            fields = tuple(item.dataset.fields)
        if fields and records:
            tables.append(ExportTable(item, fields, tuple(records)))
    return tables


def record_object(table: ExportTable, record: Record) -> dict[str, Any]:
    """One record as a JSON object of the table's fields it may show, in declared order."""
    shown = {f.name for f in visible_fields(table.dataset.dataset, record)}
    return {f.name: json_value(record.values.get(f.name)) for f in table.fields if f.name in shown}


def write_export(
    target: Path | IO[bytes],
    datamap: DataMap,
    collected: CollectedData,
    *,
    scope: ExportScope | None = None,
    generated_at: datetime,
) -> None:
    """Write the export zip for ``collected`` to ``target`` (a path or a binary stream)."""
    scope = scope or ExportScope.for_request(collected.request_type)
    profile = answer_profile(datamap, collected)
    lang = profile.language
    found = found_datasets(datamap, collected)
    tables = export_tables(datamap, found, scope)
    files = export_files(found)
    stamp = _zip_timestamp(generated_at)

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        schema = _schema(datamap, collected, scope, lang, generated_at, found, tables, files)
        controller = profile.controller
        authority = profile.supervisory_authority
        readme = (
            environment()
            .get_template(f"export/{lang}/README.txt.j2")
            .render(
                organization=datamap.organization.name,
                sender=controller.name,
                controller=controller,
                controller_country=country_name(controller.country, lang),
                authority=authority,
                request_id=collected.request_id,
                scope=scope.value,
                generated_at=format_datetime(
                    generated_at, lang, zone_for_country(controller.country)
                ),
                tables=[
                    (
                        table,
                        dataset_label(table.dataset.dataset, lang),
                        system_label(table.dataset.system, lang),
                    )
                    for table in tables
                ],
                files=files,
                nothing=not tables and not files,
            )
        )
        _write_bytes(archive, "README.txt", readme.encode("utf-8"), stamp)
        _write_bytes(
            archive,
            "schema.json",
            (json.dumps(schema, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
            stamp,
        )
        for table in tables:
            with _open_text(archive, table.json_path, stamp) as out:
                _write_json(out, table)
            with _open_text(archive, table.csv_path, stamp, newline="") as out:
                _write_csv(out, table)
        for entry in files:
            info = _info(entry.path, stamp, zipfile.ZIP_STORED)
            # Recordings and scans are compressed already; storing them is faster and no larger.
            with (
                entry.file.open() as source,
                archive.open(info, "w", force_zip64=entry.file.size >= (1 << 31) - 1) as sink,
            ):
                shutil.copyfileobj(source, sink, _CHUNK)


def _zip_timestamp(moment: datetime) -> tuple[int, int, int, int, int, int]:
    utc = max(moment.astimezone(UTC), _ZIP_EPOCH)
    return (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)


def _info(
    name: str, stamp: tuple[int, int, int, int, int, int], compression: int
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = compression
    # rw-r--r-- for a regular file, so unpacking gives the same permissions everywhere.
    info.external_attr = 0o100644 << 16
    return info


def _write_bytes(
    archive: zipfile.ZipFile, name: str, data: bytes, stamp: tuple[int, int, int, int, int, int]
) -> None:
    archive.writestr(_info(name, stamp, zipfile.ZIP_DEFLATED), data)


@contextmanager
def _open_text(
    archive: zipfile.ZipFile,
    name: str,
    stamp: tuple[int, int, int, int, int, int],
    newline: str | None = "\n",
) -> Iterator[io.TextIOWrapper]:
    """A text stream into a new archive entry; closing it finishes the entry."""
    raw = archive.open(_info(name, stamp, zipfile.ZIP_DEFLATED), "w")
    with io.TextIOWrapper(raw, encoding="utf-8", newline=newline) as text:
        yield text


def _write_json(out: IO[str], table: ExportTable) -> None:
    out.write("[")
    for index, record in enumerate(table.records):
        out.write(",\n  " if index else "\n  ")
        out.write(json.dumps(record_object(table, record), ensure_ascii=False))
    out.write("\n]\n" if table.records else "]\n")


def _write_csv(out: IO[str], table: ExportTable) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(f.name for f in table.fields)
    for record in table.records:
        shown = {f.name for f in visible_fields(table.dataset.dataset, record)}
        writer.writerow(
            csv_value(record.values.get(f.name)) if f.name in shown else "" for f in table.fields
        )


def _schema(
    datamap: DataMap,
    collected: CollectedData,
    scope: ExportScope,
    lang: str,
    generated_at: datetime,
    found: Sequence[FoundDataset],
    tables: Sequence[ExportTable],
    files: Sequence[ExportFile],
) -> dict[str, Any]:
    taxonomy = effective_taxonomy(datamap, fides_taxonomy())
    by_dataset = {table.dataset.collected.key: table for table in tables}

    def field_doc(field: DataField) -> dict[str, Any]:
        return {
            "name": field.name,
            "label": field_label(datamap, taxonomy, field, lang),
            "category": field.category,
            "category_name": category_name(datamap, taxonomy, field.category, lang)
            if field.category
            else None,
            "description": localized(field.description, lang) or None,
            "source": field.source.value,
        }

    datasets: list[dict[str, Any]] = []
    for item in found:
        table = by_dataset.get(item.collected.key)
        own_files = [entry for entry in files if entry.dataset is item]
        if table is None and not own_files:
            continue
        content = item.dataset.files
        datasets.append(
            {
                "system": item.system.key,
                "system_name": system_label(item.system, lang),
                "dataset": item.dataset.name,
                "label": dataset_label(item.dataset, lang),
                "description": localized(item.dataset.description, lang)
                or localized(item.system.description, lang),
                "json": table.json_path if table else None,
                "csv": table.csv_path if table else None,
                "records": len(table.records) if table else 0,
                "fields": [field_doc(f) for f in table.fields] if table else [],
                "files": [
                    {
                        "path": entry.path,
                        "record": entry.file.key,
                        "media_type": entry.file.media_type,
                        "size": entry.file.size,
                        "category": content.content_category if content else None,
                        "category_name": category_name(
                            datamap, taxonomy, content.content_category, lang
                        )
                        if content
                        else None,
                    }
                    for entry in own_files
                ],
            }
        )
    return {
        "format": SCHEMA_FORMAT,
        "version": SCHEMA_VERSION,
        "request_id": collected.request_id,
        "request_type": collected.request_type.value,
        "scope": scope.value,
        "language": lang,
        "generated_at": generated_at.astimezone(UTC).isoformat(timespec="seconds"),
        "encoding": "UTF-8",
        "conventions": {
            "dates": "ISO 8601",
            "decimals": "strings, to keep every digit",
            "binary": "base64",
            "mentions": "records found because their text mentions you hold only that text",
        },
        "datasets": datasets,
    }
