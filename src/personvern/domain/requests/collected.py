"""What a request found about its subject, and what Art. 15 tells the subject about it.

The engine collects, per dataset, the records (and files) that belong to the subject
into :class:`CollectedData`. Everything the answer says besides the copy of the data
(Art. 15(1)-(2): purposes with their legal basis, categories, recipients, retention,
sources, transfer safeguards, the rights and the complaint) is derived here from the
data map, *restricted to what was actually found*: a subject with no call recordings
reads nothing about call recordings. The wording of the privacy notice is reused
(:func:`personvern.domain.notice.build_notice_content`) and filtered, so the answer
and the notice never say different things about the same purpose or rule. The answer
names one controller and complaint route, those of the subject's relationship
(:mod:`~personvern.domain.requests.answer_profile`), and opens with an overview per
dataset: how many records, why we hold them and for how long.

A record found only because a free-text field mentions the subject (a ticket someone
else wrote) shows only the text that mentions them: the rest of that record is the
other person's data (Art. 15(4)).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from personvern.domain.datamap import (
    Controller,
    DataField,
    DataMap,
    Dataset,
    RetentionRule,
    Source,
    System,
)
from personvern.domain.errors import DomainError
from personvern.domain.legal_basis import LegalBasis
from personvern.domain.localized_names import (
    category_name,
    country_name,
    dataset_label,
    localized,
    system_label,
)
from personvern.domain.notice import (
    AuthorityEntry,
    CategoryEntry,
    ContactEntry,
    ControllerEntry,
    PurposeEntry,
    RecipientEntry,
    RecipientGroup,
    RetentionEntry,
    TransferEntry,
    build_notice_content,
)
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.records import ExportedFile, Record
from personvern.domain.requests.identity import SubjectIdentity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.taxonomy import Taxonomy, fides_taxonomy
from personvern.domain.transfers import is_third_country
from personvern.errors import ErrorKind

if TYPE_CHECKING:
    from personvern.domain.requests.answer_profile import AnswerProfile

#: Art. 20(1)(a): portability covers processing based on consent or on a contract.
PORTABLE_BASES = frozenset({LegalBasis.CONSENT, LegalBasis.CONTRACT})
#: Art. 20 covers data the subject provided; observed activity counts as provided (WP242).
PORTABLE_SOURCES = frozenset({Source.PROVIDED, Source.OBSERVED})


class UnknownDatasetError(DomainError):
    """Collected data names a system or dataset the data map does not declare."""

    kind = ErrorKind.FAILED
    title = "Collected data does not match the data map"


@dataclass(frozen=True)
class CollectedDataset:
    """The records and files one dataset holds about the subject."""

    system: str
    dataset: str
    records: tuple[Record, ...]
    files: tuple[ExportedFile, ...] = ()
    #: Why the records are kept despite an erasure (a legal hold and its reference).
    kept_reason: str | None = None

    @property
    def key(self) -> str:
        """``system.dataset``, as retention rules name datasets."""
        return f"{self.system}.{self.dataset}"

    def __bool__(self) -> bool:
        return bool(self.records or self.files)


@dataclass(frozen=True)
class CollectedData:
    """Everything one request collected about its subject, as the engine hands it over."""

    request_id: str
    request_type: RequestType
    #: The language asked for, or decided when collecting; answers are written in it when
    #: the data map declares it (see :mod:`~personvern.domain.requests.answer_profile`).
    language: str
    received_at: datetime
    identities: tuple[SubjectIdentity, ...]
    datasets: tuple[CollectedDataset, ...]
    #: Keys of data-map recipients known to have received the subject's data.
    recipients_notified: tuple[str, ...] = ()
    #: The answer's language, sender and complaint route as decided when collecting
    #: (None: decided from ``language`` and the records by whoever writes the answer).
    profile: AnswerProfile | None = None

    @property
    def found_anything(self) -> bool:
        """Whether any dataset holds a record or file about the subject."""
        return any(self.datasets)


@dataclass(frozen=True)
class FoundDataset:
    """A collected dataset together with its declaration in the data map."""

    system: System
    dataset: Dataset
    collected: CollectedDataset


@dataclass(frozen=True)
class SourceEntry:
    """Categories found that the subject did not give us, by where they came from."""

    #: "observed", "derived" or "third_party" (Source value), for templates to branch on.
    source: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class DatasetOverview:
    """One line of the answer's summary: what we hold, how much, why and for how long."""

    system: str
    dataset: str
    label: str
    system_label: str
    #: Records about the subject (a file with its description counts once).
    records: int
    purposes: tuple[str, ...]
    #: "3 år etter at avtalen er avsluttet", one per retention rule that applies.
    retention: tuple[str, ...]


