"""The access report (GDPR Art. 15): what we hold about you, why, and a copy of it.

The report is a letter from the controller the subject has their relationship with,
in the subject's language (:mod:`~personvern.domain.requests.answer_profile`). It
opens with a summary a person can take in at a glance (how many records in how many
systems, what they are, why we have them and for how long), then says what Art.
15(1)-(2) lists (derived from the data map for what was found, see
:func:`~personvern.domain.requests.collected.build_access_content`) and gives the
copy of Art. 15(3): one section per dataset, named by its label, with the records as
a table whose columns are the fields' labels, the texts in which the subject is
mentioned, and the files (call recordings, documents) attached in the export.

What only a machine needs stays out of the letter: record keys and references to
other records (``id``, ``customer_id``) and the fields' names in the export go to an
appendix that explains them. A reference to a record shown elsewhere in the report is
given as that record's number there ("Fakturaer nr. 3"). Dates are written the way
the language writes them. National identity numbers are shown masked; the export
holds them in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from personvern.connectors.port import Record
from personvern.domain.datamap import DataField, DataMap, IdentityKind
from personvern.domain.localized_names import (
    category_name,
    country_name,
    dataset_label,
    field_label,
    localized,
    system_label,
)
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.requests.answer_profile import normalise_country
from personvern.domain.requests.collected import (
    AccessContent,
    CollectedData,
    FoundDataset,
    build_access_content,
    found_datasets,
    found_fields,
    in_reading_order,
    is_mention,
)
from personvern.domain.taxonomy import Taxonomy, fides_taxonomy
from personvern.responses.export_archive import ExportFile, export_files, record_order
from personvern.responses.rendering import answer_profile
from personvern.responses.values import (
    display_value,
    format_datetime,
    is_national_id,
    mask_national_id,
    zone_for_country,
)
from personvern.templating import environment

_COUNTRY_CATEGORY = "user.contact.address.country"
#: "nr. 3" / "no. 3": a record's number in the report, for references to it.
_NUMBER = {"nb": "nr.", "en": "no."}
#: Longest text a column is widened for; longer cells wrap.
_WIDEST = 48
#: The narrowest column, in percent of the table's width.
_NARROWEST = 4
#: Characters of the tables' small print on one line of an A4 page, padding included.
_LINE = 92
#: A word longer than this may be broken inside its cell.
_LONGEST_WORD = 16
#: A cell's padding, in characters.
_PADDING = 1.5
#: The longest text one table cell holds (about 20 lines); longer values go on in more rows.
_LONGEST_CELL = 1500


@dataclass(frozen=True)
class ColumnView:
    """A field as a column of the records table."""

    #: The field's name in the store and the export (shown in the appendix only).
    name: str
    label: str
    #: Share of the table's width, in percent (the PDF lays tables out with it).
    width: int


@dataclass(frozen=True)
class RowView:
    """A record as a row: its number in the report and its cells."""

    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CardLine:
    """A field of a record shown as label and value; a long value goes on over more lines."""

    label: str
    text: str


@dataclass(frozen=True)
class CardView:
    """A record shown field by field, for records too wide for a row of the page."""

    number: int
    lines: tuple[CardLine, ...]


@dataclass(frozen=True)
class MentionView:
    """A text in a record of someone else's in which the subject is mentioned."""

    number: int
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
class FieldName:
    """A field's label in the report and its name in the export."""

    label: str
    name: str


@dataclass(frozen=True)
class DatasetView:
    """One system's dataset as the report shows it."""

    anchor: str
    #: "system.dataset", as the export and the data map name it (appendix only).
    key: str
    system_label: str
    label: str
    description: str
    columns: tuple[ColumnView, ...]
    #: The subject's own records, numbered from 1.
    rows: tuple[RowView, ...]
    #: Texts of others' records that mention the subject, numbered after the rows.
    mentions: tuple[MentionView, ...]
    files: tuple[FileView, ...]
    masked_national_id: bool
    #: Width of the number column, in percent.
    number_width: int
    #: How the subject's records are shown: "single" (one record, label and value per
    #: line), "table" (a row per record) or "cards" (label and value per line, record by
    #: record, for records with more fields than a row of the page holds).
    layout: str
    #: The rows as cards, for the "single" and "cards" layouts.
    cards: tuple[CardView, ...]
    #: Keys and references of the records, by their names in the store (appendix).
    key_columns: tuple[str, ...]
    key_rows: tuple[RowView, ...]
    field_names: tuple[FieldName, ...]

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

    @property
    def sender(self) -> str:
        """Who the letter is from: the controller the subject has their relationship with."""
        return self.info.controller.name

    @property
    def has_appendix(self) -> bool:
        """Whether any dataset has keys or field names to explain."""
        return any(d.key_rows or d.field_names for d in self.datasets)


