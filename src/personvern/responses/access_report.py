"""The access report (GDPR Art. 15): what we hold about you, why, and a copy of it.

The report puts together, in the subject's language, what Art. 15(1)-(2) lists
(derived from the data map for what was found, see
:func:`~personvern.domain.requests.collected.build_access_content`) and the copy of
Art. 15(3): one section per system and dataset with a table of the records, the texts
in which the subject is mentioned, and the files (call recordings, documents) by name,
attached in the export. National identity numbers are shown masked; the export holds
them in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from personvern.domain.datamap import DataField, DataMap, IdentityKind
from personvern.domain.localized_names import category_name, localized
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.requests.collected import (
    AccessContent,
    CollectedData,
    FoundDataset,
    build_access_content,
    found_datasets,
    found_fields,
    is_mention,
)
from personvern.domain.taxonomy import Taxonomy, fides_taxonomy
from personvern.responses.export_archive import ExportFile, export_files, record_order
from personvern.responses.rendering import answer_language, environment
from personvern.responses.values import display_value, is_national_id, mask_national_id


@dataclass(frozen=True)
class ColumnView:
    """A field as a column of the records table."""

    name: str
    label: str


@dataclass(frozen=True)
class MentionView:
    """A text in a record of someone else's in which the subject is mentioned."""

    label: str
    text: str


@dataclass(frozen=True)
class FileView:
    """A file handed over in the export (a call recording, a scanned document)."""

    name: str
    export_path: str
    media_type: str
    size: int
    category: str


@dataclass(frozen=True)
class DatasetView:
    """One system's dataset as the report shows it."""

    anchor: str
    system: str
    system_name: str
    dataset: str
    description: str
    columns: tuple[ColumnView, ...]
    rows: tuple[tuple[str, ...], ...]
    mentions: tuple[MentionView, ...]
    files: tuple[FileView, ...]
    masked_national_id: bool

    @property
    def count(self) -> int:
        """How many records and files the dataset holds about the subject."""
        return len(self.rows) + len(self.mentions) + len(self.files)


@dataclass(frozen=True)
class IdentityView:
    """An identity the subject was searched for by."""

    kind: str
    value: str


@dataclass(frozen=True)
class AccessReport:
    """Everything the report shows, ready for a template."""

    lang: str
    request_id: str
    request_type: str
    received_at: str
    generated_at: str
    identities: tuple[IdentityView, ...]
    info: AccessContent
    datasets: tuple[DatasetView, ...]


def build_access_report(
    datamap: DataMap,
    collected: CollectedData,
    *,
    generated_at: datetime,
    taxonomy: Taxonomy | None = None,
) -> AccessReport:
    """Compose the report for ``collected`` in the subject's language."""
    lang = answer_language(datamap, collected.language)
    tax = effective_taxonomy(datamap, taxonomy or fides_taxonomy())
    found = found_datasets(datamap, collected)
    files = export_files(found)
    datasets = tuple(
        _dataset_view(datamap, tax, item, lang, [e for e in files if e.dataset is item])
        for item in found
    )
    return AccessReport(
        lang=lang,
        request_id=collected.request_id,
        request_type=collected.request_type.value,
        received_at=_moment(collected.received_at),
        generated_at=_moment(generated_at),
        identities=tuple(
            IdentityView(
                kind=i.kind.value,
                value=mask_national_id(i.value) if i.kind is IdentityKind.NATIONAL_ID else i.value,
            )
            for i in collected.identities
        ),
        info=build_access_content(datamap, collected, lang, taxonomy),
        datasets=datasets,
    )


def render_access_report_html(
    datamap: DataMap, collected: CollectedData, *, generated_at: datetime
) -> str:
    """The access report as a standalone HTML page."""
    report = build_access_report(datamap, collected, generated_at=generated_at)
    return render_report(report, pdf=False)


def render_report(report: AccessReport, *, pdf: bool) -> str:
    """HTML of a composed report: a full page, or the body the PDF renderer lays out."""
    name = "body.html.j2" if pdf else "access_report.html.j2"
    template = environment().get_template(f"access_report/{report.lang}/{name}")
    return template.render(report=report, info=report.info, pdf=pdf)


def _moment(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _label(datamap: DataMap, taxonomy: Taxonomy, field: DataField, lang: str) -> str:
    if field.description:
        return localized(field.description, lang)
    if field.category:
        return category_name(datamap, taxonomy, field.category, lang)
    return field.name


def _dataset_view(
    datamap: DataMap,
    taxonomy: Taxonomy,
    item: FoundDataset,
    lang: str,
    files: list[ExportFile],
) -> DatasetView:
    own = [r for r in item.collected.records if not is_mention(item.dataset, r)]
    mentioned = [r for r in item.collected.records if is_mention(item.dataset, r)]
    shown = {f.name for f in found_fields(item)}
    # Columns only for fields that hold something in the subject's own records.
    columns = [
        f
        for f in item.dataset.fields
        if f.name in shown and any(r.values.get(f.name) not in (None, "") for r in own)
    ]
    fields_by_name = {f.name: f for f in item.dataset.fields}

    def cell(field: DataField, value: object) -> str:
        text = display_value(value, lang)
        return mask_national_id(text) if text and is_national_id(field) else text

    content = item.dataset.files
    return DatasetView(
        anchor=f"{item.system.key}-{item.dataset.name}",
        system=item.system.key,
        system_name=item.system.name,
        dataset=item.dataset.name,
        description=localized(item.dataset.description, lang)
        or localized(item.system.description, lang),
        columns=tuple(ColumnView(f.name, _label(datamap, taxonomy, f, lang)) for f in columns),
        rows=tuple(
            tuple(cell(f, r.values.get(f.name)) for f in columns)
            for r in sorted(own, key=record_order)
        ),
        mentions=tuple(
            MentionView(
                label=_label(datamap, taxonomy, fields_by_name[name], lang),
                text=display_value(r.values.get(name), lang),
            )
            for r in sorted(mentioned, key=record_order)
            for name in sorted(r.matched_fields)
            if r.values.get(name) not in (None, "")
        ),
        files=tuple(
            FileView(
                name=e.path.rsplit("/", 1)[-1],
                export_path=e.path,
                media_type=e.file.media_type,
                size=e.file.size,
                category=category_name(datamap, taxonomy, content.content_category, lang)
                if content
                else "",
            )
            for e in files
        ),
        masked_national_id=any(is_national_id(f) for f in columns),
    )