@dataclass(frozen=True)
class AccessContent:
    """What an access answer says besides the copy, in one language (Art. 15(1)-(2))."""

    lang: str
    organization: str
    #: The controller the subject has their relationship with, who sends the answer.
    controller: ControllerEntry
    controllers: tuple[ControllerEntry, ...]
    contact: ContactEntry
    dpo: ContactEntry | None
    found_anything: bool
    purposes: tuple[PurposeEntry, ...]
    categories: tuple[CategoryEntry, ...]
    sources: tuple[SourceEntry, ...]
    recipient_groups: tuple[RecipientGroup, ...]
    transfers: tuple[TransferEntry, ...]
    retention: tuple[RetentionEntry, ...]
    #: What systems tell people before collecting (e.g. "this call is recorded").
    collection_notices: tuple[str, ...]
    has_consent: bool
    has_legitimate_interests: bool
    has_direct_marketing: bool
    supervisory_authority: AuthorityEntry
    rights_guidance_url: str
    overview: tuple[DatasetOverview, ...] = ()

    @property
    def record_count(self) -> int:
        """How many records we hold about the subject, all datasets together."""
        return sum(item.records for item in self.overview)

    @property
    def system_count(self) -> int:
        """In how many systems the records are."""
        return len({item.system for item in self.overview})


def resolve(datamap: DataMap, collected: CollectedDataset) -> FoundDataset:
    """The data-map declaration of a collected dataset; refuses one the map does not know."""
    system = datamap.system(collected.system)
    dataset = (
        next((d for d in system.datasets if d.name == collected.dataset), None) if system else None
    )
    if system is None or dataset is None:
        raise UnknownDatasetError(
            f"the request collected '{collected.key}', which the data map does not declare",
            hint="the engine and the data map disagree; reload the data map and run again",
        )
    return FoundDataset(system, dataset, collected)


def found_datasets(datamap: DataMap, collected: CollectedData) -> tuple[FoundDataset, ...]:
    """The non-empty collected datasets in data-map order (systems, then their datasets)."""
    resolved = [resolve(datamap, c) for c in collected.datasets if c]
    order = {
        f"{s.key}.{d.name}": index
        for index, (s, d) in enumerate((s, d) for s in datamap.systems for d in s.datasets)
    }
    return tuple(sorted(resolved, key=lambda found: order[found.collected.key]))


def in_reading_order(found: Iterable[FoundDataset]) -> tuple[FoundDataset, ...]:
    """Datasets of people first (their key is an identity), then the rest in data-map order."""
    # An answer reads from who you are (the customer record) to what you did.
    items = list(found)
    return tuple(
        sorted(
            items,
            key=lambda item: not any(f.primary_key and f.identity for f in item.dataset.fields),
        )
    )


def is_mention(dataset: Dataset, record: Record) -> bool:
    """Whether the record was found only because free text in it mentions the subject."""
    if not record.matched_fields:
        return False
    free_text = {f.name for f in dataset.fields if f.free_text}
    return record.matched_fields <= free_text


def visible_fields(dataset: Dataset, record: Record) -> tuple[DataField, ...]:
    """The fields of ``record`` the subject may see: all, those shown, or the key and mention.

    The key of a record that only mentions the subject (a ticket number) is the company's
    reference, not the other person's data, and lets the subject point at the record
    when they ask for a correction or an erasure. A record of a person belonging to the
    subject (a business customer's contact) shows what the data map's ``belongs_to``
    says (``Record.shown_fields``).
    """
    if record.shown_fields is not None:
        # Another person's record the data map shows the subject in part (belongs_to).
        return tuple(f for f in dataset.fields if f.name in record.shown_fields)
    if is_mention(dataset, record):
        return tuple(f for f in dataset.fields if f.primary_key or f.name in record.matched_fields)
    return tuple(dataset.fields)


def found_fields(found: FoundDataset) -> tuple[DataField, ...]:
    """Declared fields holding a value in at least one record the subject may see."""
    present: set[str] = set()
    for record in found.collected.records:
        present.update(
            f.name
            for f in visible_fields(found.dataset, record)
            if record.values.get(f.name) not in (None, "")
        )
    return tuple(f for f in found.dataset.fields if f.name in present)