def build_access_report(
    datamap: DataMap,
    collected: CollectedData,
    *,
    generated_at: datetime,
    taxonomy: Taxonomy | None = None,
) -> AccessReport:
    """Compose the report for ``collected`` from its controller, in the subject's language."""
    profile = answer_profile(datamap, collected)
    lang = profile.language
    zone = zone_for_country(profile.controller.country)
    tax = effective_taxonomy(datamap, taxonomy or fides_taxonomy())
    found = in_reading_order(found_datasets(datamap, collected))
    files = export_files(found)
    numbers = _record_numbers(found)
    datasets = tuple(
        _dataset_view(
            _Context(datamap, tax, lang, zone, found, numbers),
            item,
            [e for e in files if e.dataset is item],
        )
        for item in found
    )
    return AccessReport(
        lang=lang,
        request_id=collected.request_id,
        request_type=collected.request_type.value,
        received_at=_moment(collected.received_at, lang, zone),
        generated_at=_moment(generated_at, lang, zone),
        identities=tuple(
            IdentityView(
                kind=i.kind.value,
                value=mask_national_id(i.value) if i.kind is IdentityKind.NATIONAL_ID else i.value,
            )
            for i in collected.identities
        ),
        info=build_access_content(datamap, collected, lang, taxonomy, profile=profile),
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


def _moment(moment: datetime, lang: str, zone: tzinfo) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_datetime(aware, lang, zone)


@dataclass(frozen=True)
class _Context:
    datamap: DataMap
    taxonomy: Taxonomy
    lang: str
    zone: tzinfo
    found: Sequence[FoundDataset]
    #: Per "system.dataset", the report's number of each own record by its key.
    numbers: dict[str, dict[str, int]]


def _own(item: FoundDataset) -> list[Record]:
    return sorted(
        (r for r in item.collected.records if not is_mention(item.dataset, r)), key=record_order
    )


def _record_numbers(found: Sequence[FoundDataset]) -> dict[str, dict[str, int]]:
    return {
        item.collected.key: {str(r.key): n for n, r in enumerate(_own(item), start=1)}
        for item in found
    }


def _is_technical(field: DataField) -> bool:
    """A record key or a reference that is not itself personal data: for the appendix."""
    return (field.primary_key or field.references is not None) and field.category is None


def _reference_target(system: str, reference: str) -> tuple[str, str]:
    """``("system.dataset", field)`` of a reference written as dataset.field or in full."""
    parts = reference.split(".")
    if len(parts) == 2:
        return f"{system}.{parts[0]}", parts[1]
    return f"{parts[0]}.{parts[1]}", parts[2]


def _dataset_view(context: _Context, item: FoundDataset, files: list[ExportFile]) -> DatasetView:
    lang = context.lang
    own = _own(item)
    mentioned = sorted(
        (r for r in item.collected.records if is_mention(item.dataset, r)), key=record_order
    )
    shown = {f.name for f in found_fields(item)}

    def holds_value(field: DataField) -> bool:
        return field.name in shown and any(r.values.get(field.name) not in (None, "") for r in own)

    # Columns: fields holding something in the subject's own records, keys and references
    # left out, except a reference to a record the report numbers among several.
    columns: list[tuple[DataField, str]] = []
    for field in item.dataset.fields:
        if not _is_technical(field) and holds_value(field):
            columns.append((field, field_label(context.datamap, context.taxonomy, field, lang)))
        elif field.references is not None and holds_value(field):
            target = _numbered_target(context, item, field)
            if target is not None:
                columns.append((field, target))

    def cell(field: DataField, record: Record) -> str:
        return _cell(context, item, field, record.values.get(field.name))

    rows = tuple(
        RowView(n, tuple(cell(f, r) for f, _label in columns)) for n, r in enumerate(own, 1)
    )
    technical = [
        f
        for f in item.dataset.fields
        if _is_technical(f) and any(r.values.get(f.name) not in (None, "") for r in own + mentioned)
    ]
    content = item.dataset.files
    headers = [label for _field, label in columns]
    needs = _needs(["Nr.", *headers], [(str(r.number), *r.cells) for r in rows])
    widths = _widths(needs)
    longest = max((len(cell) for row in rows for cell in row.cells), default=0)
    if len(rows) == 1:
        layout = "single"
    elif _fits_as_table(needs) and longest <= _LONGEST_CELL:
        layout = "table"
    else:
        layout = "cards"
    return DatasetView(
        anchor=f"{item.system.key}-{item.dataset.name}",
        key=item.collected.key,
        system_label=system_label(item.system, lang),
        label=dataset_label(item.dataset, lang),
        description=localized(item.dataset.description, lang)
        or localized(item.system.description, lang),
        columns=tuple(
            ColumnView(field.name, label, width)
            for (field, label), width in zip(columns, widths[1:], strict=True)
        ),
        rows=rows,
        mentions=tuple(
            MentionView(
                number=n,
                label=field_label(context.datamap, context.taxonomy, field, lang),
                text=display_value(r.values.get(field.name), lang, context.zone),
            )
            for n, r in enumerate(mentioned, len(own) + 1)
            for field in item.dataset.fields
            if field.name in r.matched_fields and r.values.get(field.name) not in (None, "")
        ),
        files=tuple(
            FileView(
                name=e.path.rsplit("/", 1)[-1],
                export_path=e.path,
                media_type=e.file.media_type,
                size=e.file.size,
                category=category_name(
                    context.datamap, context.taxonomy, content.content_category, lang
                )
                if content
                else "",
            )
            for e in files
        ),
        masked_national_id=any(is_national_id(f) for f, _label in columns),
        number_width=widths[0],
        layout=layout,
        cards=tuple(
            CardView(
                row.number,
                tuple(
                    CardLine(label if index == 0 else "", part)
                    for (_field, label), cell in zip(columns, row.cells, strict=True)
                    for index, part in enumerate(_pieces(cell))
                ),
            )
            for row in rows
        )
        if layout != "table"
        else (),
        key_columns=tuple(f.name for f in technical),
        key_rows=tuple(
            RowView(n, tuple(display_value(r.values.get(f.name), lang) for f in technical))
            for n, r in enumerate([*own, *mentioned], 1)
        )
        if technical
        else (),
        field_names=tuple(
            FieldName(field_label(context.datamap, context.taxonomy, f, lang), f.name)
            for f in item.dataset.fields
            if not _is_technical(f)
        ),
    )


def _numbered_target(context: _Context, item: FoundDataset, field: DataField) -> str | None:
    """The label of the dataset ``field`` refers to, when the report numbers several records."""
    assert field.references is not None
    target, _target_field = _reference_target(item.system.key, field.references)
    if len(context.numbers.get(target, {})) < 2:
        # One record (the subject's own customer record) or none: nothing to point at.
        return None
    declared = next(f for f in context.found if f.collected.key == target)
    return dataset_label(declared.dataset, context.lang)


def _cell(context: _Context, item: FoundDataset, field: DataField, value: object) -> str:
    lang = context.lang
    if value is None or value == "":
        return ""
    if field.references is not None and _is_technical(field):
        # A reference shown as a column points at a record numbered in this report.
        target, target_field = _reference_target(item.system.key, field.references)
        declared = next(f for f in context.found if f.collected.key == target)
        if target_field in {f.name for f in declared.dataset.fields if f.primary_key}:
            number = context.numbers[target].get(str(value))
            return f"{_NUMBER.get(lang, 'no.')} {number}" if number is not None else ""
        return display_value(value, lang, context.zone)
    words = field.value_labels.get(str(value))
    if words:
        return localized(words, lang)
    if field.subject_country or field.category == _COUNTRY_CATEGORY:
        code = normalise_country(value)
        if code is not None and country_name(code, lang) != code:
            return country_name(code, lang)
    text = display_value(value, lang, context.zone)
    return mask_national_id(text) if text and is_national_id(field) else text


def _pieces(text: str) -> list[str]:
    """A value in pieces of at most ``_LONGEST_CELL`` characters, split where a line or word ends.

    A PDF table row cannot run over a page break, so a long text (a ticket, an e-mail)
    goes on in further rows of its own.
    """
    pieces: list[str] = []
    while len(text) > _LONGEST_CELL:
        window = text[:_LONGEST_CELL]
        cut = max(window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > _LONGEST_CELL // 2 else _LONGEST_CELL
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text]


def _needs(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[tuple[float, float]]:
    """Per column, in characters: the least it needs (its longest word) and what it wants."""
    needs: list[tuple[float, float]] = []
    for index, header in enumerate(headers):
        cells = [row[index] for row in rows]
        # Headers are bold, a tenth wider; every cell has padding on both sides.
        header_word = max((len(word) for word in header.split()), default=0) * 1.1
        cell_word = max((len(word) for cell in cells for word in cell.split()), default=1)
        least = min(max(header_word, cell_word), _LONGEST_WORD) + _PADDING
        lengths = sorted(min(len(cell), _WIDEST) for cell in cells) or [0]
        # The 90th percentile: one long value should wrap rather than widen the column.
        typical = lengths[min(len(lengths) - 1, int(len(lengths) * 0.9))] + _PADDING
        needs.append((least, max(least, typical)))
    return needs


def _fits_as_table(needs: Sequence[tuple[float, float]]) -> bool:
    """Whether the records read well as a table: their typical row wraps to two lines at most."""
    return (
        sum(want for _least, want in needs) <= 2 * _LINE
        and sum(least for least, _want in needs) <= _LINE
    )


def _widths(needs: Sequence[tuple[float, float]]) -> list[int]:
    """Column widths in percent of the table.

    Each column first gets room for its longest word (up to ``_LONGEST_WORD``), so that
    short values such as dates and IP addresses are not broken mid-word; what is left of
    a line goes to the columns holding long text, in proportion to how much more they
    would need. Longer words and values wrap inside their cell.
    """
    spare = max(0.0, _LINE - sum(least for least, _ in needs))
    extra_total = sum(want - least for least, want in needs) or 1.0
    chars = [
        least + min(want - least, spare * (want - least) / extra_total) for least, want in needs
    ]
    total = sum(chars)
    widths = [max(_NARROWEST, round(100 * c / total)) for c in chars]
    widths[widths.index(max(widths))] += 100 - sum(widths)
    return widths