def portability_fields(datamap: DataMap, system: str, dataset: str) -> tuple[DataField, ...]:
    """Art. 20 scope: fields provided or observed and processed on consent or contract."""
    declared = resolve(datamap, CollectedDataset(system, dataset, ())).dataset
    return tuple(f for f in declared.fields if _portable(datamap, f))


def _portable(datamap: DataMap, field: DataField) -> bool:
    if field.source not in PORTABLE_SOURCES:
        return False
    # Any one purpose on consent or contract is enough: that processing is what Art. 20 covers.
    bases = (p.legal_basis for p in map(datamap.purpose, field.purposes) if p is not None)
    return any(basis in PORTABLE_BASES for basis in bases)


@dataclass(frozen=True)
class _Use:
    """One category found, the purposes it was found serving, and where it came from."""

    category: str
    purposes: tuple[str, ...]
    source: Source


def _uses(found: Iterable[FoundDataset]) -> Iterator[_Use]:
    for item in found:
        files = item.dataset.files
        if files is not None and (item.collected.files or item.collected.records):
            # A file's content (a recorded call) comes from the person, as in the notice.
            yield _Use(files.content_category, tuple(files.content_purposes), Source.PROVIDED)
        for field in found_fields(item):
            if field.category is not None:
                yield _Use(field.category, tuple(field.purposes), field.source)


def _overlaps(category: str, others: Iterable[str]) -> bool:
    """Whether ``category`` is, contains or lies within any of ``others`` (dotted keys)."""
    return any(
        category == other or category.startswith(f"{other}.") or other.startswith(f"{category}.")
        for other in others
    )


def build_access_content(
    datamap: DataMap,
    collected: CollectedData,
    lang: str,
    taxonomy: Taxonomy | None = None,
    *,
    profile: AnswerProfile | None = None,
) -> AccessContent:
    """Art. 15(1)-(2) for this subject in ``lang``: the notice restricted to what was found."""
    # The controller and the complaint route are the profile's: given, decided when
    # collecting, or else decided here from what was collected.
    profile = profile or collected.profile
    if profile is None:
        # Imported here: answer_profile reads collected datasets with this module's rules.
        from personvern.domain.requests.answer_profile import decide_answer_profile

        profile = decide_answer_profile(datamap, lang, collected.datasets)
    notice = build_notice_content(datamap, lang, taxonomy)
    tax = effective_taxonomy(datamap, taxonomy or fides_taxonomy())
    found = found_datasets(datamap, collected)
    uses = list(_uses(found))
    purpose_keys = {p for use in uses for p in use.purposes}
    category_keys = list(dict.fromkeys(use.category for use in uses))

    purposes = tuple(p for p in notice.purposes if p.key in purpose_keys)
    purpose_names = {p.key: p.name for p in purposes}
    categories = tuple(
        CategoryEntry(
            key=category,
            name=category_name(datamap, tax, category, lang),
            purposes=tuple(
                purpose_names[p.key]
                for p in purposes
                if any(p.key in use.purposes for use in uses if use.category == category)
            ),
        )
        for category in category_keys
    )
    sources = tuple(
        SourceEntry(
            source=source.value,
            categories=tuple(
                dict.fromkeys(
                    category_name(datamap, tax, use.category, lang)
                    for use in uses
                    if use.source is source
                )
            ),
        )
        for source in (Source.OBSERVED, Source.DERIVED, Source.THIRD_PARTY)
        if any(use.source is source for use in uses)
    )

    notified = set(collected.recipients_notified)
    recipients = [
        r
        for r in datamap.recipients
        if r.key in notified
        or (set(r.purposes) & purpose_keys and _overlaps_any(r.categories, category_keys))
    ]
    groups: dict[str, list[RecipientEntry]] = {}
    for r in recipients:
        groups.setdefault(localized(r.recipient_category, lang), []).append(
            RecipientEntry(
                name=r.name,
                role=r.role.value,
                country=country_name(r.country, lang),
                country_code=r.country,
                third_country=is_third_country(r.country),
            )
        )
    third_country = {r.name for r in recipients if is_third_country(r.country)}
    # The notice words each safeguard; the answer names those of the recipients it lists.
    transfers = tuple(t for t in notice.transfers if t.recipient in third_country)

    dataset_keys = {item.collected.key for item in found}
    # notice.retention is built rule by rule from datamap.retention, in the same order.
    applying = [
        (rule, _retention_for_subject(datamap, rule.dataset, entry, lang))
        for rule, entry in zip(datamap.retention, notice.retention, strict=True)
        if rule.dataset in dataset_keys
        or (rule.category is not None and _overlaps(rule.category, category_keys))
    ]
    found_systems = {item.system.key for item in found}
    controller = _controller_entry(profile.controller, lang)
    authority = profile.supervisory_authority
    organization = datamap.organization
    bases = {p.legal_basis_key for p in purposes}
    return AccessContent(
        lang=lang,
        organization=notice.organization,
        controller=controller,
        controllers=(controller,),
        contact=_contact_for(profile.controller, notice.contact),
        dpo=notice.dpo,
        found_anything=bool(found),
        purposes=purposes,
        categories=categories,
        sources=sources,
        recipient_groups=tuple(
            RecipientGroup(name, tuple(items)) for name, items in groups.items()
        ),
        transfers=transfers,
        retention=tuple(entry for _rule, entry in applying),
        collection_notices=tuple(
            localized(s.collection_notice, lang)
            for s in datamap.systems
            if s.collection_notice and s.key in found_systems
        ),
        has_consent=LegalBasis.CONSENT.value in bases,
        has_legitimate_interests=LegalBasis.LEGITIMATE_INTERESTS.value in bases,
        has_direct_marketing=any(
            p.data_use.startswith("marketing") for p in datamap.purposes if p.key in purpose_keys
        ),
        supervisory_authority=AuthorityEntry(
            name=authority.name,
            url=authority.url,
            address=authority.address or "",
            country=country_name(authority.country, lang),
        ),
        rights_guidance_url=authority.rights_guidance_url
        or (
            organization.rights_guidance_url or ""
            if authority == organization.supervisory_authority
            else ""
        ),
        overview=tuple(
            _overview(item, purpose_names, applying, lang) for item in in_reading_order(found)
        ),
    )


def _controller_entry(controller: Controller, lang: str) -> ControllerEntry:
    return ControllerEntry(
        name=controller.name,
        organization_number=controller.organization_number,
        address=controller.address,
        country=country_name(controller.country, lang),
        email=controller.email,
        phone=controller.phone,
    )


def _contact_for(controller: Controller, organization: ContactEntry) -> ContactEntry:
    """The controller's own address and phone when it has them, else the organization's."""
    if controller.email is None and controller.phone is None:
        return organization
    return ContactEntry(controller.name, controller.email, controller.phone, controller.address)


def _retention_for_subject(
    datamap: DataMap, dataset: str | None, entry: RetentionEntry, lang: str
) -> RetentionEntry:
    """The notice's rule, naming the dataset as the subject reads it rather than the system."""
    if dataset is None:
        return entry
    system_key, _, name = dataset.partition(".")
    system = datamap.system(system_key)
    declared = next((d for d in system.datasets if d.name == name), None) if system else None
    if system is None or declared is None:
        return entry
    label = f"{dataset_label(declared, lang)} ({system_label(system, lang)})"
    return replace(entry, system=label)


def _overview(
    item: FoundDataset,
    purpose_names: dict[str, str],
    applying: list[tuple[RetentionRule, RetentionEntry]],
    lang: str,
) -> DatasetOverview:
    uses = list(_uses([item]))
    keys = {p for use in uses for p in use.purposes}
    categories = [use.category for use in uses]
    retention = tuple(
        dict.fromkeys(
            f"{entry.period} {entry.trigger}"
            for rule, entry in applying
            if rule.dataset == item.collected.key
            or (rule.dataset is None and rule.category and _overlaps(rule.category, categories))
        )
    )
    collected = item.collected
    return DatasetOverview(
        system=item.system.key,
        dataset=item.dataset.name,
        label=dataset_label(item.dataset, lang),
        system_label=system_label(item.system, lang),
        records=max(len(collected.records), len(collected.files)),
        purposes=tuple(name for key, name in purpose_names.items() if key in keys),
        retention=retention,
    )


def _overlaps_any(categories: Iterable[str], found: Iterable[str]) -> bool:
    found = list(found)
    return any(_overlaps(category, found) for category in categories)
